"""Load a province-scale registry into PostgreSQL, fast: python -m bench.generate --households 2000000.

1. Create the database if needed and migrate it (app.db.migrate.upgrade), so the schema is the app's own.
2. Store the region tree of the dataset and the three benchmark users.
3. Drop the keys, indexes and foreign keys of the bulk tables, as the catalogue says they are now.
4. Stream seven COPY FROM STDIN at once (households, members, incomes, indicators, and the responsibility
   chains: work_units, cadres, assignments); worker processes write the lines county by county, so this
   process only moves bytes and never holds more than a few counties.
5. Build the keys and indexes again, two at a time, then the foreign keys; ANALYZE.
6. Rebuild the statistics rollups (what ``fupin stats rebuild`` does): COPY bypasses their upkeep.

Every record comes from a generator seeded per village (a county's units and leaders per county, a
township's cover per township): the same command loads the same rows, and a smaller dataset is the first
part of a larger one. The timings go to stdout and to bench/data/<database>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.db.migrate import upgrade
from app.db.session import create_database
from app.domain.auth.passwords import hash_password
from app.domain.stats import rollups
from app.settings import Settings
from bench.province import COUNTIES, Province, Village, build_province
from bench.registry import HOUSEHOLD_COLUMNS, INCOME_COLUMNS, INDICATOR_COLUMNS, MEMBER_COLUMNS, Registry
from bench.responsibility import (
    ASSIGNMENT_COLUMNS,
    CADRE_COLUMNS,
    WORK_UNIT_COLUMNS,
    ChainLines,
    Responsibility,
)

BULK_TABLES = {
    "households": HOUSEHOLD_COLUMNS,
    "members": MEMBER_COLUMNS,
    "incomes": INCOME_COLUMNS,
    "indicators": INDICATOR_COLUMNS,
    "work_units": WORK_UNIT_COLUMNS,
    "cadres": CADRE_COLUMNS,
    "assignments": ASSIGNMENT_COLUMNS,
}
REGISTRY_TABLES = ("households", "members", "incomes", "indicators")
# Index builds start with the largest tables, to even out the two lanes.
LARGEST_FIRST = ("members", "indicators", "assignments", "households", "incomes", "cadres")
BENCH_PASSWORD = "bench-password"  # noqa: S105  the documented password of the benchmark users
DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class BenchUser:
    username: str
    role: str
    region: str  # "township", "county" or "province" of the dataset


BENCH_USERS = (
    BenchUser("bench_township", "township_reviewer", "township"),
    BenchUser("bench_county", "county_officer", "county"),
    BenchUser("bench_province", "data_consumer", "province"),
)


@dataclass
class Timings:
    phases: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        print(f"{name} ...", flush=True)
        yield
        self.phases[name] = round(time.perf_counter() - started, 1)
        print(f"{name}: {self.phases[name]} s", flush=True)


def asyncpg_dsn(database_url: str, database: str | None = None) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def prepare_database(database_url: str, *, replace: bool) -> None:
    """Create the database if it does not exist; with ``replace``, drop it first."""
    name = make_url(database_url).database
    assert name, "the URL names no database"
    server = await asyncpg.connect(asyncpg_dsn(database_url, "postgres"))
    try:
        exists = await server.fetchval("SELECT true FROM pg_database WHERE datname = $1", name)
        if exists and replace:
            if "bench" not in name:
                raise SystemExit(f"refusing to drop {name}: only databases named *bench* are replaced")
            await server.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()


async def store_regions_and_users(conn: asyncpg.Connection, province: Province) -> None:
    now = datetime.now(UTC)
    await conn.copy_records_to_table(
        "regions",
        records=[(r.code, r.name, r.level, r.parent_code, now, now) for r in province.regions],
        columns=("code", "name", "level", "parent_code", "created_at", "updated_at"),
    )
    regions = {
        "township": province.bench_township,
        "county": province.bench_county,
        "province": province.regions[0].code,
    }
    password_hash = hash_password(BENCH_PASSWORD)
    await conn.executemany(
        """INSERT INTO users (id, username, display_name, region_code, roles, has_personal_data_grant,
                              password_hash, password_changed_at, is_active, created_at, updated_at)
           VALUES ($1, $2, $2, $3, $4::jsonb, false, $5, $6, true, $6, $6)""",
        [
            (
                uuid.uuid5(uuid.NAMESPACE_DNS, f"{u.username}.bench.fupin"),
                u.username,
                regions[u.region],
                json.dumps([u.role]),
                password_hash,
                now,
            )
            for u in BENCH_USERS
        ],
    )


@dataclass(frozen=True)
class Definition:
    table: str
    name: str
    sql: str  # what creates it again
    kind: str  # "key" (primary or unique), "index" or "foreign"


async def drop_secondary_structures(conn: asyncpg.Connection) -> list[Definition]:
    """Drop what makes COPY slow on the bulk tables (and foreign keys pointing at them); return how to
    create it all again, read from the catalogue so that it follows the migrations."""
    tables = list(BULK_TABLES)
    constraints = await conn.fetch(
        """SELECT c.conrelid::regclass::text AS table, c.conname AS name, c.contype::text AS type,
                  pg_get_constraintdef(c.oid) AS definition
           FROM pg_constraint c
           WHERE c.contype IN ('p', 'u', 'f')
             AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1))""",
        tables,
    )
    indexes = await conn.fetch(
        """SELECT i.tablename AS table, i.indexname AS name, i.indexdef AS definition
           FROM pg_indexes i
           WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        tables,
    )
    definitions = [
        Definition(
            row["table"],
            row["name"],
            f'ALTER TABLE {row["table"]} ADD CONSTRAINT "{row["name"]}" {row["definition"]}',
            "foreign" if row["type"] == "f" else "key",
        )
        for row in constraints
    ] + [Definition(row["table"], row["name"], row["definition"], "index") for row in indexes]
    for definition in sorted(definitions, key=lambda d: d.kind != "foreign"):  # foreign keys go first
        if definition.kind == "index":
            await conn.execute(f'DROP INDEX "{definition.name}"')
        else:
            await conn.execute(f'ALTER TABLE {definition.table} DROP CONSTRAINT "{definition.name}"')
    return definitions


async def restore_secondary_structures(dsn: str, definitions: list[Definition]) -> None:
    """Keys and indexes two at a time (one per core), then the foreign keys, which need the keys."""
    for kinds in (("key", "index"), ("foreign",)):
        pending = [d for d in definitions if d.kind in kinds]
        pending.sort(
            key=lambda d: LARGEST_FIRST.index(d.table) if d.table in LARGEST_FIRST else len(LARGEST_FIRST)
        )
        await asyncio.gather(_build(dsn, pending), _build(dsn, pending))


async def _build(dsn: str, pending: list[Definition]) -> None:
    """Take definitions off the shared list until it is empty."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 0")
        while pending:
            await conn.execute(pending.pop(0).sql)
    finally:
        await conn.close()


def county_lines(seed: int, villages: list[Village]) -> dict[str, bytes]:
    """COPY text of one county's villages, per table (runs in the worker process)."""
    registry, chains = Registry(seed), Responsibility(seed)
    parts: dict[str, list[str]] = {table: [] for table in REGISTRY_TABLES}
    county_code = villages[0].county_code
    chain_lines = ChainLines()
    county = chains.county(county_code, dict(COUNTIES)[county_code[:6]], chain_lines)
    township = ""
    for village in villages:
        lines = registry.village(village)
        for table in REGISTRY_TABLES:
            parts[table] += getattr(lines, table)
        if village.code[:9] != township:
            township = village.code[:9]
            chains.township(county, township + "000", chain_lines)
        chains.village(county, village, lines.pairable, chain_lines)
    return {
        **{table: "".join(rows).encode() for table, rows in parts.items()},
        **{
            table: "".join(getattr(chain_lines, table)).encode()
            for table in BULK_TABLES
            if table not in parts
        },
    }


async def copy_bulk_tables(dsn: str, province: Province, seed: int, workers: int) -> None:
    """A COPY stream per table fed by worker processes, a few counties ahead at most (memory stays flat)."""
    queues: dict[str, asyncio.Queue[bytes | None]] = {
        table: asyncio.Queue(maxsize=2) for table in BULK_TABLES
    }

    async def drain(queue: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
        while (chunk := await queue.get()) is not None:
            yield chunk

    async def copy(table: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.copy_to_table(table, source=drain(queues[table]), columns=BULK_TABLES[table])
        finally:
            await conn.close()

    async def produce() -> None:
        counties = [list(group) for _, group in groupby(province.villages, key=lambda v: v.county_code)]
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            window: list[Future[dict[str, bytes]]] = []
            for villages in counties:
                window.append(pool.submit(county_lines, seed, villages))
                if len(window) > workers:
                    await _forward(await asyncio.wrap_future(window.pop(0), loop=loop), queues)
            for future in window:
                await _forward(await asyncio.wrap_future(future, loop=loop), queues)
        for queue in queues.values():
            await queue.put(None)

    await asyncio.gather(produce(), *(copy(table) for table in BULK_TABLES))


async def _forward(chunks: dict[str, bytes], queues: dict[str, asyncio.Queue[bytes | None]]) -> None:
    for table, chunk in chunks.items():
        await queues[table].put(chunk)


async def generate(
    database_url: str, households: int, seed: int, workers: int, replace: bool
) -> dict[str, Any]:
    timings = Timings()
    dsn = asyncpg_dsn(database_url)
    province = build_province(households)
    with timings.phase("create and migrate"):
        await prepare_database(database_url, replace=replace)
        await asyncio.to_thread(upgrade, database_url)
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM households)"):
            raise SystemExit("the database already holds households: use --replace to load it anew")
        with timings.phase("regions and users"):
            await store_regions_and_users(conn, province)
            definitions = await drop_secondary_structures(conn)
        with timings.phase("copy"):
            await copy_bulk_tables(dsn, province, seed, workers)
        with timings.phase("indexes and keys"):
            await restore_secondary_structures(dsn, definitions)
        with timings.phase("analyze"):
            await conn.execute("ANALYZE")
        with timings.phase("statistics rollups"):  # fupin stats rebuild: the load went in by COPY
            await rebuild_rollups(database_url)
            await conn.execute("ANALYZE village_rollups, township_rollups, fund_rollups")
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in ("regions", *BULK_TABLES)
        }
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    summary = {
        "database": make_url(database_url).database,
        "households": households,
        "seed": seed,
        "rows": counts,
        "database_size": size,
        "seconds": timings.phases,
        "total_seconds": round(sum(timings.phases.values()), 1),
        "bench_township": province.bench_township,
        "bench_county": province.bench_county,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    DATA_DIR.mkdir(exist_ok=True)
    (DATA_DIR / f"{summary['database']}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return summary


async def rebuild_rollups(database_url: str) -> None:
    """What ``fupin stats rebuild`` does: every statistics rollup recomputed from the loaded rows."""
    database = create_database(Settings(database_url=database_url, database_statement_timeout_ms=0))
    try:
        async with database.sessionmaker() as session, session.begin():
            await rollups.rebuild_all(session)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench")
    parser.add_argument("--households", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--workers", type=int, default=2, help="processes writing lines (one core each)")
    parser.add_argument("--replace", action="store_true", help="drop and recreate the database first")
    args = parser.parse_args()
    summary = asyncio.run(generate(args.database_url, args.households, args.seed, args.workers, args.replace))
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
