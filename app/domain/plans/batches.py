"""Assistance-plan reads for many records at once (GraphQL DataLoaders and lists): plans by id and by
household, measures by id and by plan, visits by id and the visit list's pages and counts. One statement per
batch whatever the number of keys, each scoped and permission-checked like the single reads of
:mod:`service` and :mod:`visits`; Core rows, no ORM objects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AssistancePlan, PlanMeasure, Visit
from app.domain.access import require
from app.domain.pagination import Page, PageRequest, rows_by_parent
from app.domain.plans import visits
from app.domain.principal import Permission, Principal
from app.domain.scope import scoped

PLAN_COLUMNS = tuple(AssistancePlan.__table__.c)
MEASURE_COLUMNS = tuple(PlanMeasure.__table__.c)


def _found(rows: dict[uuid.UUID, Row[Any]], principal: Principal) -> dict[uuid.UUID, Row[Any]]:
    """Records found in scope need the read permission (out of scope they are missing whatever the roles)."""
    if rows:
        require(principal, Permission.HOUSEHOLDS_READ)
    return rows


# Plans and measures -------------------------------------------------------------------------------------


async def plans_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The plans among ``ids`` in scope. As the single read: out of scope is "not found" whatever the roles
    (the plan is missing); in scope without the permission is forbidden."""
    if not ids:
        return {}
    statement = (
        scoped(AssistancePlan, principal)
        .with_only_columns(*PLAN_COLUMNS)
        .where(AssistancePlan.id.in_(set(ids)))
    )
    return _found({row.id: row for row in await session.execute(statement)}, principal)


async def plans_by_household(
    session: AsyncSession, principal: Principal, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """Each household's plans by year (as ``GET /households/{id}/plans``)."""
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = (
        scoped(AssistancePlan, principal)
        .with_only_columns(*PLAN_COLUMNS)
        .where(AssistancePlan.household_id.in_(set(household_ids)))
        .order_by(AssistancePlan.household_id, AssistancePlan.year)
    )
    return await rows_by_parent(session, statement, "household_id", household_ids)


async def measures_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The measures among ``ids`` in scope (as :func:`plans_by_id`)."""
    if not ids:
        return {}
    statement = (
        scoped(PlanMeasure, principal).with_only_columns(*MEASURE_COLUMNS).where(PlanMeasure.id.in_(set(ids)))
    )
    return _found({row.id: row for row in await session.execute(statement)}, principal)


async def measures_by_plan(
    session: AsyncSession, principal: Principal, plan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """Each plan's measures in the order they were added (as ``GET /plans/{id}/measures``)."""
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = (
        scoped(PlanMeasure, principal)
        .with_only_columns(*MEASURE_COLUMNS)
        .where(PlanMeasure.plan_id.in_(set(plan_ids)))
        .order_by(PlanMeasure.plan_id, PlanMeasure.created_at, PlanMeasure.id)
    )
    return await rows_by_parent(session, statement, "plan_id", plan_ids)


# Visits -------------------------------------------------------------------------------------------------


async def visit_page(
    session: AsyncSession, principal: Principal, f: visits.VisitFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    """A page of the visit list (``GET /visits``): the same filters, order and cursors."""
    return await visits.list_visits(session, principal, f, page)


async def count_visits(session: AsyncSession, principal: Principal, f: visits.VisitFilter) -> int:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = visits.visit_filters(select(func.count()).select_from(Visit), principal, f)
    return int(await session.scalar(statement) or 0)


async def visits_by_household(
    session: AsyncSession, principal: Principal, household_ids: Sequence[uuid.UUID], *, latest: int
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The ``latest`` visits and work logs of each household, newest first (one statement for all)."""
    require(principal, Permission.HOUSEHOLDS_READ)
    found: dict[uuid.UUID, list[dict[str, Any]]] = {household_id: [] for household_id in household_ids}
    if not household_ids:
        return found
    number = (
        func.row_number()
        .over(partition_by=Visit.household_id, order_by=(Visit.visited_on.desc(), Visit.id.desc()))
        .label("n")
    )
    numbered = (
        scoped(Visit, principal)
        .with_only_columns(*visits.VISIT_COLUMNS, number)
        .where(Visit.household_id.in_(set(household_ids)))
        .subquery()
    )
    statement = (
        select(*(numbered.c[column.key] for column in visits.VISIT_COLUMNS))
        .where(numbered.c.n <= latest)
        .order_by(numbered.c.household_id, numbered.c.visited_on.desc(), numbered.c.id.desc())
    )
    for row in (await session.execute(statement)).mappings():
        found[row["household_id"]].append(dict(row))
    return found
