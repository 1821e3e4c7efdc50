"""The domain: every write and every rule, as plain functions that take the acting user."""


class DomainError(Exception):
    """A rule said no; the message is fit to show the user."""
