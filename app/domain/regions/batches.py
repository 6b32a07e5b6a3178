"""Region reads for many regions at once (GraphQL DataLoaders): one statement per batch, scoped like every
other read of the tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Region
from app.domain.principal import Principal
from app.domain.regions import codes
from app.domain.scope import scoped

REGION_COLUMNS: tuple[Any, ...] = (Region.code, Region.name, Region.level, Region.parent_code)


async def regions_by_code(
    session: AsyncSession, principal: Principal, region_codes: Sequence[str]
) -> dict[str, Row[Any]]:
    """The regions among ``region_codes`` that the principal sees (others are simply missing)."""
    wanted = [code for code in set(region_codes) if codes.is_valid_code(code)]
    if not wanted:
        return {}
    statement = scoped(Region, principal).with_only_columns(*REGION_COLUMNS).where(Region.code.in_(wanted))
    return {row.code: row for row in await session.execute(statement)}


async def children_by_parent(
    session: AsyncSession, principal: Principal, parent_codes: Sequence[str]
) -> dict[str, list[Row[Any]]]:
    """The children in scope of each parent, ordered by code."""
    found: dict[str, list[Row[Any]]] = {code: [] for code in parent_codes}
    if not parent_codes:
        return found
    statement = (
        scoped(Region, principal)
        .with_only_columns(*REGION_COLUMNS)
        .where(Region.parent_code.in_(set(parent_codes)))
        .order_by(Region.code)
    )
    for row in await session.execute(statement):
        found[row.parent_code].append(row)
    return found


async def count_regions(
    session: AsyncSession, principal: Principal, *, parent: str | None, level: codes.Level | None
) -> int:
    """How many regions :func:`app.domain.regions.service.list_regions` lists with these filters."""
    statement = scoped(Region, principal).with_only_columns(func.count())
    if parent is not None:
        statement = statement.where(Region.parent_code == parent)
    if level is not None:
        statement = statement.where(Region.level == level)
    return int(await session.scalar(statement) or 0)


async def ancestor_rows(session: AsyncSession, region_codes: Sequence[str]) -> dict[str, list[Row[Any]]]:
    """The chain above each region, national root first. Only for regions the caller sees: the chain
    above a visible region is the caller's own ancestry or inside their scope, so no scope applies
    (as :func:`app.domain.regions.service.ancestors_of`)."""
    chains = {code: codes.ancestors_of(code) for code in region_codes}
    wanted = {code for chain in chains.values() for code in chain}
    if not wanted:
        return {code: [] for code in region_codes}
    rows = await session.execute(select(*REGION_COLUMNS).where(Region.code.in_(wanted)))  # scope: ancestors
    by_code = {row.code: row for row in rows}
    return {code: [by_code[c] for c in chain if c in by_code] for code, chain in chains.items()}
