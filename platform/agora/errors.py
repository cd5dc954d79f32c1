"""Domain errors: a refusal that a person should read, with the HTTP status it maps to.

Services raise them; the web layer turns them into an error page with the message (French
in the UI) and the status, after rolling back: nothing is half-written.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(DomainError):
    """The person's role or membership does not allow this."""

    status = 403


class Conflict(DomainError):
    """The thing is not in a state that allows this (a ballot already closed…)."""

    status = 409


class Invalid(DomainError):
    """The data sent cannot be accepted."""

    status = 422


class TooLarge(DomainError):
    """A file over the size the platform accepts."""

    status = 413
