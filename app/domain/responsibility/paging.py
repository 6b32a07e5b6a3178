"""Keyset pages of Core rows through the request's session (the lists of this domain: no ORM objects)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.pagination import Page, PageRequest, decode_cursor, encode_cursor


async def fetch_rows(
    session: AsyncSession,
    statement: Select[Any],
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
) -> Page[dict[str, Any]]:
    """One page of rows as dicts, ordered by ``keys`` (ascending; the last key unique)."""
    if page.cursor is not None:
        statement = statement.where(tuple_(*keys) > tuple_(*decode_cursor(page.cursor, keys)))
    result = await session.execute(statement.order_by(*keys).limit(page.limit + 1))
    rows = [dict(row) for row in result.mappings()]
    if len(rows) <= page.limit:
        return Page(rows, None)
    rows = rows[: page.limit]
    return Page(rows, encode_cursor([rows[-1][key.key] for key in keys]))
