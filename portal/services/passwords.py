"""What makes a password acceptable: long enough (a passphrase is welcome), not among the
twenty thousand most common ones (the list Django ships, BSD licence, in portal/data), not
the user's own email."""
import gzip
from functools import lru_cache
from importlib import resources

from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 1000


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    data = resources.files("portal").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problem(password: str, email: str = "") -> str | None:
    """Why the password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)s characters. A few unrelated words make a good passphrase.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(n)s characters.", n=MAX_LENGTH)
    folded = password.casefold()
    if folded.strip() in _common() or len(set(folded)) < 4:
        return _("This password is too common or too easy to guess. Choose another.")
    local = email.casefold().partition("@")[0]
    if len(local) >= 4 and local in folded:
        return _("The password must not contain your email address.")
    return None
