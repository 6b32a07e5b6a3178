"""Test fixtures: one migrated database per run (SQLite file, or PostgreSQL from FUPIN_TEST_DATABASE_URL),
emptied before every test; the app over httpx's ASGI transport; a small region tree; a principal per role.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import Table, delete, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from app.db.base import Base, utcnow
from app.db.migrate import upgrade
from app.db.models import ApiClient, CodeEntry, PovertyLine, Region, User
from app.db.session import Database, create_database
from app.domain.auth import passwords
from app.domain.auth.passwords import hash_password
from app.domain.auth.tokens import issue_access_token
from app.domain.principal import Principal, Role
from app.domain.regions import codes
from app.main import create_app
from app.settings import Settings

TEST_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"

# argon2id at its production cost takes 0.1 s per hash or check on a quiet machine and over 1 s on the busy
# 2-core CI machine, and the suite hashes or checks passwords thousands of times (accounts and clients made
# through the API, every sign-in; the scope sweep's user and client routes alone). The tests run the same
# code at argon2id's lowest cost: every hash carries its parameters, so nothing else differs. Production's
# cost (app/domain/auth/passwords.py) is untouched; subprocesses (tests/test_serve.py, the CLI) keep it.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("fupin: no such user")

# Hashed once all the same: most fixtures need some password.
PASSWORD_HASH = hash_password(PASSWORD)


def _database_url(tmp: Path) -> str:
    url = os.environ.get("FUPIN_TEST_DATABASE_URL")
    return url or f"sqlite+aiosqlite:///{tmp / 'test.db'}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="fupin-test-") as tmp:
        yield _database_url(Path(tmp))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        jwt_algorithm="HS256",
        log_json=True,
        log_level="WARNING",
        database_pool_size=5,
        account_check_seconds=0,
        # No rate limits or export quotas in the shared app (sweeps make hundreds of requests as one
        # principal); tests/limits/ builds apps with limits of their own.
        rate_limit_user_per_minute=0,
        rate_limit_client_per_minute=0,
        export_quota_client_per_day=0,
    )


async def _reset_schema(url: str) -> None:
    """Start PostgreSQL runs from an empty schema, so the migrations themselves are what is tested."""
    if not url.startswith("postgresql"):
        return
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> str:
    await _reset_schema(database_url)
    await asyncio.to_thread(upgrade, database_url)
    return database_url


@pytest.fixture(scope="session")
async def database(settings: Settings, migrated: str) -> AsyncIterator[Database]:
    db = create_database(settings)
    yield db
    await db.dispose()


# Seeded by the migrations (the national root region, default code lists and poverty lines): kept.
SEEDED_TABLES = {"regions", "code_entries", "poverty_lines"}


async def filled_tables(connection: AsyncConnection, tables: Iterable[Table]) -> list[Table]:
    """The tables among ``tables`` that hold a row, in the given order: one query for them all."""
    tables = list(tables)
    probes = [
        select(literal(table.name)).where(select(literal(1)).select_from(table).exists()) for table in tables
    ]
    names = set((await connection.execute(union_all(*probes))).scalars())
    return [table for table in tables if table.name in names]


_GUARDED: dict[str, set[str]] = {}


async def guarded_tables(connection: AsyncConnection) -> set[str]:
    """The PostgreSQL tables whose triggers refuse a DELETE (the append-only ones): emptied by TRUNCATE."""
    if connection.dialect.name != "postgresql":
        return set()
    key = str(connection.engine.url)
    if key not in _GUARDED:
        # tgtype bit 8: a DELETE trigger.
        query = text(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgtype & 8 <> 0"
        )
        _GUARDED[key] = set((await connection.execute(query)).scalars())
    return _GUARDED[key]


_TRUNCATE_GUARDS: dict[str, list[tuple[str, str, str]]] = {}


async def truncate(connection: AsyncConnection, tables: Iterable[str]) -> None:
    """TRUNCATE … CASCADE on PostgreSQL, for the test fixtures only. Tables whose triggers refuse a TRUNCATE
    (the audit log, migration 0010) get those triggers disabled for this one statement, inside the caller's
    transaction (ALTER TABLE locks the table: no other session ever sees them off), then re-enabled as they
    were. Only a table's owner or a superuser can do this; the application never does."""
    names = list(tables)
    key = str(connection.engine.url)
    if key not in _TRUNCATE_GUARDS:
        # tgtype bit 32: a TRUNCATE trigger; tgenabled: 'O' origin, 'A' always, 'R' replica.
        query = text(
            "SELECT tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgtype & 32 <> 0 AND tgenabled <> 'D'"
        )
        _TRUNCATE_GUARDS[key] = [tuple(row) for row in (await connection.execute(query)).all()]
    guards = [guard for guard in _TRUNCATE_GUARDS[key] if guard[0] in names]
    for table, trigger, _ in guards:
        await connection.execute(text(f'ALTER TABLE {table} DISABLE TRIGGER "{trigger}"'))
    await connection.execute(text(f"TRUNCATE {', '.join(names)} CASCADE"))
    modes = {"O": "", "A": "ALWAYS ", "R": "REPLICA "}
    for table, trigger, enabled in guards:
        await connection.execute(text(f'ALTER TABLE {table} ENABLE {modes[enabled]}TRIGGER "{trigger}"'))


async def _empty_tables(db: Database) -> None:
    # Only the tables that hold rows (a test writes to few), by DELETE, children first: on PostgreSQL a
    # TRUNCATE of every table cost 0.3-0.5 s per test (file operations per table). The append-only
    # tables refuse a DELETE: they are truncated first (with what references them).
    tables = [table for table in reversed(Base.metadata.sorted_tables) if table.name not in SEEDED_TABLES]
    async with db.engine.begin() as connection:
        filled = await filled_tables(connection, tables)
        guarded = await guarded_tables(connection)
        if truncated := [table.name for table in filled if table.name in guarded]:
            await truncate(connection, truncated)
        for table in filled:
            if table.name not in guarded:
                await connection.execute(delete(table))
        for table in (CodeEntry.__table__, PovertyLine.__table__):
            await connection.execute(delete(table).where(table.c.region_code != codes.NATIONAL_CODE))
        # The national root is data of the first migration: keep it.
        for level in reversed(codes.LEVELS[1:]):
            await connection.execute(delete(Region.__table__).where(Region.__table__.c.level == level))


@pytest.fixture
async def db(database: Database) -> Database:
    await _empty_tables(database)
    return database


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as s:
        yield s


@pytest.fixture(scope="session")
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    # Background jobs the test started end before the next test empties the tables.
    await app.state.jobs.wait_idle()


# The region tree every scope test uses: a county with 2 townships of 2 villages each, and a
# neighbouring county that nobody in the tree may see.
PROVINCE = "620000000000"
PREFECTURE = "620500000000"
COUNTY = "620522000000"
TOWNSHIP_A, TOWNSHIP_B = "620522100000", "620522101000"
VILLAGE_A1, VILLAGE_A2 = "620522100201", "620522100202"
VILLAGE_B1, VILLAGE_B2 = "620522101201", "620522101202"
OTHER_COUNTY, OTHER_TOWNSHIP, OTHER_VILLAGE = "620521000000", "620521100000", "620521100201"
TREE = {
    PROVINCE: "甘肃省",
    PREFECTURE: "天水市",
    COUNTY: "秦安县",
    TOWNSHIP_A: "兴国镇",
    TOWNSHIP_B: "郭嘉镇",
    VILLAGE_A1: "王家庄村",
    VILLAGE_A2: "李家湾村",
    VILLAGE_B1: "张家沟村",
    VILLAGE_B2: "刘家河村",
    OTHER_COUNTY: "清水县",
    OTHER_TOWNSHIP: "永清镇",
    OTHER_VILLAGE: "赵家坪村",
}


async def store_tree(db: Database) -> None:
    now = utcnow()
    async with db.sessionmaker() as s, s.begin():
        for code, name in sorted(TREE.items(), key=lambda item: len(codes.region_prefix(item[0]))):
            s.add(
                Region(
                    code=code,
                    name=name,
                    level=codes.level_of(code),
                    parent_code=codes.parent_of(code),
                    created_at=now,
                    updated_at=now,
                )
            )
            await s.flush()


@pytest.fixture
async def tree(db: Database) -> dict[str, str]:
    await store_tree(db)
    return TREE


@dataclass
class Account:
    """A stored user with a signed access token."""

    user: User
    principal: Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_user(
    db: Database,
    settings: Settings,
    *,
    region_code: str,
    roles: list[Role] | list[str],
    username: str | None = None,
    has_personal_data_grant: bool = False,
    is_active: bool = True,
    user_id: uuid.UUID | None = None,
) -> Account:
    user = User(
        id=user_id or uuid.uuid4(),
        username=username or f"u{uuid.uuid4().hex[:12]}",
        display_name="测试用户",
        region_code=region_code,
        roles=sorted(str(role) for role in roles),
        has_personal_data_grant=has_personal_data_grant,
        password_hash=PASSWORD_HASH,
        password_changed_at=utcnow(),
        is_active=is_active,
    )
    async with db.sessionmaker() as s, s.begin():
        s.add(user)
    principal = Principal.build(
        kind="user",
        id=user.id,
        name=user.username,
        region_code=region_code,
        roles=user.roles,
        has_personal_data_grant=has_personal_data_grant,
    )
    token = issue_access_token(settings, principal, personal_data=has_personal_data_grant).token
    return Account(user, principal, token)


async def make_client(
    db: Database, *, region_code: str, roles: list[str], secret: str = PASSWORD, is_active: bool = True
) -> ApiClient:
    api_client = ApiClient(
        id=uuid.uuid4(),
        client_id=f"fpc_{uuid.uuid4().hex[:16]}",
        name="测试客户端",
        region_code=region_code,
        roles=roles,
        secret_hash=PASSWORD_HASH if secret == PASSWORD else hash_password(secret),
        is_active=is_active,
    )
    async with db.sessionmaker() as s, s.begin():
        s.add(api_client)
    return api_client


@pytest.fixture
def account_factory(db: Database, settings: Settings):  # type: ignore[no-untyped-def]
    async def factory(region_code: str, *roles: Role | str, **kwargs) -> Account:  # type: ignore[no-untyped-def]
        return await make_user(db, settings, region_code=region_code, roles=list(roles), **kwargs)

    return factory


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:  # type: ignore[type-arg]
    """The response is an RFC 9457 problem with this status (and code, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body
