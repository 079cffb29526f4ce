"""Domain errors. Adapters turn them into problem details or chat messages."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; `code` is a stable machine-readable key of the kind of error.

    `message` says in English what to do (logs, the JSON API). `why`, where given, is a
    stable key of the exact rule that refused (e.g. "case.step_not_allowed"), and `params`
    the values its words need: adapters that speak to people in their language (the
    console) look the key up in their catalogs instead of showing the English message."""

    code = "domain_error"

    def __init__(self, message: str, *, why: str | None = None, **params: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.why = why
        self.params = params


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "invalid_input"


class Forbidden(DomainError):
    code = "forbidden"
