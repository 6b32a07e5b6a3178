"""Assistance plans (帮扶计划, 一户一策): a household's yearly plans with their measures, and the visits and
work logs of cadres (走访, 工作日志). ``plan(id)``, ``measure(id)``, ``visits`` (the filters of ``GET
/visits``), and on a household its ``plans`` and latest ``visits``, all through scoped DataLoaders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy import Row

from app.api.schemas.common import RegionCodeStr
from app.api.schemas.plans import VisitKind, Year
from app.domain import clock
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.plans import batches, coverage
from app.domain.plans.visits import VISIT_KEYS, VisitFilter
from app.graphql.connections import (
    AFTER_DESCRIPTION,
    DEFAULT_FIRST,
    FIRST_DESCRIPTION,
    Connection,
    page_request,
)
from app.graphql.context import GraphQLContext, Info
from app.graphql.types.households import Household
from app.graphql.types.responsibility import Cadre, load_cadre, load_household
from app.graphql.types.support import attributes, checked

CATEGORIES = (
    "产业 industry, 就业 employment, 教育 education, 健康 health, 社会保障兜底 social_security, 危房改造 "
    "house_renovation, 易地搬迁 relocation, 生态 ecology, 基础设施 infrastructure, 村庄整治 "
    "village_renovation, 光伏 photovoltaic, 金融/小额信贷 microcredit"
)
MAX_LATEST_VISITS = 50

# DataLoader batch functions ------------------------------------------------------------------------------


async def plan_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await batches.plans_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def plans_by_household(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await batches.plans_by_household(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def measure_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await batches.measures_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def measures_by_plan(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await batches.measures_by_plan(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def latest_visits(
    context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[dict[str, Any]]]:
    """Keyed by (household id, how many): one statement per distinct number asked for."""
    result: dict[tuple[uuid.UUID, int], list[dict[str, Any]]] = {}
    for latest in {latest for _, latest in keys}:
        ids = [household_id for household_id, n in keys if n == latest]
        found = await batches.visits_by_household(context.session, context.principal, ids, latest=latest)
        result.update({(household_id, latest): rows for household_id, rows in found.items()})
    return [result[key] for key in keys]


# Types --------------------------------------------------------------------------------------------------


@strawberry.type(description="A measure of a plan (帮扶措施)")
class Measure:
    id: uuid.UUID
    plan_id: uuid.UUID
    household_id: uuid.UUID
    region_code: str = strawberry.field(description="The household's village")
    year: int = strawberry.field(description="The plan's year")
    category: str = strawberry.field(description=CATEGORIES)
    description: str
    responsible_cadre_id: uuid.UUID | None
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    status: str = strawberry.field(description="planned, in_progress, done or cancelled")
    expected_benefit: Decimal | None = strawberry.field(description="Yuan")
    actual_benefit: Decimal | None = strawberry.field(description="Yuan")
    project_ref: str | None = strawberry.field(description="The project (项目库) paying for it, when known")
    fund_transfer_ref: str | None = strawberry.field(
        description="The fund transfer paying for it, when known"
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Measure:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="The plan the measure belongs to")
    async def plan(self, info: Info) -> Plan | None:
        row = await info.context.loader(plan_by_id).load(self.plan_id)
        return Plan.from_row(row) if row is not None else None

    @strawberry.field(description="The household")
    async def household(self, info: Info) -> Household | None:
        return await load_household(info, self.household_id)

    @strawberry.field(description="The responsible cadre, when you can see them")
    async def responsible_cadre(self, info: Info) -> Cadre | None:
        return await load_cadre(info, self.responsible_cadre_id)


@strawberry.type(description="A household's assistance plan for one year (帮扶计划, 一户一策)")
class Plan:
    id: uuid.UUID
    household_id: uuid.UUID
    region_code: str = strawberry.field(description="The household's village")
    year: int
    goal_income: Decimal | None = strawberry.field(description="Target per-capita net income, yuan")
    planned_exit_year: int | None = strawberry.field(description="计划脱贫年度")
    notes: str | None
    version: int = strawberry.field(description="Increases with every change (REST's ETag carries it)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Plan:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="The plan's measures in the order they were added")
    async def measures(self, info: Info) -> list[Measure]:
        return [Measure.from_row(row) for row in await info.context.loader(measures_by_plan).load(self.id)]

    @strawberry.field(description="The household")
    async def household(self, info: Info) -> Household | None:
        return await load_household(info, self.household_id)


@strawberry.type(description="A visit or work log entry (走访, 工作日志)")
class Visit:
    id: uuid.UUID
    region_code: str = strawberry.field(description="The household's village")
    household_id: uuid.UUID
    cadre_id: uuid.UUID
    visited_on: date
    kind: str = strawberry.field(description="visit 走访 or work_log 工作日志")
    content: str
    created_by_name: str = strawberry.field(description="Who recorded it")
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Visit:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="The household visited")
    async def household(self, info: Info) -> Household | None:
        return await load_household(info, self.household_id)

    @strawberry.field(description="The cadre, when you can see them")
    async def cadre(self, info: Info) -> Cadre | None:
        return await load_cadre(info, self.cadre_id)


# Links from a household ---------------------------------------------------------------------------------


async def household_plans(info: Info, household_id: uuid.UUID) -> list[Plan]:
    return [Plan.from_row(row) for row in await info.context.loader(plans_by_household).load(household_id)]


async def household_visits(info: Info, household_id: uuid.UUID, latest: int) -> list[Visit]:
    if not 1 <= latest <= MAX_LATEST_VISITS:
        raise InvalidInput(
            f"`latest` must be between 1 and {MAX_LATEST_VISITS}.",
            "visits.invalid_latest",
            errors=[FieldError(("args", "latest"), f"not in 1..{MAX_LATEST_VISITS}", "range")],
        )
    rows = await info.context.loader(latest_visits).load((household_id, latest))
    return [Visit.from_row(attributes(row)) for row in rows]


# Five full coverages (五个全覆盖, the REST report field for field) ---------------------------------------


@strawberry.type(description="Households eligible for a coverage, and those of them lacking it")
class CoverageCount:
    eligible: int
    lacking: int


@strawberry.type(description="The five coverages")
class FiveCoverageCounts:
    education: CoverageCount = strawberry.field(description="教育资助")
    medical_insurance: CoverageCount = strawberry.field(description="医疗保险")
    house_renovation: CoverageCount = strawberry.field(description="危房改造")
    employment: CoverageCount = strawberry.field(description="就业创业")
    photovoltaic: CoverageCount = strawberry.field(description="光伏收益")

    @classmethod
    def of(cls, values: dict[str, dict[str, int]]) -> FiveCoverageCounts:
        return cls(**{name: CoverageCount(**values[name]) for name in cls.__annotations__})


@strawberry.type(description="The five coverages of one child region")
class FiveCoveragesRegion:
    region_code: str
    name: str
    households: int = strawberry.field(description="Households in the population")
    coverages: FiveCoverageCounts


@strawberry.type(description="Five full coverages (五个全覆盖) of a region for a year")
class FiveCoverages:
    region_code: str
    name: str
    year: int
    include_exited: bool
    households: int
    coverages: FiveCoverageCounts
    children: list[FiveCoveragesRegion] = strawberry.field(description="One per child region")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> FiveCoverages:
        return cls(
            region_code=document["region_code"],
            name=document["name"],
            year=document["year"],
            include_exited=document["include_exited"],
            households=document["households"],
            coverages=FiveCoverageCounts.of(document["coverages"]),
            children=[
                FiveCoveragesRegion(
                    region_code=child["region_code"],
                    name=child["name"],
                    households=child["households"],
                    coverages=FiveCoverageCounts.of(child["coverages"]),
                )
                for child in document["children"]
            ],
        )


# Root fields --------------------------------------------------------------------------------------------


@strawberry.input(description="The visit list's filters (the same as GET /api/v1/visits)")
class VisitFilterInput:
    region: str | None = strawberry.field(default=None, description="Only this region's subtree")
    household_id: uuid.UUID | None = None
    cadre_id: uuid.UUID | None = None
    kind: str | None = strawberry.field(default=None, description="visit or work_log")
    from_: date | None = strawberry.field(default=None, name="from", description="First day (inclusive)")
    to: date | None = strawberry.field(default=None, description="Last day (inclusive)")


def _visit_filter(given: VisitFilterInput | None) -> VisitFilter:
    given = given or VisitFilterInput()
    values = checked({"region": (RegionCodeStr, given.region), "kind": (VisitKind, given.kind)})
    return VisitFilter(
        region=values["region"],
        household_id=given.household_id,
        cadre_id=given.cadre_id,
        kind=values["kind"],
        start=given.from_,
        end=given.to,
    )


@strawberry.type
class PlanQuery:
    @strawberry.field(
        description="A plan in your scope, with its measures (an error `plan.not_found` otherwise)"
    )
    async def plan(self, info: Info, id: uuid.UUID) -> Plan:
        row = await info.context.loader(plan_by_id).load(id)
        if row is None:
            raise NotFound("plan")
        return Plan.from_row(row)

    @strawberry.field(description="A measure in your scope (an error `measure.not_found` otherwise)")
    async def measure(self, info: Info, id: uuid.UUID) -> Measure:
        row = await info.context.loader(measure_by_id).load(id)
        if row is None:
            raise NotFound("measure")
        return Measure.from_row(row)

    @strawberry.field(description="Visits and work logs in your scope, by village, date and id")
    async def visits(
        self,
        info: Info,
        filter: VisitFilterInput | None = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_FIRST,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Visit]:
        context = info.context
        f = _visit_filter(filter)
        page = await batches.visit_page(context.session, context.principal, f, page_request(first, after))

        async def count() -> int:
            return await batches.count_visits(context.session, context.principal, f)

        return Connection.of(page, VISIT_KEYS, lambda row: Visit.from_row(attributes(row)), count)

    @strawberry.field(
        description="Five full coverages (五个全覆盖) of a region in your scope for a year (default this "
        "year), per child region: households, and for each coverage the eligible and those lacking it "
        "(as GET /api/v1/regions/{code}/five-coverages)"
    )
    async def five_coverages(
        self, info: Info, region_code: str, year: int | None = None, include_exited: bool = False
    ) -> FiveCoverages:
        values = checked({"regionCode": (RegionCodeStr, region_code), "year": (Year, year)}, "report")
        context = info.context
        query = coverage.CoverageQuery(region_code, values["year"] or clock.today().year, include_exited)
        return FiveCoverages.from_document(
            await coverage.coverage_report(context.session, context.principal, query)
        )
