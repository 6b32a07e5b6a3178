"""The exceptions the domain raises.

Each carries a stable ``code`` and a sentence a county clerk can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One failing field: a path into the input (``["body", "roles", 0]``) and what is wrong with it."""

    loc: tuple[str | int, ...]
    message: str
    code: str = "invalid"


@dataclass
class DomainError(Exception):
    detail: str
    code: str = "error"
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class NotFound(DomainError):
    """Missing, or outside the caller's scope: the two are deliberately indistinguishable."""

    status = 404
    title = "Not found"

    def __init__(self, what: str = "resource", code: str | None = None) -> None:
        super().__init__(f"The {what} does not exist.", code or f"{what.replace(' ', '_')}.not_found")


class Unauthenticated(DomainError):
    status = 401
    title = "Not authenticated"


class Forbidden(DomainError):
    """In scope, but the caller's roles do not allow this."""

    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class RuleViolation(DomainError):
    """The input is well-formed but a business rule refuses it."""

    status = 422
    title = "Rule violated"


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int, code: str = "rate_limited") -> None:
        super().__init__(detail, code, extra={"retry_after": retry_after})
