"""Keyset pages of Core rows through the request's session (plain dicts, no ORM objects), with sort keys
that may be dates (visits are ordered by village and day)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Select, Uuid, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import Page, PageRequest, encode_cursor


def decode_keys(cursor: str, keys: Sequence[Any]) -> list[Any]:
    """The sort key values a cursor carries, typed like ``keys``; a cursor not given out is a 422."""
    invalid = InvalidInput(
        "The cursor is not one this list gave out; start again without a cursor.",
        "pagination.invalid_cursor",
        errors=[FieldError(("query", "cursor"), "invalid cursor")],
    )
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            raise invalid
        return [_typed(key, value) for key, value in zip(keys, values, strict=True)]
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise invalid from None


def _typed(key: Any, value: Any) -> Any:
    column_type = key.expression.type
    if isinstance(column_type, Uuid):
        return uuid.UUID(value)
    python_type = column_type.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if not isinstance(value, python_type):
        raise TypeError("cursor value of the wrong type")
    return value


async def rows_page(
    session: AsyncSession,
    statement: Select[Any],
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
) -> Page[dict[str, Any]]:
    """One page of ``statement`` ordered by ``keys`` (ascending; the last key unique)."""
    if page.cursor is not None:
        statement = statement.where(tuple_(*keys) > tuple_(*decode_keys(page.cursor, keys)))
    result = await session.execute(statement.order_by(*keys).limit(page.limit + 1))
    rows = [dict(row) for row in result.mappings()]
    if len(rows) <= page.limit:
        return Page(rows, None)
    rows = rows[: page.limit]
    return Page(rows, encode_cursor([rows[-1][key.key] for key in keys]))
