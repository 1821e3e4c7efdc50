# The two commands: `make run` (the portal with the demo programme on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations messages clean

# The scheduler (mail, seat caps, rescheduling, reminders) runs beside the development server and stops with it.
run: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) portal demo --if-empty
	$(FLASK) portal scheduler & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port $(PORT)

# Extra pytest options pass through PYTEST_ADDOPTS, e.g. PYTEST_ADDOPTS="-k booking -x" make test
test: $(VENV)/.installed translations
	$(BIN)/pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "portal needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Compile the Swedish catalogue (the .mo files are built, not kept in git).
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d portal/translations --statistics 2>&1 | grep -v '^compiling' || true

# After adding or changing strings: extract them and merge into the Swedish catalogue.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k pgettext:1c,2 -k lazy_pgettext:1c,2 -o portal/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i portal/translations/messages.pot -d portal/translations -w 100

clean:
	rm -rf $(VENV) *.egg-info
