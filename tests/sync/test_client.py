"""The example client (examples/sync_client.py) against a real server over HTTP: `fupin serve` on the demo
county (SQLite, or a PostgreSQL database of its own), a province-level data consumer mirroring every
collection and a village clerk mirroring households. After writes that change, move households (out of
the village too), end an assignment, create and delete a project, each mirror equals the server's data.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url

from app.db.session import create_database
from app.settings import Settings
from tests.conftest import TEST_SECRET
from tests.funds.test_concurrency import _free_port, _recreate
from tests.funds.test_projects_helpers import project_body
from tests.sync.support import settle

CLIENT = Path(__file__).parents[2] / "examples" / "sync_client.py"
COLLECTIONS = ("households", "assignments", "plans", "projects", "fund_transfers")
TEST_URL = os.environ.get("FUPIN_TEST_DATABASE_URL", "")
VILLAGE = "620522100201"  # the demo user `village`'s village


@dataclass
class Server:
    base: str
    url: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("sync-server")
    if TEST_URL.startswith("postgresql"):
        parsed = make_url(TEST_URL)
        url = parsed.set(database=f"{parsed.database}_sync").render_as_string(hide_password=False)
        asyncio.run(_recreate(url))
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'sync.db'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUPIN_")}
    env |= {"FUPIN_DATABASE_URL": url, "FUPIN_JWT_SECRET": TEST_SECRET, "FUPIN_LOG_LEVEL": "WARNING"}
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(
            [sys.executable, "-m", "app", *command], env=env, cwd=workdir, check=True, capture_output=True
        )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
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
        if url.startswith("postgresql"):
            asyncio.run(_recreate(url, create=False))


def _headers(base: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": "demo"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _run_client(server: Server, mirror: Path, username: str, collections: tuple[str, ...]) -> None:
    asyncio.run(_settle(server.url))  # the server's horizon has passed every write so far (PostgreSQL)
    options = [arg for collection in collections for arg in ("--collection", collection)]
    sign_in = ["--base-url", server.base, "--username", username, "--password", "demo"]
    result = subprocess.run(
        [sys.executable, str(CLIENT), *sign_in, "--mirror", str(mirror), "--once", *options],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


async def _settle(url: str) -> None:
    database = create_database(Settings(database_url=url, jwt_secret=TEST_SECRET, jwt_algorithm="HS256"))
    try:
        await settle(database)
    finally:
        await database.dispose()


def _mirror(path: Path, collection: str) -> dict[str, Any]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT id, data FROM entities WHERE collection = ?", (collection,)
        ).fetchall()
    return {entity_id: json.loads(data) for entity_id, data in rows}


def _server_data(base: str, headers: dict[str, str], collection: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/api/v1/sync/{collection}/snapshot", headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert "end" in lines[-1]
    return {line["id"]: line["data"] for line in lines[1:-1]}


def _feed_from_the_beginning(base: str, headers: dict[str, str], collection: str) -> dict[str, Any]:
    mirror: dict[str, Any] = {}
    cursor: str | None = None
    while True:
        params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        response = httpx.get(f"{base}/api/v1/sync/{collection}", params=params, headers=headers, timeout=120)
        assert response.status_code == 200, response.text
        page = response.json()
        for item in page["items"]:
            if item["op"] == "upsert":
                mirror[item["id"]] = item["data"]
            else:
                mirror.pop(item["id"], None)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return mirror


def _households_of(base: str, headers: dict[str, str], region: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base}/api/v1/households", params={"region": region, "limit": 50}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_the_example_client_keeps_an_exact_mirror(server: Server, tmp_path: Path) -> None:
    base = server.base
    province_mirror, village_mirror = tmp_path / "province.db", tmp_path / "village.db"
    _run_client(server, province_mirror, "province", COLLECTIONS)
    _run_client(server, village_mirror, "village", ("households",))
    province, village = _headers(base, "province"), _headers(base, "village")
    assert len(_mirror(province_mirror, "households")) > 1000
    assert _mirror(village_mirror, "households") == _server_data(base, village, "households")

    county = _headers(base, "county")
    leaving, changed = _households_of(base, county, VILLAGE)[:2]
    other_village = "620522100202"
    for household_id, body in (
        (leaving["id"], {"region_code": other_village}),
        (changed["id"], {"address": "新址 8 号"}),
    ):
        response = httpx.patch(
            f"{base}/api/v1/households/{household_id}", headers={**county, "If-Match": "*"}, json=body
        )
        assert response.status_code == 200, response.text
    response = httpx.get(f"{base}/api/v1/assignments", params={"active": "true", "limit": 1}, headers=county)
    assignment = response.json()["items"][0]
    response = httpx.post(
        f"{base}/api/v1/assignments/{assignment['id']}/end",
        headers=county,
        json={"ends_on": date.today().isoformat(), "reason": "轮换"},
    )
    assert response.status_code == 200, response.text
    response = httpx.post(f"{base}/api/v1/projects", headers=county, json=project_body(VILLAGE))
    assert response.status_code == 201, response.text
    created = response.json()["id"]
    _run_client(server, province_mirror, "province", COLLECTIONS)  # sees the project...
    assert created in _mirror(province_mirror, "projects")
    response = httpx.delete(f"{base}/api/v1/projects/{created}", headers={**county, "If-Match": "*"})
    assert response.status_code == 204, response.text  # ... and then its removal

    _run_client(server, province_mirror, "province", COLLECTIONS)
    _run_client(server, village_mirror, "village", ("households",))
    for collection in COLLECTIONS:
        now = _server_data(base, province, collection)
        assert _mirror(province_mirror, collection) == now, collection
        # The demo was loaded by bulk inserts: the feed alone, from the beginning, holds it all too.
        assert _feed_from_the_beginning(base, province, collection) == now, collection
    assert created not in _mirror(province_mirror, "projects")
    village_households = _mirror(village_mirror, "households")
    assert village_households == _server_data(base, village, "households")
    assert leaving["id"] not in village_households  # moved out of the village: a tombstone
    assert village_households[changed["id"]]["address"] == "新址 8 号"
    assert _mirror(province_mirror, "households")[leaving["id"]]["region_code"] == other_village
