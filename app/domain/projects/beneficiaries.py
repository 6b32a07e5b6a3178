"""Beneficiary households of a project (带贫户): registered or exited households of the project's region.

A beneficiary row carries the household's village as ``region_code``; lists show the household's id, number
and village, never a name or an ID number.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Household, ProjectBeneficiary
from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import FieldError, NotFound, RuleViolation
from app.domain.pagination import Page, PageRequest, decode_cursor, encode_cursor
from app.domain.principal import Permission, Principal
from app.domain.projects.service import get_project
from app.domain.regions import codes
from app.domain.scope import restrict, scoped

BENEFICIARY_STATUSES = ("registered", "exited")
MAX_BATCH = 500


async def add_beneficiaries(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, entries: list[dict[str, Any]]
) -> int:
    """Add households (or change their share weight); all or nothing. Returns how many rows were written."""
    project = await get_project(session, principal, project_id)
    require(principal, Permission.PROJECTS_WRITE)
    if project.status == "accepted" and project.income_sharing_basis is None:
        raise RuleViolation(
            "The project is accepted and shares no income: its beneficiaries are final.",
            "project.closed",
        )
    ids = [entry["household_id"] for entry in entries]
    if len(set(ids)) != len(ids):
        raise RuleViolation(
            "Name each household once.",
            "project.beneficiary_duplicate",
            errors=[FieldError(("body", "households"), "a household appears twice", "duplicate")],
        )
    households = {
        row.id: row
        for row in (await session.scalars(scoped(Household, principal).where(Household.id.in_(ids)))).all()
    }
    missing = [n for n, household_id in enumerate(ids) if household_id not in households]
    if missing:
        error = NotFound("household")
        error.errors.extend(
            FieldError(
                ("body", "households", n, "household_id"), "no such household in your scope", "not_found"
            )
            for n in missing
        )
        raise error
    prefix = codes.region_prefix(project.region_code)
    problems: list[FieldError] = []
    for n, household_id in enumerate(ids):
        household = households[household_id]
        if not codes.is_within(household.region_code, prefix):
            problems.append(
                FieldError(
                    ("body", "households", n, "household_id"),
                    f"household {household.household_number} lives outside the project's region",
                    "project.beneficiary_region",
                )
            )
        elif household.status not in BENEFICIARY_STATUSES:
            problems.append(
                FieldError(
                    ("body", "households", n, "household_id"),
                    f"household {household.household_number} is {household.status}",
                    "project.beneficiary_status",
                )
            )
    if problems:
        codes_seen = {problem.code for problem in problems}
        code = problems[0].code if len(codes_seen) == 1 else "project.beneficiary_invalid"
        raise RuleViolation(
            "Beneficiaries are registered or exited households (建档立卡户) living in the project's region; "
            f"{len(problems)} of the households are not.",
            code,
            errors=problems,
        )
    existing = {
        row.household_id: row
        for row in (
            await session.scalars(
                scoped(ProjectBeneficiary, principal).where(
                    ProjectBeneficiary.project_id == project.id, ProjectBeneficiary.household_id.in_(ids)
                )
            )
        ).all()
    }
    now = clock.now()
    for entry in entries:
        household = households[entry["household_id"]]
        weight = entry.get("share_weight") or 1
        row = existing.get(household.id)
        if row is None:
            session.add(
                ProjectBeneficiary(
                    project_id=project.id,
                    household_id=household.id,
                    region_code=household.region_code,
                    share_weight=weight,
                    added_by=principal.subject,
                    added_at=now,
                )
            )
        else:
            row.share_weight = weight
    await session.flush()
    await audit.record(
        session,
        principal,
        action="add_beneficiaries",
        record_type="project",
        record_ids=[str(project.id)],
        region_code=project.region_code,
        fields=["beneficiaries"],
        details={"household_ids": [str(household_id) for household_id in ids]},
    )
    return len(entries)


async def remove_beneficiary(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, household_id: uuid.UUID
) -> None:
    project = await get_project(session, principal, project_id)
    require(principal, Permission.PROJECTS_WRITE)
    result = await session.execute(
        restrict(
            delete(ProjectBeneficiary).where(  # type: ignore[arg-type]
                ProjectBeneficiary.project_id == project.id, ProjectBeneficiary.household_id == household_id
            ),
            ProjectBeneficiary,
            principal,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return  # not (or no longer) a beneficiary: removing it again changes nothing
    await audit.record(
        session,
        principal,
        action="remove_beneficiary",
        record_type="project",
        record_ids=[str(project.id)],
        region_code=project.region_code,
        fields=["beneficiaries"],
        details={"household_id": str(household_id)},
    )


async def list_beneficiaries(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, page: PageRequest
) -> Page[dict[str, Any]]:
    """A project's beneficiaries the caller can see, by household id: no personal data."""
    project = await get_project(session, principal, project_id)
    statement = restrict(
        select(  # type: ignore[arg-type]
            ProjectBeneficiary.household_id,
            ProjectBeneficiary.region_code,
            ProjectBeneficiary.share_weight,
            ProjectBeneficiary.added_at,
            Household.household_number,
            Household.status.label("household_status"),
        )
        .join(Household, Household.id == ProjectBeneficiary.household_id)
        .where(ProjectBeneficiary.project_id == project.id),
        ProjectBeneficiary,
        principal,
    )
    keys = [ProjectBeneficiary.household_id]
    if page.cursor is not None:
        statement = statement.where(tuple_(*keys) > tuple_(*decode_cursor(page.cursor, keys)))
    result = await session.execute(statement.order_by(*keys).limit(page.limit + 1))
    rows = [dict(row) for row in result.mappings()]
    if len(rows) <= page.limit:
        return Page(rows, None)
    rows = rows[: page.limit]
    return Page(rows, encode_cursor([rows[-1]["household_id"]]))


async def beneficiary_weights(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID
) -> dict[uuid.UUID, int]:
    """Every beneficiary of a project with its share weight (for income sharing)."""
    statement = restrict(
        select(ProjectBeneficiary.household_id, ProjectBeneficiary.share_weight).where(  # type: ignore[arg-type]
            ProjectBeneficiary.project_id == project_id
        ),
        ProjectBeneficiary,
        principal,
    )
    return {row[0]: row[1] for row in (await session.execute(statement)).all()}
