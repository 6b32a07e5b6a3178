"""Household registry reads for many households at once (GraphQL DataLoaders and lists): one statement per
batch whatever the number of households, every one scoped and permission-checked like the single reads in
:mod:`service`, rows as Core rows (no ORM objects), personal data left to :mod:`masking`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Household, HouseholdEvent, Income, Indicator, Member, Objection, Publicity
from app.domain.access import require
from app.domain.households.masking import HOUSEHOLD_FIELDS
from app.domain.households.queries import SORT_KEYS, HouseholdFilter, household_filters
from app.domain.households.rules import INDICATORS
from app.domain.pagination import Page, PageRequest, fetch_rows, rows_by_parent
from app.domain.principal import Permission, Principal
from app.domain.scope import scoped

HOUSEHOLD_COLUMNS = tuple(getattr(Household, name) for name in HOUSEHOLD_FIELDS)


async def household_page(
    session: AsyncSession, principal: Principal, f: HouseholdFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    """A page of whole household rows (personal data still to be masked) with the list's filters and order."""
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = household_filters(select(*HOUSEHOLD_COLUMNS), principal, f)
    return await fetch_rows(session, statement, SORT_KEYS[f.sort], page)


async def count_households(session: AsyncSession, principal: Principal, f: HouseholdFilter) -> int:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = household_filters(select(func.count()).select_from(Household), principal, f)
    return int(await session.scalar(statement) or 0)


async def households_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The households among ``ids`` in scope (others are missing). As the single read: out of scope is
    "not found" whatever the roles; in scope without the permission is forbidden."""
    if not ids:
        return {}
    statement = (
        scoped(Household, principal).with_only_columns(*HOUSEHOLD_COLUMNS).where(Household.id.in_(set(ids)))
    )
    found = {row.id: row for row in await session.execute(statement)}
    if found:
        require(principal, Permission.HOUSEHOLDS_READ)
    return found


async def members_by_household(
    session: AsyncSession, principal: Principal, household_ids: Sequence[uuid.UUID], *, include_left: bool
) -> dict[uuid.UUID, list[Row[Any]]]:
    """Each household's members, head first then by birth date (as the single read orders them)."""
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = (
        scoped(Member, principal)
        .with_only_columns(*Member.__table__.c)
        .where(Member.household_id.in_(set(household_ids)))
        .order_by(Member.household_id, Member.relation != "head", Member.birth_date)
    )
    if not include_left:
        statement = statement.where(Member.is_active)
    return await rows_by_parent(session, statement, "household_id", household_ids)


async def incomes_by_household(
    session: AsyncSession, principal: Principal, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = (
        scoped(Income, principal)
        .with_only_columns(*Income.__table__.c)
        .where(Income.household_id.in_(set(household_ids)))
        .order_by(Income.household_id, Income.year)
    )
    return await rows_by_parent(session, statement, "household_id", household_ids)


async def indicators_by_household(
    session: AsyncSession, principal: Principal, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """Each household's indicators (两不愁三保障 and water) in the registry's order of indicators."""
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = (
        scoped(Indicator, principal)
        .with_only_columns(*Indicator.__table__.c)
        .where(Indicator.household_id.in_(set(household_ids)))
    )
    found = await rows_by_parent(session, statement, "household_id", household_ids)
    order = {name: n for n, name in enumerate(INDICATORS)}
    for rows in found.values():
        rows.sort(key=lambda row: order.get(row.indicator, len(order)))
    return found


async def events_by_household(
    session: AsyncSession, principal: Principal, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """Each household's lifecycle steps (动态管理记录) in time order."""
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = (
        scoped(HouseholdEvent, principal)
        .with_only_columns(*HouseholdEvent.__table__.c)
        .where(HouseholdEvent.household_id.in_(set(household_ids)))
        .order_by(HouseholdEvent.household_id, HouseholdEvent.at, HouseholdEvent.id)
    )
    return await rows_by_parent(session, statement, "household_id", household_ids)


async def publicities_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row[Any]]:
    """The publicities (公示) lifecycle steps opened, by id."""
    require(principal, Permission.HOUSEHOLDS_READ)
    if not ids:
        return {}
    statement = (
        scoped(Publicity, principal)
        .with_only_columns(*Publicity.__table__.c)
        .where(Publicity.id.in_(set(ids)))
    )
    return {row.id: row for row in await session.execute(statement)}


async def objections_by_publicity(
    session: AsyncSession, principal: Principal, publicity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """The objections (异议) raised in each publicity, in the order they were raised."""
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = (
        scoped(Objection, principal)
        .with_only_columns(*Objection.__table__.c)
        .where(Objection.publicity_id.in_(set(publicity_ids)))
        .order_by(Objection.raised_on, Objection.created_at)
    )
    return await rows_by_parent(session, statement, "publicity_id", publicity_ids)
