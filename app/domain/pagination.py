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
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Integer, Select, Uuid, bindparam, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.reads import Reader
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
    if python_type is date:
        return date.fromisoformat(value)
    if not isinstance(value, python_type):
        raise TypeError("cursor value of the wrong type")
    return value


async def fetch_rows(
    session: AsyncSession,
    statement: Select[Any],
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
) -> Page[dict[str, Any]]:
    """One page of Core rows as dicts ordered by ``keys`` (ascending; the last key unique), read through the
    request's session: lists that are not hot paths, or that must see the request's own writes. The cursor's
    values are bound with their columns' types, so a timestamp compares as the database stores it."""
    if page.cursor is not None:
        values = decode_cursor(page.cursor, keys)
        after = [literal(value, type_=key.expression.type) for key, value in zip(keys, values, strict=True)]
        statement = statement.where(tuple_(*keys) > tuple_(*after))
    result = await session.execute(statement.order_by(*keys).limit(page.limit + 1))
    names = tuple(result.keys())
    rows = [dict(zip(names, row, strict=True)) for row in result]
    if len(rows) <= page.limit:
        return Page(rows, None)
    rows = rows[: page.limit]
    return Page(rows, encode_cursor([rows[-1][key.key] for key in keys]))


class KeysetRead:
    """A keyset-paged read of Core rows for :class:`~app.db.reads.Reader`: the first page and the pages
    after a cursor as two statements whose limit and cursor values are bind parameters, so each is built
    and compiled once and then only run."""

    __slots__ = ("after", "first", "keys")

    def __init__(self, statement: Select[Any], keys: Sequence[InstrumentedAttribute[Any]]) -> None:
        self.keys = tuple(keys)
        limit = bindparam("page_limit", type_=Integer)
        after = [bindparam(f"after_{n}", type_=key.expression.type) for n, key in enumerate(self.keys)]
        self.first: Select[Any] = statement.order_by(*self.keys).limit(limit)
        self.after: Select[Any] = (
            statement.where(tuple_(*self.keys) > tuple_(*after)).order_by(*self.keys).limit(limit)
        )


async def read_page(reader: Reader, read: KeysetRead, page: PageRequest) -> Page[dict[str, Any]]:
    """One page of ``read`` as plain dicts (the hot read path: no session, no ORM objects)."""
    if page.cursor is None:
        rows = await reader.fetch(read.first, {"page_limit": page.limit + 1})
    else:
        params: dict[str, Any] = {"page_limit": page.limit + 1}
        for n, value in enumerate(decode_cursor(page.cursor, read.keys)):
            params[f"after_{n}"] = value
        rows = await reader.fetch(read.after, params)
    keys = rows.keys
    items = [dict(zip(keys, row, strict=True)) for row in rows.values]
    if len(items) <= page.limit:
        return Page(items, None)
    items = items[: page.limit]
    return Page(items, encode_cursor([items[-1][key.key] for key in read.keys]))


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


async def rows_by_parent(
    session: AsyncSession, statement: Select[Any], parent: str, parent_ids: Sequence[Any]
) -> dict[Any, list[Any]]:
    """The rows of ``statement`` grouped by their ``parent`` column, in the statement's order, with an empty
    list for every parent id that has none (a DataLoader's batch); no statement at all for no ids."""
    found: dict[Any, list[Any]] = {parent_id: [] for parent_id in parent_ids}
    if found:
        for row in await session.execute(statement):
            found[getattr(row, parent)].append(row)
    return found


async def fetch_rows_per_parent(
    session: AsyncSession,
    statement: Select[Any],
    parent: InstrumentedAttribute[Any],
    parent_ids: Sequence[Any],
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
) -> dict[Any, Page[dict[str, Any]]]:
    """The same page (``limit`` and ``cursor``) of many parents' lists in one statement (GraphQL DataLoaders
    of nested lists: a project's beneficiaries, an account's entries): rows of ``statement`` whose
    ``parent`` is one of ``parent_ids``, numbered per parent in ``keys`` order by a window function. The
    statement must select ``parent`` and ``keys`` under their own names; cursors are :func:`fetch_rows`'s."""
    pages: dict[Any, Page[dict[str, Any]]] = {parent_id: Page([], None) for parent_id in parent_ids}
    if not parent_ids:
        return pages
    statement = statement.where(parent.in_(set(parent_ids)))
    if page.cursor is not None:
        values = decode_cursor(page.cursor, keys)
        after = [literal(value, type_=key.expression.type) for key, value in zip(keys, values, strict=True)]
        statement = statement.where(tuple_(*keys) > tuple_(*after))
    number = func.row_number().over(partition_by=parent, order_by=list(keys)).label("row_number_in_parent")
    numbered = statement.add_columns(number).subquery()
    ordered = [numbered.c[parent.key], *(numbered.c[key.key] for key in keys)]
    result = await session.execute(
        select(numbered).where(numbered.c.row_number_in_parent <= page.limit + 1).order_by(*ordered)
    )
    rows: dict[Any, list[dict[str, Any]]] = {parent_id: [] for parent_id in parent_ids}
    for row in result.mappings():
        item = dict(row)
        del item["row_number_in_parent"]
        rows.setdefault(item[parent.key], []).append(item)
    for parent_id, items in rows.items():
        if len(items) <= page.limit:
            pages[parent_id] = Page(items, None)
        else:
            items = items[: page.limit]
            pages[parent_id] = Page(items, encode_cursor([items[-1][key.key] for key in keys]))
    return pages
