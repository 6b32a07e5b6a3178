"""Region statistics (区域统计) as GraphQL types: the figures of :mod:`app.domain.stats` for
``Region.stats(year)``, loaded for every region of a request in one batched domain read per year."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import strawberry

from app.domain.errors import NotFound
from app.domain.scope import is_in_scope
from app.domain.stats import service
from app.domain.stats import types as figures
from app.graphql.context import GraphQLContext


@strawberry.type(description="One bucket: a status, attribute, cause, category or monitoring kind")
class StatsCount:
    key: str = strawberry.field(description='The code-list key ("" when not set)')
    households: int
    people: int


@strawberry.type(description="Households and people of one year")
class StatsYearCount:
    year: int
    households: int
    people: int


@strawberry.type(description="责任覆盖: register households and those with an active cadre pairing")
class StatsCoverage:
    households: int
    covered: int
    uncovered: int
    ratio: float | None = strawberry.field(description="covered / households")


@strawberry.type(description="Money of the fiscal year in the region's subtree, in yuan")
class StatsFunds:
    received: Decimal
    disbursed: Decimal
    balance: Decimal
    balance_ratio: float | None = strawberry.field(description="结余率 = balance / received")


@strawberry.type(description="A region's statistics for a year (see the README's definitions)")
class RegionStats:
    region_code: str
    year: int
    households: int = strawberry.field(description="Register (建档立卡) households: registered or exited")
    people: int = strawberry.field(description="Their active members")
    by_status: list[StatsCount] = strawberry.field(description="Every household on record, by status")
    by_attribute: list[StatsCount] = strawberry.field(description="贫困户属性")
    by_cause: list[StatsCount] = strawberry.field(description="主要致贫原因")
    by_category: list[StatsCount]
    poor_households: int = strawberry.field(description="Registered, not yet out of poverty")
    poor_people: int
    rural_population: int | None = strawberry.field(description="农村人口 for the year, kept by counties")
    poverty_incidence: float | None = strawberry.field(
        description="贫困发生率 = poorPeople / ruralPopulation"
    )
    exits: list[StatsYearCount] = strawberry.field(description="脱贫 per exit year")
    returns: list[StatsYearCount] = strawberry.field(description="返贫 per year of approval")
    monitoring: list[StatsCount] = strawberry.field(description="防返贫监测, by monitoring kind")
    coverage: StatsCoverage
    funds: StatsFunds | None = strawberry.field(description="null when you may not read funds")

    @classmethod
    def of(cls, stats: figures.RegionStats) -> RegionStats:
        def counts(buckets: Sequence[figures.Count]) -> list[StatsCount]:
            return [StatsCount(key=b.key, households=b.households, people=b.people) for b in buckets]

        def years(rows: Sequence[figures.YearCount]) -> list[StatsYearCount]:
            return [StatsYearCount(year=r.year, households=r.households, people=r.people) for r in rows]

        coverage = stats.coverage
        funds = stats.funds
        return cls(
            region_code=stats.region_code,
            year=stats.year,
            households=stats.households,
            people=stats.people,
            by_status=counts(stats.by_status),
            by_attribute=counts(stats.by_attribute),
            by_cause=counts(stats.by_cause),
            by_category=counts(stats.by_category),
            poor_households=stats.poor_households,
            poor_people=stats.poor_people,
            rural_population=stats.rural_population,
            poverty_incidence=stats.poverty_incidence,
            exits=years(stats.exits),
            returns=years(stats.returns),
            monitoring=counts(stats.monitoring),
            coverage=StatsCoverage(
                households=coverage.households,
                covered=coverage.covered,
                uncovered=coverage.uncovered,
                ratio=coverage.ratio,
            ),
            funds=StatsFunds(
                received=funds.received,
                disbursed=funds.disbursed,
                balance=funds.balance,
                balance_ratio=funds.balance_ratio,
            )
            if funds is not None
            else None,
        )


async def region_stats(
    context: GraphQLContext, keys: Sequence[tuple[str, int]]
) -> list[figures.RegionStats | NotFound]:
    """Keyed by (region code, year): one batched read per year. A region outside the scope (an ancestor
    of the caller's region) answers not found on its own, without failing the others of the batch."""
    principal = context.principal
    found: dict[tuple[str, int], figures.RegionStats] = {}
    for year in sorted({year for _, year in keys}):
        wanted = [code for code, y in keys if y == year and is_in_scope(principal, code)]
        if wanted:
            by_code = await service.stats_for_regions(context.session, principal, wanted, year)
            found.update({(code, year): stats for code, stats in by_code.items()})
    return [found.get(key) or NotFound("region") for key in keys]
