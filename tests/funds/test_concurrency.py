"""Concurrency against a real server process on PostgreSQL: `fupin serve` (two worker processes) on a database
of its own, hit by 100 simultaneous requests.

- 100 disbursements of `a` from an account holding `10a`: exactly 10 succeed, the other 90 are 409
  `transfer.insufficient_funds`, and the account ends at 0.
- 100 requests with one Idempotency-Key: exactly one transfer, and every response is the same.

SQLite is skipped: its one database lock serializes every writer, so there is no race to prove there (the
SQLite path is covered by the same tests through ASGI and by the model test).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.db.session import Database, create_database
from app.domain.funds.verify import verify
from app.settings import Settings
from tests.conftest import COUNTY, TEST_SECRET, VILLAGE_A1, VILLAGE_A2, make_user, store_tree, truncate
from tests.factories import make_household
from tests.funds.ledger_support import body, pool

TEST_URL = os.environ.get("FUPIN_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not TEST_URL.startswith("postgresql"),
    reason="needs PostgreSQL (FUPIN_TEST_DATABASE_URL): on SQLite one database lock serializes all writers",
)
CONCURRENT = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _recreate(url: str, *, create: bool = True) -> None:
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        if create:
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()


@dataclass
class Server:
    base: str
    url: str


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A migrated database of its own (the test database's name + `_serve`) and `fupin serve` on it."""
    url = make_url(TEST_URL)
    url = url.set(database=f"{url.database}_serve").render_as_string(hide_password=False)
    asyncio.run(_recreate(url))
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUPIN_")}
    env |= {"FUPIN_DATABASE_URL": url, "FUPIN_JWT_SECRET": TEST_SECRET, "FUPIN_LOG_LEVEL": "WARNING"}
    env |= {"FUPIN_ACCOUNT_CHECK_SECONDS": "60", "FUPIN_DATABASE_POOL_SIZE": "10"}
    subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not become ready within 120 s")
        yield Server(base, url)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        asyncio.run(_recreate(url, create=False))  # leave no database behind


@pytest.fixture
async def served(server: Server) -> AsyncIterator[tuple[Server, Database, Settings]]:
    settings = Settings(database_url=server.url, jwt_secret=TEST_SECRET, jwt_algorithm="HS256")
    database = create_database(settings)
    yield server, database, settings
    await database.dispose()


async def _seed(database: Database, settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """The region tree, a finance officer of the county, a household in each of two villages."""
    async with database.engine.begin() as connection:
        tables = ["fund_entries", "fund_transfer_sources", "fund_transfers", "fund_account_sources"]
        tables += ["fund_accounts", "idempotency_keys", "audit_log", "households", "users"]
        await truncate(connection, tables)  # the audit log refuses a TRUNCATE but for this fixture path
        has_tree = await connection.exec_driver_sql(f"SELECT 1 FROM regions WHERE code = '{COUNTY}'")  # noqa: S608
        stored = has_tree.first() is not None
    if not stored:
        await store_tree(database)
    officer = await make_user(database, settings, region_code=COUNTY, roles=["finance_officer"])
    households = {
        region: str((await make_household(database, region)).id) for region in (VILLAGE_A1, VILLAGE_A2)
    }
    return officer.headers, households


async def _post(
    http: httpx.AsyncClient, headers: dict[str, str], payload: dict[str, object], key: str
) -> httpx.Response:
    return await http.post(
        "/api/v1/fund-transfers", headers={**headers, "Idempotency-Key": key}, json=payload
    )


async def _balance(http: httpx.AsyncClient, headers: dict[str, str], region: str) -> str:
    response = await http.get(
        "/api/v1/fund-accounts", headers=headers, params={"kind": "pool", "region": region}
    )
    return next(item["balance"] for item in response.json()["items"] if item["region_code"] == region)  # type: ignore[no-any-return]


async def test_100_concurrent_disbursements_from_10a_give_exactly_10(
    served: tuple[Server, Database, Settings],
) -> None:
    server, database, settings = served
    headers, households = await _seed(database, settings)
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=120) as http:
        setup = [
            body(
                "appropriation",
                {"source": "central", "county": COUNTY},
                pool(COUNTY),
                "1000.00",
                category="general",
            ),
            body("allocation", pool(COUNTY), pool(VILLAGE_A1), "1000.00"),
        ]
        for payload in setup:
            assert (await _post(http, headers, payload, str(uuid.uuid4()))).status_code == 201
        pay = body("disbursement", pool(VILLAGE_A1), {"household_id": households[VILLAGE_A1]}, "100.00")
        responses = await asyncio.gather(
            *(
                _post(http, headers, {**pay, "purpose": f"第 {n} 笔"}, str(uuid.uuid4()))
                for n in range(CONCURRENT)
            )
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses.count(201) == 10, statuses
        refused = [response for response in responses if response.status_code != 201]
        assert all(
            r.status_code == 409 and r.json()["code"] == "transfer.insufficient_funds" for r in refused
        ), {(r.status_code, r.text[:200]) for r in refused}
        assert await _balance(http, headers, VILLAGE_A1) == "0.00"
    async with database.sessionmaker() as session:
        report = await verify(session)
    assert report.ok, report.failures


async def test_100_concurrent_requests_with_one_key_make_one_transfer(
    served: tuple[Server, Database, Settings],
) -> None:
    server, database, settings = served
    headers, households = await _seed(database, settings)
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=120) as http:
        for payload in (
            body(
                "appropriation",
                {"source": "county", "county": COUNTY},
                pool(COUNTY),
                "10.00",
                category="general",
            ),
            body("allocation", pool(COUNTY), pool(VILLAGE_A2), "10.00"),
        ):
            assert (await _post(http, headers, payload, str(uuid.uuid4()))).status_code == 201
        pay = body("disbursement", pool(VILLAGE_A2), {"household_id": households[VILLAGE_A2]}, "1.00")
        key = str(uuid.uuid4())
        responses = await asyncio.gather(*(_post(http, headers, pay, key) for _ in range(CONCURRENT)))
        assert {response.status_code for response in responses} == {201}, {r.text[:200] for r in responses}
        assert len({response.json()["id"] for response in responses}) == 1
        assert (
            sum(response.headers.get("Idempotent-Replayed") == "true" for response in responses)
            == CONCURRENT - 1
        )
        listed = await http.get(
            "/api/v1/fund-transfers", headers=headers, params={"kind": "disbursement", "region": VILLAGE_A2}
        )
        assert len(listed.json()["items"]) == 1
        assert await _balance(http, headers, VILLAGE_A2) == "9.00"
    async with database.sessionmaker() as session:
        report = await verify(session)
    assert report.ok, report.failures
