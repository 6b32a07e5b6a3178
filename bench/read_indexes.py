"""EXPLAIN (ANALYZE, BUFFERS) of the coverage reports' and the responsibility chain's own statements, as the
app builds them, on a dataset of bench/generate.py: the evidence for migration 0011's indexes.

    python -m bench.generate --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_o_explain \\
        --households 60000 --workers 1 --replace
    python -m bench.read_indexes --add-measures \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_o_explain

``--add-measures`` first gives every household a 2020 plan with three measures of mixed categories and
statuses (bench/generate.py makes none, and the five-coverages report reads them). Each statement runs five
times with JIT off (as the reports run); the median execution time, the buffers of the last run and the
scans of its plan are printed. To compare, run it at revision 0010 and at 0011 (``alembic downgrade 0010``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import uuid
from typing import Any

from sqlalchemy import event, select, text

from app.db.models import Household
from app.db.session import Database, create_database
from app.domain.pagination import PageRequest
from app.domain.plans import coverage as five_coverages
from app.domain.principal import Principal
from app.domain.responsibility import chain, coverage
from app.settings import Settings

REPORTS = ("coverage", "five_coverages", "chain", "uncovered_households", "cadres_below_quota")
# The report's own lookups by key (its region, settings, the household): not what the indexes are for.
LOOKUP = re.compile(
    r"SELECT (regions|region_settings|households)\.\w+[^(]*?FROM \1\s+WHERE \(?\1\.(code|region_code|id)\b"
)
SCAN = re.compile(r"((?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: using| on) \w+)")
ADD_MEASURES = (
    """INSERT INTO assistance_plans (id, household_id, region_code, year, created_by, version, created_at,
    updated_at) SELECT gen_random_uuid(), id, region_code, 2020, 'bench', 1, now(), now() FROM households
    ON CONFLICT DO NOTHING""",
    """INSERT INTO plan_measures (id, plan_id, household_id, region_code, year, category, description, status,
    created_by, version, created_at, updated_at)
    SELECT gen_random_uuid(), p.id, p.household_id, p.region_code, 2020,
      (ARRAY['industry','employment','education','health','house_renovation','photovoltaic','ecology',
             'microcredit'])[1 + abs(hashtext(p.id::text || g::text)) % 8],
      'bench',
      (ARRAY['planned','in_progress','done','cancelled'])[1 + abs(hashtext(g::text || p.id::text)) % 4],
      'bench', 1, now(), now()
    FROM assistance_plans p, generate_series(1, 3) g WHERE p.year = 2020""",
    "ANALYZE assistance_plans",
    "ANALYZE plan_measures",
)


async def _statements(database: Database, report: str, region: str) -> list[tuple[str, Any]]:
    """The SELECTs the report runs, with their parameters (the region and settings lookups left out)."""
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    principal = Principal.build(
        kind="user", id=uuid.uuid4(), name="bench", region_code="620000000000", roles=["county_officer"]
    )
    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.sessionmaker() as session:
            if report == "five_coverages":
                query = five_coverages.CoverageQuery(region, 2020)
                await five_coverages.coverage_report(session, principal, query)
            elif report == "coverage":
                await coverage.coverage_report(session, principal, region)
            elif report == "chain":
                first = select(Household.id).where(Household.region_code >= region).order_by(Household.id)
                await chain.household_chain(session, principal, await session.scalar(first.limit(1)))
            else:
                await coverage.coverage_list(session, principal, region, report, PageRequest(limit=50))
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    return [
        (sql, parameters)
        for sql, parameters in captured
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and not LOOKUP.match(sql.lstrip())
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--region", default="620102000000", help="the county of the reports")
    parser.add_argument("--add-measures", action="store_true")
    args = parser.parse_args()
    database = create_database(Settings(database_url=args.database_url, jwt_secret="bench-" * 8))
    if args.add_measures:
        async with database.engine.begin() as connection:
            for statement in ADD_MEASURES:
                await connection.execute(text(statement))
    for report in REPORTS:
        for sql, parameters in await _statements(database, report, args.region):
            async with database.engine.connect() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                await driver.execute("SET jit = off")
                times, plan = [], ""
                for _ in range(5):
                    rows = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *parameters)
                    plan = "\n".join(row[0] for row in rows)
                    times.append(float(re.findall(r"Execution Time: ([\d.]+)", plan)[0]))
            buffers = re.search(r"Buffers: shared hit=\d+(?: read=\d+)?", plan)
            scans = "; ".join(sorted(set(SCAN.findall(plan))))
            found = buffers.group(0) if buffers else ""
            print(f"{report:22s} {statistics.median(times):9.2f} ms  {found:32s} {scans}")
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
