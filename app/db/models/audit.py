"""The audit log: one row per unmasked read or export; append-only (PostgreSQL refuses UPDATE, DELETE and
TRUNCATE; SQLite refuses UPDATE: migrations 0002 and 0010)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JsonDocument, RegionCode


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_region_code_id", "region_code", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor_subject: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_roles: Mapped[list[str]] = mapped_column(JsonDocument)
    actor_scope: Mapped[str] = mapped_column(RegionCode)
    action: Mapped[str] = mapped_column(String(32))  # read_personal_data, export, ...
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(RegionCode)  # where the record lives (its subtree for exports)
    fields: Mapped[list[str]] = mapped_column(JsonDocument)
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
