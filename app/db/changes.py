"""Change capture for the sync feed, in one place: every write of a tracked entity leaves a row in
``sync_changes`` in the writing transaction.

- ORM writes: a session listener (``after_flush``) turns new, changed and deleted instances of tracked
  models into rows naming the collection, the entity and its region.
- Core writes (bulk imports, moves of a household's rows, demo loads): the writer calls :func:`record`,
  :func:`record_rows` or :func:`record_moves` itself, in the same transaction.

A household's change covers its members, incomes and indicators (a change to any of them records the
household); a plan's covers its measures. A record that moves to another region leaves a ``delete`` row in
the old region and an ``upsert`` row in the new one, so that a reader scoped to the old region learns that
it left. On PostgreSQL each row carries the writing transaction's id (see app/domain/sync/feed.py for why).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, Table, Text, event, func, insert, inspect, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from app.db.base import utcnow
from app.db.models import (
    Assignment,
    AssistancePlan,
    FundTransfer,
    Household,
    Income,
    Indicator,
    Member,
    PlanMeasure,
    Project,
)
from app.db.models.changes import Change

CHANGES = cast(Table, Change.__table__)
RECORDED = "sync_changes_recorded"  # session.info: the rows written in the current transaction

Entry = tuple[str, uuid.UUID, str, str]  # collection, entity id, region code, operation


@dataclass(frozen=True)
class Tracked:
    collection: str
    entity_key: str  # the attribute holding the entity's id
    is_entity: bool  # the row is the entity itself (else a part of it: a member, a measure)


TRACKED: dict[type[Any], Tracked] = {
    Household: Tracked("households", "id", True),
    Member: Tracked("households", "household_id", False),
    Income: Tracked("households", "household_id", False),
    Indicator: Tracked("households", "household_id", False),
    Assignment: Tracked("assignments", "id", True),
    AssistancePlan: Tracked("plans", "id", True),
    PlanMeasure: Tracked("plans", "plan_id", False),
    Project: Tracked("projects", "id", True),
    FundTransfer: Tracked("fund_transfers", "id", True),
}
# Rows that move with a household to another village (HOUSEHOLD_ROWS) and are entities of a collection of
# their own: a move records them too (members, incomes and indicators are covered by the household's row).
MOVING_ENTITIES: tuple[tuple[type[Any], str], ...] = ((AssistancePlan, "plans"), (Assignment, "assignments"))


def _entries_of_flush(session: Session) -> list[Entry]:
    entries: list[Entry] = []
    for instance in session.new:
        tracked = TRACKED.get(type(instance))
        if tracked is not None:
            entries.append(_entry(tracked, instance, instance.region_code, "upsert"))
    for instance in session.dirty:
        tracked = TRACKED.get(type(instance))
        if tracked is None or not session.is_modified(instance, include_collections=False):
            continue
        entries.append(_entry(tracked, instance, instance.region_code, "upsert"))
        # The region it left: readers there learn that it is gone from them.
        for previous in inspect(instance).attrs.region_code.history.deleted or ():
            if previous is not None and previous != instance.region_code and tracked.is_entity:
                entries.append(_entry(tracked, instance, previous, "delete"))
    for instance in session.deleted:
        tracked = TRACKED.get(type(instance))
        if tracked is not None:
            entries.append(
                _entry(tracked, instance, instance.region_code, "delete" if tracked.is_entity else "upsert")
            )
    return entries


def _entry(tracked: Tracked, instance: Any, region_code: str, operation: str) -> Entry:
    return (tracked.collection, getattr(instance, tracked.entity_key), region_code, operation)


def _normalised(entries: Iterable[Entry]) -> list[Entry]:
    """One row per entity and region: a removal wins over a change of a part in the same write."""
    chosen: dict[tuple[str, uuid.UUID, str], str] = {}
    for collection, entity_id, region_code, operation in entries:
        key = (collection, entity_id, region_code)
        if chosen.get(key) != "delete":
            chosen[key] = operation
    return [
        (collection, entity_id, region, operation)
        for (collection, entity_id, region), operation in chosen.items()
    ]


def _write(session: Session, entries: Iterable[Entry]) -> None:
    # A row only when it says something new in this transaction (each delivers the state as read, not as
    # written), so that an entity's last row in a region keeps saying whether it is there: retention relies
    # on it. Forgotten at the end of every transaction and savepoint (a rolled-back one takes its rows along).
    recorded: dict[tuple[str, uuid.UUID, str], str] = session.info.setdefault(RECORDED, {})
    rows = [entry for entry in _normalised(entries) if recorded.get(entry[:3]) != entry[3]]
    if not rows:
        return
    recorded.update((entry[:3], entry[3]) for entry in rows)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # xid8 of the writing transaction (assigned now if it had none): 64 bits, never wraps around.
        xid: Any = func.pg_current_xact_id().cast(Text).cast(BigInteger)
    else:
        xid = literal(0, BigInteger)
    now = utcnow()
    connection.execute(
        insert(CHANGES).values(xid=xid),  # scope: the change log of records the writer checked in scope
        [
            {"collection": c, "entity_id": e, "region_code": r, "operation": o, "changed_at": now}
            for c, e, r, o in rows
        ],
    )


@event.listens_for(Session, "after_flush")
def _record_flush(session: Session, _flush_context: UOWTransaction) -> None:
    _write(session, _entries_of_flush(session))


@event.listens_for(Session, "after_transaction_end")
def _forget_recorded(session: Session, transaction: SessionTransaction) -> None:
    # Not for the subtransactions a flush runs in: only the transaction itself and savepoints.
    if transaction.parent is None or transaction.nested:
        session.info.pop(RECORDED, None)


async def record(session: AsyncSession, entries: Sequence[Entry]) -> None:
    """Record changes written by Core statements (the listener sees only ORM instances)."""
    if entries:
        await session.run_sync(_write, entries)


async def record_rows(
    session: AsyncSession, model: type[Any], rows: Iterable[Mapping[str, Any]], operation: str = "upsert"
) -> None:
    """Record the rows of a Core insert or update of ``model`` (dicts with its id and ``region_code``);
    nothing for models the feed does not track."""
    tracked = TRACKED.get(model)
    if tracked is None:
        return
    parts = operation if tracked.is_entity else "upsert"
    await record(
        session, [(tracked.collection, row[tracked.entity_key], row["region_code"], parts) for row in rows]
    )


async def record_moves(
    session: AsyncSession, moves: Sequence[tuple[uuid.UUID, str, str]], *, with_households: bool = True
) -> None:
    """Households moved to another village, ``(household id, old village, new village)``, with their plans
    and pairings (moved by Core statements): a ``delete`` in the old village and an ``upsert`` in the new
    one for each. ``with_households=False`` when the household itself moved through the ORM (the listener
    records it)."""
    if not moves:
        return
    entries: list[Entry] = []
    regions = {household_id: (old, new) for household_id, old, new in moves}
    if with_households:
        for household_id, (old, new) in regions.items():
            entries += [
                ("households", household_id, old, "delete"),
                ("households", household_id, new, "upsert"),
            ]
    for model, collection in MOVING_ENTITIES:
        statement = select(model.id, model.household_id).where(  # scope: rows of households moved in scope
            model.household_id.in_(list(regions))
        )
        for entity_id, household_id in await session.execute(statement):
            old, new = regions[household_id]
            entries += [(collection, entity_id, old, "delete"), (collection, entity_id, new, "upsert")]
    await record(session, entries)
