"""The domain: every write and every rule, as plain functions that take the acting user."""


class DomainError(Exception):
    """A rule said no; the message is fit to show the user."""


class InvalidInput(DomainError):
    """Input that breaks a rule, with a message per field (`meetings-1-ends_at` for a meeting's field)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors
