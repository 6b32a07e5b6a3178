"""Shared by the proofs: a real `fupin serve --demo` process on a database of its own (SQLite file, or
PostgreSQL `<test database>_proof`), and the demo users signed in over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from app.domain.demo import DEMO_PASSWORD, DEMO_USERS
from tests.conftest import TEST_SECRET

TEST_URL = os.environ.get("FUPIN_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_URL.startswith("postgresql")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def recreate_postgres_database(url: str, *, create: bool = True) -> None:
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
class DemoServer:
    base: str
    database_url: str
    # Demo username -> headers carrying a fresh access token.
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def _wait_ready(process: subprocess.Popen[str], base: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-5000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not become ready within {timeout:.0f} s")


def sign_in(base: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def run_demo_server(workdir: Path, suffix: str) -> Iterator[DemoServer]:
    """`fupin serve --demo` on a database of its own; yields once the demo users are signed in."""
    if ON_POSTGRES:
        url = make_url(TEST_URL)
        database_url = url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)
        asyncio.run(recreate_postgres_database(database_url))
    else:
        database_url = f"sqlite+aiosqlite:///{workdir / 'proof.db'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUPIN_")}
    env |= {
        "FUPIN_DATABASE_URL": database_url,
        "FUPIN_JWT_SECRET": TEST_SECRET,
        "FUPIN_LOG_LEVEL": "ERROR",
        "FUPIN_ACCESS_TOKEN_TTL_SECONDS": "3600",
    }
    port = free_port()
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--demo", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, workdir / "server.log", timeout=300)
        server = DemoServer(base, database_url)
        for user in DEMO_USERS:
            server.headers[user.username] = sign_in(base, user.username)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if ON_POSTGRES:
            asyncio.run(recreate_postgres_database(database_url, create=False))
