"""The audit log: every read of unmasked personal data and every export, written in the same transaction
as the read it records (append-only: PostgreSQL refuses UPDATE and DELETE of its rows)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import AuditEntry
from app.domain.context import current_request_id
from app.domain.principal import Principal


async def record(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    record_type: str,
    region_code: str,
    fields: Sequence[str],
    record_ids: Iterable[str | None] = (None,),
    details: dict[str, Any] | None = None,
    job_id: uuid.UUID | None = None,
) -> None:
    now = utcnow()
    rows = [
        {
            "at": now,
            "actor_subject": principal.subject,
            "actor_name": principal.name,
            "actor_roles": sorted(principal.roles),
            "actor_scope": principal.region_code,
            "action": action,
            "record_type": record_type,
            "record_id": record_id,
            "region_code": region_code,
            "fields": list(fields),
            "request_id": current_request_id.get(),
            "details": details or {},
            "job_id": job_id,
        }
        for record_id in record_ids
    ]
    if rows:
        await session.execute(insert(AuditEntry), rows)  # scope: records what the caller read
