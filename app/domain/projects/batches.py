"""Project-library reads for many records at once (GraphQL DataLoaders and lists): projects by id and the
project list's pages and counts, and the beneficiaries of many projects in one statement. Scoped and
permission-checked like :mod:`service` and :mod:`beneficiaries`; Core rows, no ORM objects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Household, Project, ProjectBeneficiary
from app.domain.access import require
from app.domain.pagination import Page, PageRequest, fetch_rows, fetch_rows_per_parent
from app.domain.principal import Permission, Principal
from app.domain.projects.service import PROJECT_KEYS, ProjectFilter, beneficiary_counts, project_filters
from app.domain.scope import restrict, scoped

PROJECT_COLUMNS = tuple(Project.__table__.c)
BENEFICIARY_KEYS = (ProjectBeneficiary.household_id,)  # the list's order, as REST's


async def project_page(
    session: AsyncSession, principal: Principal, f: ProjectFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    """A page of the project list (``GET /projects``): the same filters, order and cursors."""
    require(principal, Permission.FUNDS_READ)
    statement = project_filters(scoped(Project, principal).with_only_columns(*PROJECT_COLUMNS), principal, f)
    return await fetch_rows(session, statement, PROJECT_KEYS, page)


async def count_projects(session: AsyncSession, principal: Principal, f: ProjectFilter) -> int:
    require(principal, Permission.FUNDS_READ)
    statement = project_filters(scoped(Project, principal).with_only_columns(func.count()), principal, f)
    return int(await session.scalar(statement) or 0)


async def projects_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The projects among ``ids`` in scope. As the single read: out of scope is "not found" whatever the
    roles (the project is missing); in scope without the permission is forbidden."""
    if not ids:
        return {}
    statement = scoped(Project, principal).with_only_columns(*PROJECT_COLUMNS).where(Project.id.in_(set(ids)))
    found = {row.id: row for row in await session.execute(statement)}
    if found:
        require(principal, Permission.FUNDS_READ)
    return found


async def beneficiary_pages(
    session: AsyncSession, principal: Principal, project_ids: Sequence[uuid.UUID], page: PageRequest
) -> dict[uuid.UUID, Page[dict[str, Any]]]:
    """The same page of each project's beneficiaries the caller can see (``GET
    /projects/{id}/beneficiaries``: by household id, numbers only, no personal data)."""
    require(principal, Permission.FUNDS_READ)
    statement = restrict(
        select(  # type: ignore[arg-type]
            ProjectBeneficiary.project_id,
            ProjectBeneficiary.household_id,
            ProjectBeneficiary.region_code,
            ProjectBeneficiary.share_weight,
            ProjectBeneficiary.added_at,
            Household.household_number,
            Household.status.label("household_status"),
        ).join(Household, Household.id == ProjectBeneficiary.household_id),
        ProjectBeneficiary,
        principal,
    )
    return await fetch_rows_per_parent(
        session, statement, ProjectBeneficiary.project_id, project_ids, BENEFICIARY_KEYS, page
    )


async def count_beneficiaries(
    session: AsyncSession, principal: Principal, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    require(principal, Permission.FUNDS_READ)
    return await beneficiary_counts(session, principal, list(set(project_ids)))


async def projects_of_households(
    session: AsyncSession, principal: Principal, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """The projects each household benefits from (带贫户 of), by region and id."""
    require(principal, Permission.FUNDS_READ)
    found: dict[uuid.UUID, list[Row[Any]]] = {household_id: [] for household_id in household_ids}
    if not household_ids:
        return found
    statement = (
        scoped(Project, principal)
        .with_only_columns(ProjectBeneficiary.household_id.label("beneficiary_id"), *PROJECT_COLUMNS)
        .join(ProjectBeneficiary, ProjectBeneficiary.project_id == Project.id)
        .where(ProjectBeneficiary.household_id.in_(set(household_ids)))
        .order_by(ProjectBeneficiary.household_id, *PROJECT_KEYS)
    )
    for row in await session.execute(statement):
        found[row.beneficiary_id].append(row)
    return found
