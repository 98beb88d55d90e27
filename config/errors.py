"""The error hierarchy services raise; config.api maps each kind to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose. `message` is shown to the user."""

    status_code = 400

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None,
                 details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        # Machine-readable facts behind the refusal, added to the API's error body as they are
        # (e.g. a refused endorse's `unmet_criteria`).
        self.details = details or {}


class InvalidInput(DomainError):
    """Bad input: 400 with field messages."""

    status_code = 400


class NotPermitted(DomainError):
    """The actor may see the object but not do this to it: 403."""

    status_code = 403


class NotFound(DomainError):
    """Absent, or not the caller's to see (another organisation's object): 404."""

    status_code = 404


class WrongState(DomainError):
    """The object's state (or an unmet condition) does not allow this now: 409."""

    status_code = 409


class Unprocessable(DomainError):
    """Well-formed, but cannot be processed as sent (an Idempotency-Key reused on another request): 422."""

    status_code = 422


class TooManyRequests(DomainError):
    """Refused for now because the caller asked too often (a rate counted in the database): 429."""

    status_code = 429
