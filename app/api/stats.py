"""Region statistics for dashboards, and the rural population counties keep for them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.deps import PrincipalDep, SessionDep
from app.api.schemas.stats import RegionStatsRead, RuralPopulationRead, RuralPopulationWrite
from app.domain import clock
from app.domain.stats import population, service

router = APIRouter(prefix="/api/v1/regions", tags=["statistics"])

Year = Annotated[int, Path(ge=1980, le=2100, description="Calendar (fiscal) year")]


@router.get(
    "/{code}/stats",
    summary="Statistics of a region",
    description="Households and people by status, attribute, cause and category; poverty incidence "
    "(贫困发生率); exits and returns per year; monitoring; responsibility coverage; fund figures of the "
    "fiscal year. Read from rollups kept current on every write: as fast for the province as for a village.",
    response_model=RegionStatsRead,
)
async def region_stats(
    code: str,
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=1980, le=2100, description="Defaults to the current year")] = None,
) -> RegionStatsRead:
    stats = await service.region_stats(session, principal, code, year or clock.today().year)
    return RegionStatsRead.model_validate(asdict(stats))


@router.get(
    "/{code}/rural-population",
    summary="Rural population of a region by year",
    description="The figures (农村人口) recorded for this region itself, oldest year first.",
    response_model=list[RuralPopulationRead],
)
async def list_rural_population(
    code: str, principal: PrincipalDep, session: SessionDep
) -> list[RuralPopulationRead]:
    rows = await population.list_populations(session, principal, code)
    return [RuralPopulationRead.model_validate(row) for row in rows]


@router.put(
    "/{code}/rural-population/{year}",
    summary="Set a region's rural population for a year",
    description="County officers (reference:write) keep the figure for regions in their scope; audited.",
    response_model=RuralPopulationRead,
)
async def set_rural_population(
    code: str, year: Year, body: RuralPopulationWrite, principal: PrincipalDep, session: SessionDep
) -> RuralPopulationRead:
    row = await population.set_population(session, principal, code, year, body.population)
    return RuralPopulationRead.model_validate(row)
