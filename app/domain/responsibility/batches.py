"""Responsibility-chain reads for many records at once (GraphQL DataLoaders and lists): work units, cadres and
assignments by id, by cadre and by household, one statement per batch whatever the number of keys, every
one scoped and permission-checked like the single reads of :mod:`directory` and :mod:`assignments`. Rows
are Core rows; a cadre's phone is left to the caller to mask (:mod:`app.domain.households.masking`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Assignment, Cadre, WorkUnit
from app.domain.access import require
from app.domain.pagination import Page, PageRequest, fetch_rows, rows_by_parent
from app.domain.principal import Permission, Principal
from app.domain.responsibility.assignments import AssignmentFilter, assignment_list
from app.domain.responsibility.directory import (
    CADRE_FIELDS,
    CADRE_KEYS,
    UNIT_KEYS,
    cadre_filters,
    unit_list,
)
from app.domain.scope import restrict

ASSIGNMENT_KEYS = (Assignment.region_code, Assignment.id)


def _found(rows: dict[uuid.UUID, Row[Any]], principal: Principal) -> dict[uuid.UUID, Row[Any]]:
    """Records found in scope need the read permission (out of scope they are missing whatever the roles)."""
    if rows:
        require(principal, Permission.HOUSEHOLDS_READ)
    return rows


def _count(statement: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(statement.order_by(None).subquery())


# Work units ---------------------------------------------------------------------------------------------


async def unit_page(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    region: str | None = None,
    kind: str | None = None,
) -> Page[dict[str, Any]]:
    require(principal, Permission.HOUSEHOLDS_READ)
    return await fetch_rows(session, unit_list(principal, region=region, kind=kind), UNIT_KEYS, page)


async def count_units(
    session: AsyncSession, principal: Principal, *, region: str | None = None, kind: str | None = None
) -> int:
    require(principal, Permission.HOUSEHOLDS_READ)
    return int(await session.scalar(_count(unit_list(principal, region=region, kind=kind))) or 0)


async def units_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The work units among ``ids`` in scope. As the single read: out of scope is "not found" whatever the
    roles (the unit is missing); in scope without the permission is forbidden."""
    if not ids:
        return {}
    statement = unit_list(principal).where(WorkUnit.id.in_(set(ids)))
    return _found({row.id: row for row in await session.execute(statement)}, principal)


# Cadres -------------------------------------------------------------------------------------------------


def _cadres(principal: Principal) -> Select[Any]:
    """Whole cadre rows (the phone too, to be masked) with their unit's name, in scope."""
    return restrict(
        select(*(getattr(Cadre, name) for name in CADRE_FIELDS), WorkUnit.name.label("unit_name")).outerjoin(
            WorkUnit, WorkUnit.id == Cadre.unit_id
        ),
        Cadre,
        principal,
    )


async def cadre_page(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    region: str | None = None,
    rank: str | None = None,
    unit_id: uuid.UUID | None = None,
    is_active: bool | None = None,
) -> Page[dict[str, Any]]:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = cadre_filters(
        _cadres(principal), region=region, rank=rank, unit_id=unit_id, is_active=is_active
    )
    return await fetch_rows(session, statement, CADRE_KEYS, page)


async def count_cadres(
    session: AsyncSession,
    principal: Principal,
    *,
    region: str | None = None,
    rank: str | None = None,
    unit_id: uuid.UUID | None = None,
    is_active: bool | None = None,
) -> int:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = cadre_filters(
        restrict(select(Cadre.id), Cadre, principal),
        region=region,
        rank=rank,
        unit_id=unit_id,
        is_active=is_active,
    )
    return int(await session.scalar(_count(statement)) or 0)


async def cadres_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The cadres among ``ids`` working in scope (as :func:`units_by_id`)."""
    if not ids:
        return {}
    statement = _cadres(principal).where(Cadre.id.in_(set(ids)))
    return _found({row.id: row for row in await session.execute(statement)}, principal)


# Assignments --------------------------------------------------------------------------------------------


async def assignment_page(
    session: AsyncSession, principal: Principal, f: AssignmentFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    require(principal, Permission.HOUSEHOLDS_READ)
    return await fetch_rows(session, assignment_list(principal, f), ASSIGNMENT_KEYS, page)


async def count_assignments(session: AsyncSession, principal: Principal, f: AssignmentFilter) -> int:
    require(principal, Permission.HOUSEHOLDS_READ)
    return int(await session.scalar(_count(assignment_list(principal, f))) or 0)


async def assignments_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The assignments among ``ids`` of regions in scope, with their cadre's and unit's names (as
    :func:`units_by_id`)."""
    if not ids:
        return {}
    statement = assignment_list(principal, AssignmentFilter()).where(Assignment.id.in_(set(ids)))
    return _found({row.id: row for row in await session.execute(statement)}, principal)


async def assignments_by(
    session: AsyncSession,
    principal: Principal,
    column: str,
    ids: Sequence[uuid.UUID],
    *,
    active: bool | None,
) -> dict[uuid.UUID, list[Row[Any]]]:
    """The assignments in scope of each cadre, unit or household (``column``: ``cadre_id``, ``unit_id`` or
    ``household_id``), active only, ended only or all (``active``), oldest first."""
    require(principal, Permission.HOUSEHOLDS_READ)
    if column not in ("cadre_id", "unit_id", "household_id"):
        raise ValueError(column)
    if not ids:
        return {}
    key = getattr(Assignment, column)
    statement = (
        assignment_list(principal, AssignmentFilter(active=active))
        .where(key.in_(set(ids)))
        .order_by(key, Assignment.starts_on, Assignment.id)
    )
    return await rows_by_parent(session, statement, column, ids)
