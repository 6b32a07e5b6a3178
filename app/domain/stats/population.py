"""Rural population (农村人口) per region and year: the denominator of poverty incidence (贫困发生率), kept by
county officers for their county and the regions below it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import RuralPopulation
from app.domain import audit
from app.domain.access import require
from app.domain.principal import Permission, Principal
from app.domain.regions.service import ensure_region_exists, get_region
from app.domain.scope import scoped


async def list_populations(
    session: AsyncSession, principal: Principal, code: str
) -> Sequence[RuralPopulation]:
    """The figures recorded for a region in scope (404 otherwise), by year."""
    await get_region(session, principal, code)
    require(principal, Permission.REGIONS_READ)
    statement = scoped(RuralPopulation, principal).where(RuralPopulation.region_code == code)
    return (await session.scalars(statement.order_by(RuralPopulation.year))).all()


async def set_population(
    session: AsyncSession, principal: Principal, code: str, year: int, population: int
) -> RuralPopulation:
    """Record (or correct) a region's rural population for a year; audited with the old and new figure."""
    await ensure_region_exists(session, principal, code)
    require(principal, Permission.REFERENCE_WRITE)
    row = await session.scalar(
        scoped(RuralPopulation, principal)
        .where(RuralPopulation.region_code == code, RuralPopulation.year == year)
        .with_for_update()
    )
    before = row.population if row is not None else None
    if row is None:
        row = RuralPopulation(
            region_code=code, year=year, population=population, updated_by=principal.subject
        )
        session.add(row)
    else:
        row.population, row.updated_by = population, principal.subject
    await session.flush()
    await audit.record(
        session,
        principal,
        action="set_rural_population",
        record_type="rural_population",
        region_code=code,
        fields=["population"],
        record_ids=[f"{code}:{year}"],
        details={"year": year, "from": before, "to": population},
    )
    return row
