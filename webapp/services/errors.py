"""Domain errors. Each carries a message for the user; one handler maps them to HTTP answers."""

from __future__ import annotations

from webapp.services.words import count


class DomainError(Exception):
    """Base class; ``status`` is the HTTP status the web layer answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    status = 400


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class PracticeRunRefused(Conflict):
    """A "Run tests" click refused: a run of the notebook is still being graded, or the hourly
    limit is used up. Nothing was stored for it."""


class AlreadySubmitted(Conflict):
    """The same attempt arrived again (a retry, a double click: the same form's key); nothing
    new was stored. ``submission_id`` is the attempt stored the first time."""

    def __init__(self, submission_id: int) -> None:
        super().__init__("These answers were already sent; here is that attempt.")
        self.submission_id = submission_id


class RowErrors(InvalidInput):
    """A file had bad rows; nothing was stored. ``errors`` lists (line number, message)."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        lines = "; ".join(f"line {n}: {m}" for n, m in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{count(len(errors), 'bad row')}, nothing was imported: {lines}{more}")
        self.errors = errors


class Unavailable(DomainError):
    """A service the request needs (a kernel host) cannot take it now; trying later may work."""

    status = 503
