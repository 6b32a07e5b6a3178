"""Region statistics (区域统计) read from the rollups, batched: any number of regions in a constant number
of statements (the regions, the village counts, the township sums, the fund rows, the populations).

A village reads its own rows of ``village_rollups``; every region above reads the ``township_rollups`` rows
of the townships under its prefix (one index range each), summed per requested region in SQL. Rollups
are kept current by app/domain/stats/rollups.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FundRollup, Region, RuralPopulation, TownshipRollup, VillageRollup
from app.domain.access import require
from app.domain.errors import NotFound
from app.domain.funds.reports import ratio
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.scope import restrict, scoped, within_prefix
from app.domain.stats.types import Count, Coverage, FundFigures, RegionStats, YearCount

FEN = Decimal("0.01")


def _ratio(numerator: int, denominator: int | None) -> float | None:
    share = ratio(numerator, denominator) if denominator else None
    return float(share) if share is not None else None


def _requested(codes_: Sequence[str]) -> Any:
    """The requested regions as a derived table ``(code, low, high)``: their subtrees' code ranges."""
    rows = []
    for code in codes_:
        low, high = codes.subtree_bounds(codes.region_prefix(code))
        rows.append(
            select(
                literal(code, String).label("code"),
                literal(low, String).label("low"),
                literal(high, String).label("high"),
            )
        )
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("requested")


def _in(column: Any, requested: Any) -> ColumnElement[bool]:
    return and_(column >= requested.c.low, column <= requested.c.high)


async def _regions(session: AsyncSession, principal: Principal, wanted: Sequence[str]) -> None:
    """Every requested region exists in the caller's scope, else 404 as for one region."""
    if not all(codes.is_valid_code(code) for code in wanted):
        raise NotFound("region")
    found = set(
        (
            await session.scalars(
                scoped(Region, principal).where(Region.code.in_(wanted)).with_only_columns(Region.code)
            )
        ).all()
    )
    if len(found) != len(wanted):
        raise NotFound("region")


async def _counts(
    session: AsyncSession, principal: Principal, wanted: Sequence[str]
) -> dict[str, list[tuple[str, str, int, int]]]:
    """``{code: [(dimension, key, households, people)]}``: villages from their own rows, the others summed
    over their townships."""
    result: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
    villages = [code for code in wanted if codes.level_of(code) == "village"]
    above = [code for code in wanted if codes.level_of(code) != "village"]
    if villages:
        statement = restrict(
            select(  # type: ignore[arg-type]
                VillageRollup.region_code,
                VillageRollup.dimension,
                VillageRollup.key,
                VillageRollup.households,
                VillageRollup.people,
            ).where(VillageRollup.region_code.in_(villages)),
            VillageRollup,
            principal,
        )
        for row in await session.execute(statement):
            result[row[0]].append((row[1], row[2], int(row[3]), int(row[4])))
    if above:
        requested = _requested(above)
        statement = restrict(
            select(
                requested.c.code,
                TownshipRollup.dimension,
                TownshipRollup.key,
                func.sum(TownshipRollup.households),
                func.sum(TownshipRollup.people),
            )
            .join(requested, _in(TownshipRollup.region_code, requested))
            .group_by(requested.c.code, TownshipRollup.dimension, TownshipRollup.key),
            TownshipRollup,
            principal,
        )
        for row in await session.execute(statement):
            result[row[0]].append((row[1], row[2], int(row[3]), int(row[4])))
    return result


async def _funds(
    session: AsyncSession, principal: Principal, wanted: Sequence[str], year: int
) -> dict[str, FundFigures]:
    """The fund report's received, disbursed and balance of each region's subtree for the fiscal year."""
    requested = _requested(wanted)
    other_inside = _in(FundRollup.other_code, requested)

    def figure(name: str) -> Any:
        inside, outside = getattr(FundRollup, f"{name}_inside"), getattr(FundRollup, f"{name}_outside")
        return func.coalesce(func.sum(case((other_inside, inside), else_=outside)), 0)

    statement = restrict(
        select(requested.c.code, figure("received"), figure("disbursed"), figure("balance"))
        .join(requested, _in(FundRollup.region_code, requested))
        .where(FundRollup.fiscal_year == year)
        .group_by(requested.c.code),
        FundRollup,
        principal,
    )
    sums = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in await session.execute(statement)}
    figures = {}
    for code in wanted:
        received, disbursed, balance = sums.get(code, (0, 0, 0))
        figures[code] = FundFigures(
            received=(Decimal(received) * FEN).quantize(FEN),
            disbursed=(Decimal(disbursed) * FEN).quantize(FEN),
            balance=(Decimal(balance) * FEN).quantize(FEN),
            balance_ratio=_ratio(balance, received),
        )
    return figures


async def _populations(
    session: AsyncSession, principal: Principal, wanted: Sequence[str], year: int
) -> dict[str, int | None]:
    """农村人口 of each region for the year: its own figure, else the sum of the figures recorded nearest
    below it (a county without a figure of its own counts its townships', each of those its villages' when
    it has none); None when nothing is recorded in the subtree."""
    ranges = [within_prefix(RuralPopulation.region_code, codes.region_prefix(code)) for code in wanted]
    statement = restrict(
        select(RuralPopulation.region_code, RuralPopulation.population).where(  # type: ignore[arg-type]
            RuralPopulation.year == year, or_(*ranges)
        ),
        RuralPopulation,
        principal,
    )
    recorded = {row[0]: int(row[1]) for row in await session.execute(statement)}
    populations: dict[str, int | None] = {}
    for code in wanted:
        if code in recorded:
            populations[code] = recorded[code]
            continue
        prefix = codes.region_prefix(code)
        below = [
            value
            for other, value in recorded.items()
            if other != code
            and other.startswith(prefix)
            and not any(
                ancestor in recorded and ancestor.startswith(prefix) and ancestor != code
                for ancestor in codes.ancestors_of(other)
            )
        ]
        populations[code] = sum(below) if below else None
    return populations


def _buckets(rows: list[tuple[str, str, int, int]], dimension: str) -> tuple[Count, ...]:
    return tuple(
        Count(key, households, people)
        for dim, key, households, people in sorted(rows, key=lambda row: row[1])
        if dim == dimension
    )


def _years(rows: list[tuple[str, str, int, int]], dimension: str) -> tuple[YearCount, ...]:
    found = [(int(key), households, people) for dim, key, households, people in rows if dim == dimension]
    return tuple(YearCount(year, households, people) for year, households, people in sorted(found))


def _figures(
    code: str,
    year: int,
    rows: list[tuple[str, str, int, int]],
    population: int | None,
    funds: FundFigures | None,
) -> RegionStats:
    by_status = _buckets(rows, "status")
    status = {count.key: count for count in by_status}
    poor = status.get("registered", Count("registered", 0, 0))
    coverage = {count.key: count for count in _buckets(rows, "coverage")}
    register = coverage.get("households", Count("households", 0, 0))
    covered = coverage.get("covered", Count("covered", 0, 0)).households
    return RegionStats(
        region_code=code,
        year=year,
        households=register.households,
        people=register.people,
        by_status=by_status,
        by_attribute=_buckets(rows, "attribute"),
        by_cause=_buckets(rows, "cause"),
        by_category=_buckets(rows, "category"),
        poor_households=poor.households,
        poor_people=poor.people,
        rural_population=population,
        poverty_incidence=_ratio(poor.people, population),
        exits=_years(rows, "exit_year"),
        returns=_years(rows, "return_year"),
        monitoring=_buckets(rows, "monitoring"),
        coverage=Coverage(
            households=register.households,
            covered=covered,
            uncovered=register.households - covered,
            ratio=_ratio(covered, register.households),
        ),
        funds=funds,
    )


async def stats_for_regions(
    session: AsyncSession, principal: Principal, codes_: Sequence[str], year: int
) -> dict[str, RegionStats]:
    """The statistics of each region (in the caller's scope, else 404) for a year, keyed by code."""
    wanted = list(dict.fromkeys(codes_))
    if not wanted:
        return {}
    await _regions(session, principal, wanted)
    require(principal, Permission.HOUSEHOLDS_READ)
    counts = await _counts(session, principal, wanted)
    populations = await _populations(session, principal, wanted, year)
    funds = await _funds(session, principal, wanted, year) if principal.can(Permission.FUNDS_READ) else {}
    return {
        code: _figures(code, year, counts.get(code, []), populations[code], funds.get(code))
        for code in wanted
    }


async def region_stats(session: AsyncSession, principal: Principal, code: str, year: int) -> RegionStats:
    return (await stats_for_regions(session, principal, [code], year))[code]
