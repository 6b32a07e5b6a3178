"""Keyset (cursor) pagination: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

The cursor is the sort key of the last row returned, opaque to clients (base64url JSON). A page is one
index range read however deep it is, unlike OFFSET, which is linear in the offset.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Select, Uuid, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.errors import FieldError, InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([str(v) if isinstance(v, uuid.UUID) else v for v in values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, keys: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    invalid = InvalidInput(
        "The cursor is not one this list gave out; start again without a cursor.",
        "pagination.invalid_cursor",
        errors=[FieldError(("query", "cursor"), "invalid cursor")],
    )
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise invalid from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise invalid
    try:
        return [_from_json(key, value) for key, value in zip(keys, values, strict=True)]
    except (TypeError, ValueError):
        raise invalid from None


def _from_json(key: InstrumentedAttribute[Any], value: Any) -> Any:
    column_type = key.property.columns[0].type
    if isinstance(column_type, Uuid):
        return uuid.UUID(value)
    python_type = column_type.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if not isinstance(value, python_type):
        raise TypeError("cursor value of the wrong type")
    return value


async def fetch_rows(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
) -> Page[dict[str, Any]]:
    """One page of Core rows as dicts (no ORM objects: the hot read path), ordered by ``keys``."""
    if page.cursor is not None:
        statement = statement.where(tuple_(*keys) > tuple_(*decode_cursor(page.cursor, keys)))
    statement = statement.order_by(*keys).limit(page.limit + 1)
    if not session.in_transaction():
        # One statement needs no transaction of its own: autocommit spares the BEGIN and COMMIT round
        # trips, a quarter of a list request on PostgreSQL (bench/RESULTS.md).
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    result = await session.execute(statement)
    names = list(result.keys())
    rows = [dict(zip(names, row, strict=True)) for row in result]
    if len(rows) <= page.limit:
        return Page(rows, None)
    rows = rows[: page.limit]
    return Page(rows, encode_cursor([rows[-1][key.key] for key in keys]))


async def fetch_page(
    session: AsyncSession,
    statement: Select[T],
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
) -> Page[T]:
    """One page of ORM entities ordered by ``keys`` (ascending; the last key must be unique)."""
    if page.cursor is not None:
        statement = statement.where(tuple_(*keys) > tuple_(*decode_cursor(page.cursor, keys)))
    statement = statement.order_by(*keys).limit(page.limit + 1)
    rows = list((await session.scalars(statement)).all())
    if len(rows) <= page.limit:
        return Page(rows, None)
    rows = rows[: page.limit]
    last = rows[-1]
    return Page(rows, encode_cursor([getattr(last, key.key) for key in keys]))
