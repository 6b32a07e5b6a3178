"""The change log behind the sync feed (``GET /api/v1/sync/{collection}``): one row per change of a tracked
entity in one region, and the record of purges that removed tombstones (app/db/changes.py writes the rows).

A row's position is ``(xid, seq)``: on PostgreSQL ``xid`` is the writing transaction's id
(``pg_current_xact_id()``), so that a reader can deliver only rows of transactions that have all finished
(below its snapshot's xmin); on SQLite, where writers are serialised, ``xid`` is 0 and ``seq`` alone orders
the rows in commit order. ``seq`` never repeats (an identity on PostgreSQL, AUTOINCREMENT on SQLite).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, RegionCode

COLLECTIONS = ("households", "assignments", "plans", "projects", "fund_transfers")
OPERATIONS = ("upsert", "delete")

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Change(Base):
    """An entity of a collection changed in a region: ``upsert`` (it is there now) or ``delete`` (removed,
    or moved out of this region to another). Readers deliver the entity's current state, not the row's."""

    __tablename__ = "sync_changes"
    __table_args__ = (
        Index("ix_sync_changes_collection_xid_seq", "collection", "xid", "seq"),
        Index("ix_sync_changes_collection_region_code_xid_seq", "collection", "region_code", "xid", "seq"),
        Index("ix_sync_changes_entity_id", "entity_id"),
        CheckConstraint(_known("collection", COLLECTIONS), name="collection_known"),
        CheckConstraint(_known("operation", OPERATIONS), name="operation_known"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    xid: Mapped[int] = mapped_column(BigInteger)  # the writing transaction (PostgreSQL), 0 on SQLite
    collection: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    region_code: Mapped[str] = mapped_column(RegionCode)
    operation: Mapped[str] = mapped_column(String(8))
    changed_at: Mapped[datetime]


class ChangePurge(Base):
    """A purge of old tombstones: a cursor below ``below_xid``/``below_seq`` (the last one removed) may have
    missed one and must start again from a snapshot (410 ``sync.cursor_expired``)."""

    __tablename__ = "sync_purges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    purged_at: Mapped[datetime]
    below_xid: Mapped[int] = mapped_column(BigInteger)
    below_seq: Mapped[int] = mapped_column(BigInteger)
    removed: Mapped[int] = mapped_column(BigInteger)  # change rows removed (superseded and tombstones)
