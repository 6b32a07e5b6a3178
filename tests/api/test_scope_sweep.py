"""The generic scope sweep: every route of the app, every role, at county, township and village level,
against records in every region of the test tree.

Each route must be declared in a module of ``tests/api/sweep`` (a test fails for any route that is not),
saying what it needs and how to aim it at a region. The sweep then proves, for every principal and every
target: out of scope → 404 (a record elsewhere is indistinguishable from a missing one) and nothing
changes; in scope without the permission → 403 and nothing changes; in scope with it → success.
Lists must return exactly the records of the caller's subtree.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
import sqlite3
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.base import Base
from app.db.session import Database
from app.domain.auth.tokens import issue_access_token
from app.domain.principal import Principal, Role
from app.domain.regions import codes
from app.settings import Settings
from tests import factories
from tests.api.sweep import (
    SWEEP_LEVELS,
    Listing,
    Own,
    Permitted,
    Public,
    Request,
    Spec,
    Targeted,
    World,
)
from tests.api.sweep import bulk as bulk_specs
from tests.api.sweep import funds as fund_specs
from tests.api.sweep import households as household_specs
from tests.api.sweep import lifecycle as lifecycle_specs
from tests.api.sweep import plans as plan_specs
from tests.api.sweep import platform as platform_specs
from tests.api.sweep import projects as project_specs
from tests.api.sweep import responsibility as responsibility_specs
from tests.api.sweep import stats as stats_specs
from tests.api.sweep import sync as sync_specs
from tests.conftest import _empty_tables, make_user, store_tree, truncate

DOMAINS = (
    platform_specs,
    household_specs,
    bulk_specs,
    lifecycle_specs,
    responsibility_specs,
    plan_specs,
    fund_specs,  # before the projects: their build adds its ledger records to this module's lists
    project_specs,
    stats_specs,
    sync_specs,
)
SPECS: dict[tuple[str, str], Spec] = {key: spec for domain in DOMAINS for key, spec in domain.SPECS.items()}
SUCCESS = {200, 201, 202, 204}  # 202: an import job accepted


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every operation the app serves, read from its own OpenAPI description."""
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}


async def build_world(db: Database, settings: Settings) -> World:
    await store_tree(db)
    world = World()
    for domain in DOMAINS:
        await domain.build(db, settings, world)
    for region in SWEEP_LEVELS:
        for role in Role:
            account = await make_user(db, settings, region_code=region, roles=[role])
            world.principals.append((account.principal, account.token))
    return world


UNWATCHED = ("login_throttle", "audit_log")  # a refused request may count a failure, and is audited


@dataclass
class _Image:
    world: World  # as built: each route gets a copy (requests use up its pools)
    sequence: int  # where tests/factories.py's counter stood: requests number their records after the world's
    sqlite: sqlite3.Connection | None  # SQLite: an in-memory copy of the database file
    rows: dict[Table, list[dict[str, Any]]]  # PostgreSQL: every row of every table
    digests: dict[str, str]  # PostgreSQL: a digest of each table's rows


class Worlds:
    """The world is built once per run and put back before every route, rather than built per route (the
    builds were a third of the sweep's time). Each route starts from exactly the state of a fresh build: the
    same rows in every table (SQLite: the file copied back by the backup API; PostgreSQL: the tables whose
    rows differ rewritten, with triggers and foreign-key checks paused as in a replica), a fresh copy of the
    World, fresh tokens, and the factories' counter where the build left it, so that the route's requests
    create the records they would after a fresh build. A World that cannot be copied, or a PostgreSQL role
    that may not pause triggers, falls back to a build per route (same checks, slower) with a warning."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._image: _Image | None = None
        self._reusable = True

    async def fresh(self, app: FastAPI) -> World:
        await app.state.jobs.wait_idle()  # the previous test's jobs have ended
        if self._image is None:
            await _empty_tables(self._db)
            world = await build_world(self._db, self._settings)
            if self._reusable:
                self._image = await self._capture(world)
            return world
        image = self._image
        if image.sqlite is not None:
            await asyncio.to_thread(_sqlite_restore, image.sqlite, self._settings.sqlite_path)
        else:
            await _postgresql_restore(self._db, image)
        factories._sequence = itertools.count(image.sequence)
        world = copy.deepcopy(image.world)
        # As build_world's make_user issues them; the first ones may have expired since.
        world.principals = [
            (principal, issue_access_token(self._settings, principal, personal_data=False).token)
            for principal, _ in world.principals
        ]
        return world

    async def _capture(self, world: World) -> _Image | None:
        try:
            pristine = copy.deepcopy(world)
        except Exception as error:  # any object a module put in the World
            return self._give_up(f"the World cannot be copied ({error!r})")
        sequence = next(factories._sequence)
        factories._sequence = itertools.count(sequence)
        if self._settings.is_sqlite:
            copied = await asyncio.to_thread(_sqlite_copy, self._settings.sqlite_path)
            return _Image(pristine, sequence, copied, {}, {})
        try:
            async with self._db.engine.begin() as connection:
                await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        except DBAPIError as error:
            return self._give_up(f"this role may not pause triggers ({error.orig!r})")
        async with self._db.engine.connect() as connection:
            rows = {
                table: [
                    dict(zip(table.c.keys(), row, strict=True))
                    for row in await connection.execute(select(table))
                ]
                for table in Base.metadata.sorted_tables
            }
            digests = await _digests(connection)
        return _Image(pristine, sequence, None, rows, digests)

    def close(self) -> None:
        if self._image is not None and self._image.sqlite is not None:
            self._image.sqlite.close()

    def _give_up(self, why: str) -> None:
        self._reusable = False
        warnings.warn(f"the scope sweep builds its world for every route: {why}", stacklevel=2)


def _sqlite_copy(path: Path) -> sqlite3.Connection:
    copied = sqlite3.connect(":memory:", check_same_thread=False)
    source = sqlite3.connect(path)
    try:
        source.backup(copied)
    finally:
        source.close()
    return copied


def _sqlite_restore(image: sqlite3.Connection, path: Path) -> None:
    target = sqlite3.connect(path, timeout=30)
    try:
        image.backup(target)
    finally:
        target.close()


async def _digests(connection: AsyncConnection) -> dict[str, str]:
    """PostgreSQL: the md5 of each table's rows (their text, sorted), in one query."""
    quote = connection.dialect.identifier_preparer.quote
    digests = [
        f"SELECT '{table.name}', md5(coalesce(string_agg(x::text, chr(10) ORDER BY x::text), ''))"  # noqa: S608
        f" FROM {quote(table.name)} AS x"
        for table in Base.metadata.sorted_tables
    ]
    return dict((await connection.exec_driver_sql(" UNION ALL ".join(digests))).all())  # type: ignore[arg-type]


async def _postgresql_restore(db: Database, image: _Image) -> None:
    async with db.engine.begin() as connection:
        # No triggers (the ledger's guards) nor foreign-key checks in this transaction, so each table can
        # be rewritten alone: what is written is a copy of a consistent state.
        await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        digests = await _digests(connection)
        changed = {table for table in image.rows if digests[table.name] != image.digests[table.name]}
        # Triggers that fire ALWAYS (the audit log's) refuse a DELETE even here: such a table is truncated,
        # and so, by CASCADE, is every table that refers to it, which must then be rewritten too.
        always = await _always_guarded(connection)
        truncated = {table for table in changed if table.name in always}
        rewritten = changed | _referring(truncated)
        if truncated:
            await truncate(connection, sorted(table.name for table in truncated))
        for table in rewritten - truncated:
            await connection.execute(delete(table))
        for table in rewritten:
            if image.rows[table]:
                await connection.execute(insert(table), image.rows[table])


_ALWAYS: dict[str, set[str]] = {}


async def _always_guarded(connection: AsyncConnection) -> set[str]:
    key = str(connection.engine.url)
    if key not in _ALWAYS:
        # tgtype bit 8: a DELETE trigger; tgenabled 'A': fires whatever session_replication_role says.
        query = "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger"
        query += " WHERE tgtype & 8 <> 0 AND tgenabled = 'A'"
        _ALWAYS[key] = set((await connection.exec_driver_sql(query)).scalars())
    return _ALWAYS[key]


def _referring(tables: set[Table]) -> set[Table]:
    """The tables that refer to ``tables``, directly or not."""
    found: set[Table] = set()
    grew = True
    while grew:
        grew = False
        for table in Base.metadata.sorted_tables:
            if table not in found and any(fk.column.table in tables | found for fk in table.foreign_keys):
                found.add(table)
                grew = True
    return found


async def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table, as the database's text of it, in one query: a refused write must leave all
    of it as it was. (It was a query per table; a write route's sweep takes a snapshot per refusal.)"""
    tables = [table for table in Base.metadata.sorted_tables if table.name not in UNWATCHED]
    async with db.engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        if connection.dialect.name == "postgresql":
            rows = [f"SELECT '{t.name}', x::text FROM {quote(t.name)} AS x" for t in tables]  # noqa: S608
        else:
            # quote(): a value's SQL literal (text escaped, blobs in hex, NULL), so rows compare exactly.
            separator = " || ',' || "
            rows = [
                f"SELECT '{t.name}', {separator.join(f'quote({quote(c.name)})' for c in t.columns)} "  # noqa: S608
                f"FROM {quote(t.name)}"
                for t in tables
            ]
        result = await connection.exec_driver_sql(" UNION ALL ".join(rows))
        state: dict[str, list[str]] = {table.name: [] for table in tables}
        for name, row in result:
            state[name].append(row)
    return {name: sorted(rows) for name, rows in state.items()}


class WriteMarks:
    """A number that moves whenever a write is committed to the database: the same number before and after a
    request proves that it wrote nothing, anywhere. SQLite: ``PRAGMA data_version`` on a connection of our
    own, which changes with every commit by any other connection. PostgreSQL: the next transaction id of the
    cluster (every transaction that writes gets one; other databases' writes move it too, which costs no
    more than a full comparison)."""

    def __init__(self, settings: Settings) -> None:
        self._sqlite = sqlite3.connect(settings.sqlite_path) if settings.is_sqlite else None

    async def read(self, db: Database) -> int:
        if self._sqlite is not None:
            return int(self._sqlite.execute("PRAGMA data_version").fetchone()[0])
        async with db.engine.connect() as connection:
            return int(await connection.scalar(text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")))

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()


class Snapshots:
    """The state of every table as last proven: a refused write's after-snapshot is the next one's before,
    so a run of refusals reads the tables once each instead of twice per request (it was two thirds of
    the sweep's time); and when no write at all was committed since that state was read (the write mark
    has not moved), it still is the state, with no need to read it again. Anything that may have written
    forgets it."""

    def __init__(self, db: Database, marks: WriteMarks) -> None:
        self._db = db
        self._marks = marks
        self._known: dict[str, list[str]] | None = None
        self._mark: int | None = None  # read before the tables were

    async def current(self) -> dict[str, list[str]]:
        if self._known is None:
            self._mark = await self._marks.read(self._db)
            self._known = await snapshot(self._db)
        return self._known

    async def assert_unchanged(self, before: dict[str, list[str]], context: Any) -> None:
        mark = await self._marks.read(self._db)
        if before is self._known and mark == self._mark:
            return  # nothing was committed since ``before`` was read
        after = await snapshot(self._db)
        assert after == before, ("a refused write changed data", *context)
        self._known, self._mark = after, mark

    def forget(self) -> None:
        self._known = self._mark = None


def _url(path: str, request: Request) -> str:
    values = request.get("path")
    if values is None:
        return path
    if not isinstance(values, dict):
        values = {re.search(r"\{(\w+)\}", path).group(1): values}  # type: ignore[union-attr]
    return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), path)


async def _send(
    client: httpx.AsyncClient, method: str, url: str, token: str, request: Request
) -> httpx.Response:
    return await client.request(
        method,
        url,
        headers={"Authorization": f"Bearer {token}", **request.get("headers", {})},
        json=request.get("json"),
        files=request.get("files"),
        params=request.get("params"),
    )


def test_every_route_is_declared_for_the_sweep(app: FastAPI) -> None:
    undeclared = app_routes(app) - set(SPECS)
    assert not undeclared, (
        f"declare these routes in tests/api/sweep so the scope sweep covers them: {sorted(undeclared)}"
    )
    stale = set(SPECS) - app_routes(app)
    assert not stale, f"the sweep declares routes that no longer exist: {sorted(stale)}"


@pytest.fixture
async def sweep_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The conftest's ``client`` without its ``db``: the tables are not emptied first, as Worlds.fresh()
    puts them in the world's state (on PostgreSQL rewriting only the tables that differ from it)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await app.state.jobs.wait_idle()


@pytest.fixture(scope="session")
def worlds(database: Database, settings: Settings) -> Iterator[Worlds]:
    kept = Worlds(database, settings)
    yield kept
    kept.close()


@pytest.fixture(scope="session")
def write_marks(database: Database, settings: Settings) -> Iterator[WriteMarks]:
    marks = WriteMarks(settings)
    yield marks
    marks.close()


@pytest.mark.parametrize(("method", "path"), sorted(SPECS))
async def test_scope_sweep(
    method: str,
    path: str,
    sweep_client: httpx.AsyncClient,
    worlds: Worlds,
    write_marks: WriteMarks,
    database: Database,
    app: FastAPI,
) -> None:
    client = sweep_client
    spec = SPECS[(method, path)]
    if isinstance(spec, Public):
        response = await client.request(method, path)
        assert response.status_code < 500, response.text
        return
    world = await worlds.fresh(app)
    snapshots = Snapshots(database, write_marks)
    for principal, token in world.principals:
        who = f"{sorted(principal.roles)} at {principal.region_code}"
        if method != "GET" and not isinstance(spec, Targeted):
            snapshots.forget()
        if isinstance(spec, Own):
            response = await _send(client, method, path, token, spec.request(principal))
            assert response.status_code == spec.expected, (who, response.text)
        elif isinstance(spec, Permitted):
            response = await _send(client, method, path, token, spec.request(principal))
            assert response.status_code == (200 if principal.can(spec.permission) else 403), (
                who,
                response.text,
            )
        elif isinstance(spec, Listing):
            await _sweep_listing(client, spec, world, principal, token, who)
        else:
            await _sweep_targets(client, snapshots, method, path, spec, world, principal, token, who, app)
    # Without a token, nothing but the public routes answers.
    response = await client.request(method, re.sub(r"\{\w+\}", "x", path))
    assert response.status_code in (401, 422), response.text


async def _sweep_listing(
    client: httpx.AsyncClient, spec: Listing, world: World, principal: Principal, token: str, who: str
) -> None:
    if not principal.can(spec.permission):
        response = await _send(client, "GET", spec.url, token, {})
        assert response.status_code == 403, (who, response.text)
        return
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await client.get(spec.url, params=params, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (who, response.text)
        body = response.json()
        seen.extend(item["region_code"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = [r for r in spec.expected_regions(world) if codes.is_within(r, principal.scope_prefix)]
    assert sorted(seen) == sorted(expected), who


async def _sweep_targets(
    client: httpx.AsyncClient,
    snapshots: Snapshots,
    method: str,
    path: str,
    spec: Targeted,
    world: World,
    principal: Principal,
    token: str,
    who: str,
    app: FastAPI,
) -> None:
    for region in spec.targets:
        in_scope = codes.is_within(region, principal.scope_prefix)
        allowed = spec.allows(principal) if spec.allows is not None else principal.can(spec.permission)
        if spec.permission_first and not allowed:
            expected: int | set[int] = 403
        elif not in_scope:
            expected = spec.out_of_scope_status
        else:
            expected = SUCCESS if allowed else 403
        request = spec.request(world, region, principal)
        await app.state.jobs.wait_idle()  # jobs an earlier request started (imports) have ended
        before = await snapshots.current() if method != "GET" and expected != SUCCESS else None
        response = await _send(client, method, _url(path, request), token, request)
        context = (who, method, path, region, response.text)
        if expected == SUCCESS:
            assert response.status_code in SUCCESS, context
        else:
            assert response.status_code == expected, context
            assert response.headers["content-type"].startswith("application/problem+json"), context
        if before is not None:
            await snapshots.assert_unchanged(before, context)
        elif method != "GET":
            snapshots.forget()
