"""Background jobs (large imports and exports) with their progress, and the per-row report of an import."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JsonDocument, RegionCode

JOB_STATUSES = ("queued", "running", "succeeded", "failed")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_region_code_id", "region_code", "id"),
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))  # household_import, ...
    status: Mapped[str] = mapped_column(String(16), default="queued")
    region_code: Mapped[str] = mapped_column(RegionCode)  # the scope of the one who started it
    created_by_subject: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    total: Mapped[int | None]
    processed: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImportRowReport(Base):
    """A row of an import that failed or was skipped, with every error and its column."""

    __tablename__ = "import_row_reports"

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    row: Mapped[int] = mapped_column(primary_key=True)  # line number in the file, header = 1
    outcome: Mapped[str] = mapped_column(String(16))  # error / skipped
    household_number: Mapped[str | None] = mapped_column(String(32))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)  # [{column, message, code}]
