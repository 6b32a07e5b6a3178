"""Retention of the change log (``fupin sync purge``).

1. **Compaction**, always safe: a row followed by a later row of the same entity in the same region is
   dropped. Every row delivers the entity's current state, so the later row says all the earlier one did;
   a follower anywhere before the later row still receives it.
2. **Tombstones** (``delete`` rows: an entity removed, or moved out of a region) older than the retention
   (90 days unless told) are dropped, and the highest position dropped is recorded in ``sync_purges``. A
   cursor below it may have missed a removal: the feed answers 410 ``sync.cursor_expired`` and the
   client takes a new snapshot. A client that starts from the beginning with an empty mirror needs no
   tombstone, so it is never refused.

``upsert`` rows that are the latest of their entity and region are never dropped: they are what a follower
starting from the beginning reads. The log therefore holds about one row per entity and region it has been
in, plus the changes of the retention period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, exists, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.base import utcnow
from app.db.models import Change, ChangePurge

DEFAULT_TOMBSTONE_DAYS = 90


@dataclass(frozen=True)
class PurgeResult:
    superseded: int
    tombstones: int


async def purge(session: AsyncSession, *, tombstone_days: int = DEFAULT_TOMBSTONE_DAYS) -> PurgeResult:
    """Compact the log and drop tombstones older than ``tombstone_days``; flushes, never commits."""
    later = aliased(Change)
    superseded = exists().where(
        later.collection == Change.collection,
        later.entity_id == Change.entity_id,
        later.region_code == Change.region_code,
        tuple_(later.xid, later.seq) > tuple_(Change.xid, Change.seq),
    )
    compacted = await session.execute(
        delete(Change).where(superseded)  # scope: the operator's maintenance of the whole log
    )
    old = and_(Change.operation == "delete", Change.changed_at < utcnow() - timedelta(days=tombstone_days))
    last = (
        await session.execute(
            select(Change.xid, Change.seq)  # scope: the operator's maintenance of the whole log
            .where(old)
            .order_by(Change.xid.desc(), Change.seq.desc())
            .limit(1)
        )
    ).first()
    tombstones = 0
    if last is not None:
        count = await session.scalar(
            select(func.count()).select_from(Change).where(old)  # scope: the operator's maintenance
        )
        await session.execute(delete(Change).where(old))  # scope: the operator's maintenance of the log
        tombstones = int(count or 0)
        session.add(
            ChangePurge(
                purged_at=utcnow(),
                below_xid=int(last[0]),
                below_seq=int(last[1]),
                removed=tombstones,
            )
        )
        await session.flush()
    return PurgeResult(int(getattr(compacted, "rowcount", 0) or 0), tombstones)
