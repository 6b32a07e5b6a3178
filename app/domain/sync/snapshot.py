"""A full snapshot of a collection in the caller's scope (or a region's subtree inside it), streamed as NDJSON
in constant memory, with the cursor to follow the feed from.

Lines: first ``{"snapshot": {"collection", "region", "cursor"}}``, then one ``{"op": "upsert", "id", "data"}``
per entity (the feed's item shape), last ``{"end": {"count", "cursor"}}``: a stream without its ``end`` line
was cut off and must not be used.

The cursor is the feed's horizon taken first, in the same transaction as the rows (REPEATABLE READ on
PostgreSQL: one snapshot for the whole stream). Every change below the horizon is in the snapshot; changes
at or above it may be in it or not, and the feed delivers them from the cursor on. So snapshot + feed is an
exact mirror; a few changes of transactions that were running when the snapshot began may come again in
the feed (each delivers the current state, so applying one twice changes nothing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain import audit
from app.domain.households import masking
from app.domain.principal import Principal
from app.domain.sync import feed
from app.domain.sync.states import COLLECTIONS, dumps

BATCH = 1000


@dataclass(frozen=True)
class SnapshotPlan:
    collection: str
    region: str | None


async def begin_snapshot(
    session: AsyncSession, principal: Principal, name: str, region: str | None
) -> SnapshotPlan:
    """Check the caller may take this snapshot, and record it in the audit log if it shows personal data
    (in the caller's transaction, before the first byte leaves)."""
    collection = feed.collection_for(principal, name, region)
    await record_read(session, principal, name, region, "snapshot")
    return SnapshotPlan(collection.name, region)


async def record_read(
    session: AsyncSession, principal: Principal, name: str, region: str | None, kind: str
) -> None:
    """An unmasked read of households through the sync feed or a snapshot is audited, like an export."""
    if not (COLLECTIONS[name].has_personal_data and masking.may_see_personal_data(principal)):
        return
    await audit.record(
        session,
        principal,
        action="sync",
        record_type="household",
        region_code=region or principal.region_code,
        fields=("household.phone", "household.bank_account", "member.id_number"),
        details={"kind": kind, "masked": False},
    )


async def stream_snapshot(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    plan: SnapshotPlan,
    *,
    statement_timeout_ms: int | None = None,
) -> AsyncIterator[bytes]:
    """The snapshot's bytes. ``statement_timeout_ms`` replaces the server's statement timeout for its reads
    (PostgreSQL; 0: none), as for an export: a province's snapshot legitimately runs long."""
    collection = COLLECTIONS[plan.collection]
    async with sessionmaker() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for the horizon and every row; read-only, so the stream holds no xid of its own.
            connection = await session.connection(
                execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            )
            if statement_timeout_ms is not None:
                await connection.execute(text(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}"))
        cursor = feed.cursor_of(await feed.horizon(session))
        yield dumps({"snapshot": {"collection": plan.collection, "region": plan.region, "cursor": cursor}})
        yield b"\n"
        connection = await session.connection()
        statement = collection.rows(principal, plan.region).order_by(
            collection.model.region_code, collection.model.id
        )
        result = await connection.stream(statement.execution_options(yield_per=BATCH))
        count = 0
        async for rows in result.partitions():
            lines = [
                dumps({"op": "upsert", "id": entity_id, "data": state})
                for entity_id, state in await collection.states(connection, principal, rows)
            ]
            count += len(lines)
            yield b"\n".join(lines) + b"\n"
        yield dumps({"end": {"count": count, "cursor": cursor}}) + b"\n"
