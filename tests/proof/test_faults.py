"""Fault injection on PostgreSQL, with a fund transfer (the write that must never half-happen) in flight:

- its connection killed mid-request (``pg_terminate_backend`` while the transfer waits on a row lock);
- a statement timeout (the lock held past ``FUPIN_DATABASE_STATEMENT_TIMEOUT_MS``);
- the database stopped, and restarted mid-request (a private throwaway cluster: the shared one is never
  touched).

Each time the client gets a 503 ``application/problem+json`` with ``Retry-After``, nothing of the transfer is
stored (no transfer, entry or Idempotency-Key), every ledger invariant holds (``fupin funds verify``), and
the next request after recovery succeeds: the same key then posts the transfer exactly once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.db.migrate import upgrade
from app.db.models import FundTransfer, IdempotencyKey
from app.db.session import Database, create_database
from app.domain.funds.verify import verify
from app.settings import Settings
from tests.auth.support import serving
from tests.conftest import COUNTY, VILLAGE_A1, make_user, store_tree
from tests.factories import make_household
from tests.funds.ledger_support import body, pool
from tests.proof.support import ON_POSTGRES, free_port

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="fault injection needs PostgreSQL (FUPIN_TEST_DATABASE_URL=postgresql+asyncpg://…)",
)
TRANSFERS = "/api/v1/fund-transfers"


@dataclass
class Ledger:
    headers: dict[str, str]
    payment: dict[str, Any]


async def _fund(db: Database, settings: Settings, http: httpx.AsyncClient) -> Ledger:
    """The tree, a finance officer, a household in VILLAGE_A1 and 1,000 yuan in the village's pool."""
    await store_tree(db)
    officer = await make_user(db, settings, region_code=COUNTY, roles=["finance_officer"])
    household = await make_household(db, VILLAGE_A1)
    for payload in (
        body(
            "appropriation",
            {"source": "central", "county": COUNTY},
            pool(COUNTY),
            "1000.00",
            category="general",
        ),
        body("allocation", pool(COUNTY), pool(VILLAGE_A1), "1000.00"),
    ):
        response = await http.post(
            TRANSFERS, headers={**officer.headers, "Idempotency-Key": str(uuid.uuid4())}, json=payload
        )
        assert response.status_code == 201, response.text
    payment = body("disbursement", pool(VILLAGE_A1), {"household_id": str(household.id)}, "100.00")
    return Ledger(officer.headers, payment)


async def _connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database=parsed.database
    )


async def _lock_village_pool(url: str) -> asyncpg.Connection:
    """Another session holds the village pool's row lock: a transfer from it waits mid-transaction (after
    storing its Idempotency-Key) until the lock is released or the waiting statement ends."""
    blocker = await _connect(url)
    await blocker.execute("BEGIN")
    locked = await blocker.fetch(
        "SELECT id FROM fund_accounts WHERE kind = 'pool' AND region_code = $1 FOR UPDATE", VILLAGE_A1
    )
    assert locked
    return blocker


async def _waiting_backend(url: str, blocker: asyncpg.Connection) -> int:
    """The pid of the backend waiting on the blocker's lock."""
    for _ in range(600):
        pid = await blocker.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND pid <> pg_backend_pid() AND $1 = ANY(pg_blocking_pids(pid))",
            blocker.get_server_pid(),
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the transfer never waited on the lock")


def _assert_503(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers.get("retry-after")
    assert response.json()["code"] == code, response.text


async def _assert_nothing_half_done(db: Database, key: str, transfers_before: int) -> None:
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FundTransfer)) == transfers_before
        keys = await session.scalar(
            select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == key)
        )
        assert keys == 0
        report = await verify(session)
        assert report.ok, report.failures


async def _transfers(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(FundTransfer)) or 0)


async def _recovers(http: httpx.AsyncClient, db: Database, ledger: Ledger, key: str, before: int) -> None:
    """The next request succeeds, and the retried key posts the transfer once."""
    assert (await http.get("/api/v1/me", headers=ledger.headers)).status_code == 200
    headers = {**ledger.headers, "Idempotency-Key": key}
    response = await http.post(TRANSFERS, headers=headers, json=ledger.payment)
    assert response.status_code == 201, response.text
    again = await http.post(TRANSFERS, headers=headers, json=ledger.payment)
    assert again.status_code == 201, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert await _transfers(db) == before + 1
    async with db.sessionmaker() as session:
        report = await verify(session)
        assert report.ok, report.failures


async def test_connection_killed_mid_request(db: Database, settings: Settings) -> None:
    async with serving(settings) as http:
        ledger = await _fund(db, settings, http)
        before = await _transfers(db)
        key = str(uuid.uuid4())
        blocker = await _lock_village_pool(settings.database_url)
        try:
            request = asyncio.create_task(
                http.post(TRANSFERS, headers={**ledger.headers, "Idempotency-Key": key}, json=ledger.payment)
            )
            victim = await _waiting_backend(settings.database_url, blocker)
            assert await blocker.fetchval("SELECT pg_terminate_backend($1)", victim)
            response = await asyncio.wait_for(request, 60)
        finally:
            await blocker.execute("ROLLBACK")
            await blocker.close()
        _assert_503(response, "database.unavailable")
        await _assert_nothing_half_done(db, key, before)
        await _recovers(http, db, ledger, key, before)


async def test_statement_timeout(db: Database, settings: Settings) -> None:
    timed = settings.model_copy(update={"database_statement_timeout_ms": 400})
    async with serving(timed) as http:
        ledger = await _fund(db, timed, http)
        before = await _transfers(db)
        key = str(uuid.uuid4())
        blocker = await _lock_village_pool(settings.database_url)
        try:
            response = await asyncio.wait_for(
                http.post(TRANSFERS, headers={**ledger.headers, "Idempotency-Key": key}, json=ledger.payment),
                60,
            )
        finally:
            await blocker.execute("ROLLBACK")
            await blocker.close()
        _assert_503(response, "database.timeout")
        await _assert_nothing_half_done(db, key, before)
        await _recovers(http, db, ledger, key, before)


# A private cluster for the restart -------------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists() and (root / "pg_ctl").exists():
            return root
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").exists() else None


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int
    url: str

    def pg_ctl(self, *args: str) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        if args[0] in ("start", "restart"):
            command += ["-o", options, "-l", str(self.data / "server.log")]
        _as_postgres(command)


def _as_postgres(command: list[str]) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(prefix + command, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster on a free port, owned by the postgres user, removed afterwards."""
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: the restart test needs its own cluster"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses root")
    data = Path(tempfile.mkdtemp(prefix="fupin-proof-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    try:
        _as_postgres(
            [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        )
        cluster = Cluster(binaries, data, port, f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres")
        cluster.pg_ctl("start")
        try:
            yield cluster
        finally:
            cluster.pg_ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
async def private(cluster: Cluster, settings: Settings) -> AsyncIterator[tuple[Database, Settings]]:
    own = settings.model_copy(update={"database_url": cluster.url})
    engine_db = create_database(own)
    async with engine_db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await asyncio.to_thread(upgrade, cluster.url)
    yield engine_db, own
    await engine_db.dispose()


async def test_database_stopped_then_started(cluster: Cluster, private: tuple[Database, Settings]) -> None:
    db, own = private
    async with serving(own) as http:
        ledger = await _fund(db, own, http)
        before = await _transfers(db)
        key = str(uuid.uuid4())
        await db.engine.dispose()
        cluster.pg_ctl("stop", "-m", "fast")
        try:
            response = await http.post(
                TRANSFERS, headers={**ledger.headers, "Idempotency-Key": key}, json=ledger.payment
            )
            _assert_503(response, "database.unavailable")
            ready = await http.get("/readyz")
            assert ready.status_code == 503
        finally:
            cluster.pg_ctl("start")
        await _assert_nothing_half_done(db, key, before)
        await _recovers(http, db, ledger, key, before)


async def test_database_restarted_mid_request(cluster: Cluster, private: tuple[Database, Settings]) -> None:
    db, own = private
    async with serving(own) as http:
        ledger = await _fund(db, own, http)
        before = await _transfers(db)
        key = str(uuid.uuid4())
        blocker = await _lock_village_pool(own.database_url)
        request = asyncio.create_task(
            http.post(TRANSFERS, headers={**ledger.headers, "Idempotency-Key": key}, json=ledger.payment)
        )
        await _waiting_backend(own.database_url, blocker)
        await db.engine.dispose()
        await asyncio.to_thread(cluster.pg_ctl, "restart", "-m", "fast")
        response = await asyncio.wait_for(request, 60)
        blocker.terminate()
        _assert_503(response, "database.unavailable")
        await _assert_nothing_half_done(db, key, before)
        await _recovers(http, db, ledger, key, before)
