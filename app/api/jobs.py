"""Background jobs: status and progress, and the per-row report of an import."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page
from app.api.schemas.jobs import ImportRowRead, JobRead
from app.domain import jobs

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

JobId = Annotated[uuid.UUID, Path(description="Job id")]


@router.get(
    "/{job_id}",
    summary="A job's status and progress",
    description="Poll until `status` is `succeeded` or `failed`; `processed` of `total` rows shows progress.",
    response_model=JobRead,
)
async def get_job(job_id: JobId, principal: PrincipalDep, session: SessionDep) -> JobRead:
    return JobRead.model_validate(await jobs.get_job(session, principal, job_id))


@router.get(
    "/{job_id}/report",
    summary="The per-row report of an import",
    description="Rows with errors (every error with its column) and rows skipped with their household, in "
    "file order, paged by cursor.",
    response_model=Page[ImportRowRead],
)
async def get_report(
    job_id: JobId, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[ImportRowRead]:
    result = await jobs.report_page(session, principal, job_id, page)
    return Page[ImportRowRead](
        items=[ImportRowRead.model_validate(row) for row in result.items], next_cursor=result.next_cursor
    )
