"""Region statistics (区域统计) read from the rollups, batched: any number of regions in one statement (the
regions found in scope, the village counts, the township sums, the populations, the fund rows, as one
UNION ALL: one round trip).

A village reads its own rows of ``village_rollups``; every region above reads the ``township_rollups`` rows
of the townships under its prefix (one index range each), summed per requested region in SQL. Rollups
are kept current by app/domain/stats/rollups.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, String, and_, case, func, literal, or_, select, union_all
from sqlalchemy import cast as sql_cast
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


def _requested(wanted: Sequence[str]) -> Any:
    """The requested regions as a derived table ``(code, low, high)``: their subtrees' code ranges."""
    rows = []
    for code in wanted:
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


# Every part of the answer is a row ``(part, code, dimension, key, a, b, c)``, so that one statement (one
# round trip) reads them all: the regions found in scope, the counts, the populations, the fund figures.


def _row(part: str, code: Any, dimension: Any = "", key: Any = "", *numbers: Any) -> list[Any]:
    values = [*numbers, *([0] * (3 - len(numbers)))]
    return [
        literal(part, String).label("part"),
        sql_cast(code, String).label("code"),
        sql_cast(dimension, String).label("dimension"),
        sql_cast(key, String).label("key"),
        *(sql_cast(value, BigInteger).label(name) for value, name in zip(values, "abc", strict=True)),
    ]


def _regions_part(principal: Principal, wanted: Sequence[str]) -> Any:
    return (
        scoped(Region, principal)
        .where(Region.code.in_(wanted))
        .with_only_columns(*_row("region", Region.code))
    )


def _count_parts(principal: Principal, wanted: Sequence[str]) -> list[Any]:
    """Villages and townships read their own rows (by primary key); the regions above sum their townships'
    rows (an index range each)."""
    parts: list[Any] = []
    by_level: dict[str, list[str]] = defaultdict(list)
    for code in wanted:
        level = codes.level_of(code)
        by_level[level if level in ("village", "township") else "above"].append(code)
    for level, model in (("village", VillageRollup), ("township", TownshipRollup)):
        if by_level[level]:
            m: Any = model
            rows = _row("count", m.region_code, m.dimension, m.key, m.households, m.people)
            parts.append(restrict(select(*rows).where(m.region_code.in_(by_level[level])), model, principal))
    if by_level["above"]:
        requested, t = _requested(by_level["above"]), TownshipRollup
        rows = _row("count", requested.c.code, t.dimension, t.key, func.sum(t.households), func.sum(t.people))
        parts.append(
            restrict(
                select(*rows)
                .join(requested, _in(t.region_code, requested))
                .group_by(requested.c.code, t.dimension, t.key),
                t,
                principal,
            )
        )
    return parts


def _population_part(principal: Principal, wanted: Sequence[str], year: int) -> Any:
    ranges = [within_prefix(RuralPopulation.region_code, codes.region_prefix(code)) for code in wanted]
    rows = _row("population", RuralPopulation.region_code, "", "", RuralPopulation.population)
    return restrict(
        select(*rows).where(RuralPopulation.year == year, or_(*ranges)), RuralPopulation, principal
    )


def _funds_part(principal: Principal, wanted: Sequence[str], year: int) -> Any:
    """The fund report's received, disbursed and balance of each region's subtree for the fiscal year:
    a rollup row counts its "inside" figures when the region holds the other account too."""
    requested = _requested(wanted)
    other_inside = _in(FundRollup.other_code, requested)

    def figure(name: str) -> Any:
        inside, outside = getattr(FundRollup, f"{name}_inside"), getattr(FundRollup, f"{name}_outside")
        return func.coalesce(func.sum(case((other_inside, inside), else_=outside)), 0)

    rows = _row("funds", requested.c.code, "", "", figure("received"), figure("disbursed"), figure("balance"))
    return restrict(
        select(*rows)
        .join(requested, _in(FundRollup.region_code, requested))
        .where(FundRollup.fiscal_year == year)
        .group_by(requested.c.code),
        FundRollup,
        principal,
    )


def _money(fen: int) -> Decimal:
    return (Decimal(fen) * FEN).quantize(FEN)


def _fund_figures(sums: tuple[int, int, int] | None) -> FundFigures:
    received, disbursed, balance = sums or (0, 0, 0)
    return FundFigures(
        received=_money(received),
        disbursed=_money(disbursed),
        balance=_money(balance),
        balance_ratio=_ratio(balance, received),
    )


def _population(code: str, recorded: dict[str, int]) -> int | None:
    """农村人口 of a region: its own figure, else the sum of the figures recorded nearest below it (a county
    without a figure of its own counts its townships', each of those its villages' when it has none); None
    when nothing is recorded in the subtree."""
    if code in recorded:
        return recorded[code]
    prefix = codes.region_prefix(code)
    below = [
        value
        for other, value in recorded.items()
        if other.startswith(prefix)
        and not any(
            ancestor in recorded and ancestor.startswith(prefix) and ancestor != code
            for ancestor in codes.ancestors_of(other)
        )
    ]
    return sum(below) if below else None


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
    """The statistics of each region (in the caller's scope, else 404) for a year, keyed by code: one
    statement whatever the number of regions."""
    wanted = list(dict.fromkeys(codes_))
    if not wanted:
        return {}
    if not all(codes.is_valid_code(code) for code in wanted):
        raise NotFound("region")
    with_funds = principal.can(Permission.FUNDS_READ)
    parts = [
        _regions_part(principal, wanted),
        *_count_parts(principal, wanted),
        _population_part(principal, wanted, year),
        *([_funds_part(principal, wanted, year)] if with_funds else []),
    ]
    found: set[str] = set()
    counts: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
    recorded: dict[str, int] = {}
    funds: dict[str, tuple[int, int, int]] = {}
    for part, code, dimension, key, a, b, c in await session.execute(union_all(*parts)):
        if part == "region":
            found.add(code)
        elif part == "count":
            counts[code].append((dimension, key, int(a), int(b)))
        elif part == "population":
            recorded[code] = int(a)
        else:
            funds[code] = (int(a), int(b), int(c))
    if len(found) != len(wanted):  # nothing read is shown: out of scope answers as missing
        raise NotFound("region")
    require(principal, Permission.HOUSEHOLDS_READ)
    return {
        code: _figures(
            code,
            year,
            counts.get(code, []),
            _population(code, recorded),
            _fund_figures(funds.get(code)) if with_funds else None,
        )
        for code in wanted
    }


async def region_stats(session: AsyncSession, principal: Principal, code: str, year: int) -> RegionStats:
    return (await stats_for_regions(session, principal, [code], year))[code]
