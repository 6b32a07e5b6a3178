"""Helpers of the responsibility, plans, projects and funds types: filter arguments checked against the very
types REST declares for the same query parameters (its ``Literal`` code lists, ``RegionCodeStr``, year
ranges; the same values refused with the same messages, as ``validation`` errors with field errors), and
rows read by attribute whether the domain gave Core rows or dicts."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.domain.errors import FieldError, InvalidInput


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def checked(values: dict[str, tuple[Any, Any]], where: str = "filter") -> dict[str, Any]:
    """``{name: (REST's annotation, given value)}`` → ``{name: validated value}``; ``None`` stays ``None``."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, (annotation, value) in values.items():
        if value is None:
            out[name] = None
            continue
        try:
            out[name] = _adapter(annotation).validate_python(value)
        except ValidationError as error:
            errors += [
                FieldError(("args", where, name, *map(str, e["loc"])), e["msg"], e["type"])
                for e in error.errors()
            ]
    if errors:
        raise InvalidInput(f"{len(errors)} filter(s) failed validation.", "validation", errors)
    return out


class _Attributes:
    """A dict row read by attribute."""

    __slots__ = ("_row",)

    def __init__(self, row: dict[str, Any]) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        try:
            return self._row[name]
        except KeyError:
            raise AttributeError(name) from None


def attributes(row: Any) -> Any:
    """``row`` read by attribute: a Core row as it is, a dict (a page of :func:`fetch_rows`) wrapped."""
    return _Attributes(row) if isinstance(row, dict) else row
