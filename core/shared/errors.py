"""Domain errors. Adapters turn them into problem details or chat messages."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; `code` is a stable machine-readable key."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "invalid_input"


class Forbidden(DomainError):
    code = "forbidden"
