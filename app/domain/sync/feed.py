"""The sync feed: the changes of a collection in the caller's scope, in order, each with the entity's current
state (or a tombstone), from a cursor.

**Why a sequence alone is not enough.** A change row's ``seq`` is taken when the row is inserted, but
transactions commit in any order: a reader that saw seq 11 (committed) and moved its cursor past it would
never see seq 10 if that transaction commits later. So on PostgreSQL every row also carries its
transaction's id (``xid``, xid8: 64 bits, never wraps), and rows are ordered by ``(xid, seq)``. A reader
takes the **horizon** ``pg_snapshot_xmin(pg_current_snapshot())``: every transaction below it has finished
(committed or rolled back) and none can start below it any more, so the rows with ``xid`` below the horizon
are final. Only those are delivered; rows of transactions still running, or of later ones that already
committed, wait for the horizon to pass them. A cursor is the ``(xid, seq)`` of the last row delivered, so
no row is delivered twice and none is skipped. On SQLite writers are serialised (the first write of a
transaction takes the database lock until it commits), so ``seq`` order is commit order: the horizon is
the largest ``seq`` the reader sees, ``xid`` is 0.

Edge cases:
- A page that finds nothing in the caller's scope still moves the cursor up to the horizon (the rows below
  it were all looked at), so a village does not re-read a province's changes on every poll.
- The reader's own transaction: the horizon is read first, before the request writes anything (the audit
  row of an unmasked read); PostgreSQL counts a reader's own xid in its xmin, and the reader writes no
  change rows, so its own transaction can only hold the horizon back, never hide a change.
- A long transaction (a large import, a session left idle in a transaction) holds the horizon back: the
  feed delivers nothing past it until it ends. Nothing is lost; the feed only waits.
- Every row delivers the entity's state as the reader sees it now (never older than the change), so
  several changes of one entity in a page become one item, and a state newer than its change is fine: the
  later change's row delivers it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Change, ChangePurge
from app.domain.access import require
from app.domain.errors import DomainError, FieldError, InvalidInput
from app.domain.pagination import decode_cursor, encode_cursor
from app.domain.principal import Principal
from app.domain.scope import ensure_in_scope, restrict, within_prefix
from app.domain.sync.states import COLLECTIONS, Collection

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
Position = tuple[int, int]  # (xid, seq)
START: Position = (0, 0)
BIGINT_END = 1 << 63
POSITION_KEYS = (Change.xid, Change.seq)
PAGE_COLUMNS: tuple[Any, ...] = (Change.xid, Change.seq, Change.entity_id)


class CursorExpired(DomainError):
    status = 410
    title = "Gone"


@dataclass(frozen=True)
class FeedPage:
    items: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def collection_for(principal: Principal, name: str, region: str | None) -> Collection:
    collection = COLLECTIONS[name]
    if region is not None:
        ensure_in_scope(principal, region)
    require(principal, collection.permission)
    return collection


def cursor_of(position: Position) -> str:
    return encode_cursor(list(position))


def position_of(cursor: str | None) -> Position:
    if cursor is None:
        return START
    xid, seq = decode_cursor(cursor, POSITION_KEYS)
    if not (0 <= xid < BIGINT_END and 0 <= seq < BIGINT_END):
        raise InvalidInput(
            "The cursor is not one this feed gave out; start again from a snapshot.",
            "pagination.invalid_cursor",
            errors=[FieldError(("query", "cursor"), "invalid cursor")],
        )
    return int(xid), int(seq)


async def horizon(session: AsyncSession) -> Position:
    """The position up to which the change log is final: every row at or below it is committed, and no row
    will ever be added at or below it."""
    if session.get_bind().dialect.name == "postgresql":
        xmin = await session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        return (int(xmin), 0)  # seq starts at 1: (xmin, 0) is below every row of xmin and above all before
    last = await session.scalar(
        select(Change.seq).order_by(Change.seq.desc()).limit(1)  # scope: the log's last position, no record
    )
    return (0, int(last or 0))


async def purged_up_to(session: AsyncSession) -> Position | None:
    """The highest position a purge removed a tombstone at, if any purge did."""
    row = (
        await session.execute(
            select(ChangePurge.below_xid, ChangePurge.below_seq)
            .order_by(ChangePurge.below_xid.desc(), ChangePurge.below_seq.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


async def ensure_not_expired(session: AsyncSession, cursor: str | None, position: Position) -> None:
    purged = await purged_up_to(session)
    if cursor is not None and purged is not None and position < purged:
        raise CursorExpired(
            "Changes after this cursor were purged (removals are kept for a limited time): take a new "
            "snapshot and follow the feed from its cursor.",
            "sync.cursor_expired",
        )


async def read_page(
    session: AsyncSession,
    principal: Principal,
    name: str,
    *,
    cursor: str | None,
    limit: int = DEFAULT_LIMIT,
    region: str | None = None,
) -> FeedPage:
    collection = collection_for(principal, name, region)
    after = position_of(cursor)
    until = await horizon(session)  # first: see the module's notes on the reader's own transaction
    await ensure_not_expired(session, cursor, after)
    position = tuple_(Change.xid, Change.seq)
    statement = restrict(
        select(*PAGE_COLUMNS).where(
            Change.collection == collection.name,
            position > tuple_(*after),
            position <= tuple_(*until),
        ),
        Change,
        principal,
    )
    if region is not None:
        statement = statement.where(within_prefix(Change.region_code, region))
    rows = (await session.execute(statement.order_by(Change.xid, Change.seq).limit(limit + 1))).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_position = (int(rows[-1][0]), int(rows[-1][1])) if has_more else max(after, until)
    # One item per entity, where its last change in the page stands.
    last_at: dict[uuid.UUID, int] = {row[2]: n for n, row in enumerate(rows)}
    ids = sorted(last_at, key=last_at.__getitem__)
    items = await _items(session, principal, collection, region, ids)
    return FeedPage(items, cursor_of(next_position), has_more)


async def _items(
    session: AsyncSession,
    principal: Principal,
    collection: Collection,
    region: str | None,
    ids: list[uuid.UUID],
) -> list[dict[str, Any]]:
    if not ids:
        return []
    connection = await session.connection()
    statement = collection.rows(principal, region).where(collection.model.id.in_(ids))
    found = dict(await collection.states(connection, principal, (await connection.execute(statement)).all()))
    items = []
    for entity_id in ids:
        key = str(entity_id)
        state = found.get(key)
        # Gone, or moved out of the caller's scope (or the region asked for): a tombstone either way.
        items.append(
            {"op": "upsert", "id": key, "data": state} if state else {"op": "delete", "id": key, "data": None}
        )
    return items
