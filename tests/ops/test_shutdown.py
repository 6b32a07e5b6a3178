"""Graceful shutdown over a real server process: on SIGTERM the request being served completes and the
job it started runs to its end before the process exits; every request's log line names its request id
and, once signed in, its principal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import Household, Job
from app.db.session import Database
from tests.conftest import COUNTY, TEST_SECRET, VILLAGE_A1, VILLAGE_A2, Account
from tests.households.bulk_files import IMPORTS, household_rows, to_csv

pytestmark = pytest.mark.usefixtures("tree")

# Large enough that the import is still running when the server starts shutting down (the test checks the
# server's log says so), small enough to stay a few seconds.
HOUSEHOLDS = 3000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_until_refusing(port: int) -> None:
    """Until the server no longer accepts connections: its shutdown has begun."""
    deadline = time.monotonic() + 20
    while _accepts(port):
        if time.monotonic() > deadline:
            raise AssertionError("the server still accepts connections 20 s after SIGTERM")
        time.sleep(0.05)


def _start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=log.parent,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _text(path: Path) -> str:
    return path.read_text()


def _log_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in _text(path).splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture
async def officer(account_factory) -> Account:  # type: ignore[no-untyped-def]
    account: Account = await account_factory(COUNTY, "county_officer")
    return account


async def test_sigterm_lets_the_request_in_flight_and_its_job_finish(
    db: Database, database_url: str, officer: Account, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUPIN_")}
    env |= {
        "FUPIN_DATABASE_URL": database_url,
        "FUPIN_JWT_SECRET": TEST_SECRET,
        "FUPIN_LOG_LEVEL": "INFO",
        "FUPIN_LOG_JSON": "true",
        "FUPIN_ACCOUNT_CHECK_SECONDS": "0",
        "FUPIN_SHUTDOWN_TIMEOUT_SECONDS": "120",
    }
    log = tmp_path / "server.log"
    process = _start_server(port, env, log)
    try:
        await _until_ready(process, base, log)
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            assert (await http.get("/healthz")).status_code == 200
            me = await http.get("/api/v1/me", headers=officer.headers)
            assert me.status_code == 200, me.text

            rows = [
                row
                for index in range(HOUSEHOLDS)
                for row in household_rows((VILLAGE_A1, VILLAGE_A2)[index % 2], members=3)
            ]
            upload = httpx.Request(
                "POST",
                f"{base}{IMPORTS}",
                files={"file": ("households.csv", to_csv(rows))},
                data={"mode": "all_or_nothing"},
            )
            body = upload.read()
            terminated = asyncio.Event()

            async def slowly() -> AsyncIterator[bytes]:
                # Half the upload, then SIGTERM while the request is in flight, then the rest.
                yield body[: len(body) // 2]
                await terminated.wait()
                yield body[len(body) // 2 :]

            async def terminate() -> None:
                await asyncio.sleep(0.5)  # the first half has reached the server
                process.send_signal(signal.SIGTERM)
                await asyncio.to_thread(_wait_until_refusing, port)
                terminated.set()

            headers = {
                **officer.headers,
                "Content-Type": upload.headers["Content-Type"],
                "Content-Length": str(len(body)),
                "X-Request-ID": "upload-during-shutdown",
            }
            response, _ = await asyncio.gather(
                http.post(IMPORTS, content=slowly(), headers=headers), terminate()
            )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        returncode = await asyncio.to_thread(process.wait, 120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output_text = _text(log)
    assert returncode in (0, -signal.SIGTERM), output_text

    async with db.sessionmaker() as session:
        job = await session.get(Job, uuid.UUID(job_id))
        households = await session.scalar(select(func.count()).select_from(Household))
    assert job is not None
    assert (job.status, job.error) == ("succeeded", None), output_text
    assert households == HOUSEHOLDS

    lines = _log_lines(log)
    events = [line["event"] for line in lines]
    # The job was still running when the application shut down, and it was waited for, not cancelled.
    assert "waiting for running jobs" in events, output_text
    assert "jobs still running after the shutdown timeout" not in events
    requests = [line for line in lines if line["event"] == "request"]
    assert {line["path"] for line in requests} >= {"/healthz", "/api/v1/me", IMPORTS}
    for line in requests:
        assert line.get("request_id"), line
        if line["path"] not in ("/healthz", "/readyz"):
            assert line["principal"] == officer.principal.subject, line
    upload_line = next(line for line in requests if line["path"] == IMPORTS)
    assert (upload_line["request_id"], upload_line["status"]) == ("upload-during-shutdown", 202)


async def _until_ready(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base, timeout=1) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {_text(log)}")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"the server did not become ready within 60 s: {_text(log)}")
