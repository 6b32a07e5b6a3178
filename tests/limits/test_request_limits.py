"""Request body sizes, page size caps and statement timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.api import bulk
from app.api import regions as regions_api
from app.db.models import ApiClient, Region
from app.db.session import Database
from app.domain.households import exports
from app.domain.households import service as households
from app.domain.regions import service as regions
from app.settings import Settings
from tests.conftest import COUNTY, VILLAGE_A1, Account, assert_problem
from tests.factories import make_household
from tests.limits.support import app_with

AccountFactory = Callable[..., Awaitable[Account]]
pytestmark = pytest.mark.usefixtures("tree")
SMALL = 4096


@pytest.fixture
async def admin(account_factory: AccountFactory) -> Account:
    return await account_factory(COUNTY, "admin", "county_officer", "data_consumer")


async def clients_stored(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiClient)) or 0)


# Body sizes ---------------------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413_problem_and_changes_nothing(
    settings: Settings, db: Database, admin: Account
) -> None:
    oversized = {"name": "看板", "region_code": COUNTY, "padding": "x" * SMALL}

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted while it is read
        yield b'{"name": "' + b"x" * SMALL
        yield b'", "region_code": "620522000000"}'

    async with app_with(settings, max_request_body_bytes=SMALL) as http:
        announced = await http.post("/api/v1/clients", json=oversized, headers=admin.headers)
        streamed = await http.post(
            "/api/v1/clients", content=chunked(), headers=admin.headers | {"content-type": "application/json"}
        )
        form = await http.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": "x" * SMALL, "password": "x"}
        )
        within = await http.post(
            "/api/v1/clients", json={"name": "看板", "region_code": COUNTY}, headers=admin.headers
        )

    for response in (announced, streamed, form):
        problem = assert_problem(response, 413, "http.413")
        assert problem["request_id"] == response.headers["x-request-id"]
    assert str(SMALL) in announced.json()["detail"]
    assert within.status_code == 201, within.text
    assert await clients_stored(db) == 1


async def test_imports_take_files_larger_than_the_general_limit(
    settings: Settings, db: Database, admin: Account
) -> None:
    rows = "".join(f"6205221002{n:02d},新村{n}\n" for n in range(3, 99))
    region_file = ("code,name\n" + rows).encode() + b"\n" * SMALL
    households_file = b"x" * (SMALL * 4)

    async with app_with(settings, max_request_body_bytes=SMALL) as http:
        region_import = await http.post(
            "/api/v1/regions/import",
            files={"file": ("regions.csv", region_file, "text/csv")},
            headers=admin.headers,
        )
        household_import = await http.post(
            "/api/v1/households/imports",
            files={"file": ("households.csv", households_file, "text/csv")},
            data={"dry_run": "true"},
            headers=admin.headers,
        )

    assert region_import.status_code == 200, region_import.text[:500]
    # Read and checked in full, past the general limit: the layout's header is wrong, not the size.
    assert household_import.status_code == 422, household_import.text[:500]
    assert household_import.json()["code"] == "household.import.header"
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).where(Region.code == "620522100203")) == 1


async def test_an_import_over_its_own_limit_is_413(
    settings: Settings, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The route's limit is fixed when the route is declared: read what it is, send one byte more.
    route = next(r for r in regions_api.router.routes if getattr(r, "path", "").endswith("/import"))
    limit = route.max_body_size  # type: ignore[attr-defined]
    assert limit == regions_api.MAX_IMPORT_BYTES + 64 * 1024
    assert bulk.MAX_IMPORT_BYTES + bulk.MULTIPART_OVERHEAD > SMALL
    async with app_with(settings, max_request_body_bytes=SMALL) as http:
        response = await http.post(
            "/api/v1/regions/import",
            content=b"x" * (limit + 1),
            headers=admin.headers | {"content-type": "multipart/form-data; boundary=x"},
        )

    problem = assert_problem(response, 413, "http.413")
    assert str(limit) in problem["detail"]


# Page sizes ---------------------------------------------------------------------------------------------


def limit_parameters(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "limit":
                    found.append((method, path, parameter["schema"]))
    return found


def test_every_paged_list_caps_its_page_size(app: FastAPI) -> None:
    parameters = limit_parameters(app)

    assert len(parameters) >= 15  # the lists of every area
    uncapped = [
        (method, path) for method, path, schema in parameters if not 1 <= schema.get("maximum", 0) <= 1000
    ]
    assert uncapped == []


async def test_a_page_larger_than_the_cap_is_422_on_every_list_without_path_parameters(
    app: FastAPI, client: httpx.AsyncClient, admin: Account
) -> None:
    checked = []
    for method, path, schema in limit_parameters(app):
        if method != "get" or "{" in path:
            continue
        too_many = await client.get(path, params={"limit": schema["maximum"] + 1}, headers=admin.headers)
        largest = await client.get(path, params={"limit": schema["maximum"]}, headers=admin.headers)
        problem = assert_problem(too_many, 422, "validation")
        assert [error["loc"] for error in problem["errors"]] == [["query", "limit"]]
        assert largest.status_code != 422, (path, largest.text)
        checked.append(path)

    assert {"/api/v1/households", "/api/v1/regions", "/api/v1/users", "/api/v1/clients"} <= set(checked)


# Statement timeouts (PostgreSQL) --------------------------------------------------------------------------


@pytest.fixture
def postgres(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("statement_timeout is a PostgreSQL setting; SQLite has none")


async def test_a_statement_past_the_timeout_is_503_problem(
    settings: Settings, admin: Account, postgres: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow_regions(session: Any, *args: Any, **kwargs: Any) -> Any:
        await session.execute(text("SELECT pg_sleep(2)"))
        raise AssertionError("the statement should have been cancelled")

    async def slow_list(reader: Any, *args: Any, **kwargs: Any) -> Any:  # the hot-read pool (app/db/reads.py)
        await reader.fetch(select(func.pg_sleep(2).label("slept")), {})
        raise AssertionError("the statement should have been cancelled")

    monkeypatch.setattr(regions, "list_regions", slow_regions)
    monkeypatch.setattr(households, "list_households", slow_list)
    async with app_with(settings, database_statement_timeout_ms=100) as http:
        answers = [
            await http.get("/api/v1/regions", headers=admin.headers),
            await http.get("/api/v1/households", headers=admin.headers),
        ]
        monkeypatch.undo()
        after = await http.get("/api/v1/regions", headers=admin.headers)

    for response in answers:
        problem = assert_problem(response, 503, "database.timeout")
        assert response.headers["Retry-After"] == "5"
        assert "nothing was changed" in problem["detail"]
    assert after.status_code == 200  # the connection went back to the pool in working order


async def test_an_export_runs_under_its_own_longer_timeout(
    settings: Settings, db: Database, admin: Account, postgres: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_household(db, VILLAGE_A1)
    members = exports._members

    async def slow_members(connection: Any, *args: Any) -> Any:
        await connection.execute(text("SELECT pg_sleep(0.3)"))  # past the server's timeout
        return await members(connection, *args)

    monkeypatch.setattr(exports, "_members", slow_members)
    async with app_with(
        settings, database_statement_timeout_ms=100, database_export_statement_timeout_ms=5000
    ) as http:
        export = await http.get(
            "/api/v1/households/export", params={"format": "ndjson"}, headers=admin.headers
        )

    assert export.status_code == 200, export.text
    assert len(export.content.splitlines()) == 1


async def test_the_statement_timeout_is_set_on_every_connection(settings: Settings, postgres: None) -> None:
    from app.db.session import create_database

    database = create_database(settings.model_copy(update={"database_statement_timeout_ms": 1234}))
    try:
        async with database.engine.connect() as connection:
            engine_value = await connection.scalar(text("SHOW statement_timeout"))
        rows = await database.reader.fetch(
            select(func.current_setting("statement_timeout").label("value")), {}
        )
    finally:
        await database.dispose()
    await asyncio.sleep(0)

    assert engine_value == "1234ms"
    assert rows.values[0][0] == "1234ms"
