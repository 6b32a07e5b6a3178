"""Benchmark of region statistics (区域统计): python -m bench.stats [--rebuild] [--repeat 200].

On the province-scale database of bench/generate.py (default ``fupin_bench``, 2,000,000 households; it must
be at the migration head: ``FUPIN_DATABASE_URL=... fupin db upgrade``):

1. with ``--rebuild``, times the full rebuild of the rollups (what ``fupin stats rebuild`` runs);
2. times, each ``--repeat`` times after a warm-up, in a transaction of its own as a request has:
   * the province's statistics: ``stats_for_regions(session, principal, [province], year)``;
   * a county's townships with their statistics, as a dashboard draws them: the county's child regions
     (the regions service's scoped list) and one batched ``stats_for_regions`` call for all of them;
3. prints the medians and p99 as a markdown table (bench/RESULTS.md, "Region statistics").

The caller is a province-level data consumer (dashboards, 省级系统).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from app.db.models import TownshipRollup, VillageRollup
from app.db.session import create_database
from app.domain.pagination import PageRequest
from app.domain.principal import Principal
from app.domain.regions import codes
from app.domain.regions.service import list_regions
from app.domain.stats import rollups
from app.domain.stats.service import stats_for_regions
from app.settings import Settings

PROVINCE = "620000000000"
COUNTY = "620102000000"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _time(repeat: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(5):
        await work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def run(database_url: str, *, rebuild: bool, repeat: int, year: int, county: str) -> None:
    database = create_database(Settings(database_url=database_url, database_statement_timeout_ms=0))
    principal = Principal.build(
        kind="client", id=uuid.uuid4(), name="bench-dashboard", region_code=PROVINCE, roles=["data_consumer"]
    )
    try:
        if rebuild:
            started = time.perf_counter()
            async with database.sessionmaker() as session, session.begin():
                counts = await rollups.rebuild_all(session)
            print(f"full rebuild: {time.perf_counter() - started:.1f} s, {counts}")
            async with database.engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE village_rollups, township_rollups, fund_rollups")
        async with database.sessionmaker() as session:
            households = await session.scalar(
                select(func.sum(TownshipRollup.households)).where(  # scope: the benchmark's own check
                    TownshipRollup.dimension == "status"
                )
            )
            villages = await session.scalar(
                select(func.count(func.distinct(VillageRollup.region_code)))  # scope: the benchmark's check
            )
        print(f"rollups count {households} households in {villages} villages")

        async def province() -> object:
            async with database.sessionmaker() as session, session.begin():
                return await stats_for_regions(session, principal, [PROVINCE], year)

        async def townships() -> object:
            async with database.sessionmaker() as session, session.begin():
                page = await list_regions(
                    session, principal, PageRequest(limit=200, cursor=None), parent=county
                )
                codes_ = [region.code for region in page.items]
                return await stats_for_regions(session, principal, codes_, year)

        sample = await townships()
        assert isinstance(sample, dict)
        print(f"county {county}: {len(sample)} townships")
        rows = []
        for name, work in (
            ("province stats", province),
            (f"county's {len(sample)} townships with stats", townships),
        ):
            times = await _time(repeat, work)
            rows.append((name, statistics.median(times), _percentile(times, 0.99), max(times)))
        print("| request | median | p99 | max |")
        print("|---|---|---|---|")
        for name, median, p99, worst in rows:
            print(f"| {name} | {median:.1f} ms | {p99:.1f} ms | {worst:.1f} ms |")
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench")
    parser.add_argument("--rebuild", action="store_true", help="time a full rebuild of the rollups first")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--county", default=COUNTY)
    args = parser.parse_args()
    assert codes.level_of(args.county) == "county"
    asyncio.run(
        run(args.database_url, rebuild=args.rebuild, repeat=args.repeat, year=args.year, county=args.county)
    )


if __name__ == "__main__":
    main()
