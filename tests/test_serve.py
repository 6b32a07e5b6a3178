"""The two-command promise, over real HTTP: `fupin serve --demo` on an empty directory serves the demo
county, every demo user can sign in, and each sees exactly their part of the region tree."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.domain.demo import DEMO_PASSWORD, DEMO_USERS, demo_regions
from app.domain.regions.codes import region_prefix


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUPIN_")}
    env["FUPIN_LOG_LEVEL"] = "INFO"
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--demo", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the demo server did not become ready within 60 s")
        yield base, workdir
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    # uvicorn finishes in-flight requests, runs the shutdown, then exits by the signal it was sent.
    output = process.stdout.read() if process.stdout else ""
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output, output


def _sign_in(base: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _all_regions(base: str, headers: dict[str, str]) -> list[str]:
    found, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        response = httpx.get(f"{base}/api/v1/regions", headers=headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(item["code"] for item in body["items"])
        if not (cursor := body["next_cursor"]):
            return found


def test_demo_serves_swagger_ui_and_keeps_its_secret_private(demo_server: tuple[str, Path]) -> None:
    base, workdir = demo_server
    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert (workdir / "fupin.db").exists()
    secret = workdir / "fupin.db.jwt-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


@pytest.mark.parametrize("user", DEMO_USERS, ids=[user.username for user in DEMO_USERS])
def test_each_demo_user_sees_exactly_their_subtree(demo_server: tuple[str, Path], user) -> None:  # type: ignore[no-untyped-def]
    base, _ = demo_server
    headers = _sign_in(base, user.username)
    me = httpx.get(f"{base}/api/v1/me", headers=headers).json()
    assert me["name"] == user.username
    assert me["region_code"] == user.region_code
    prefix = region_prefix(user.region_code)
    assert me["scope_prefix"] == prefix
    expected = sorted(row.code for row in demo_regions() if row.code.startswith(prefix))
    assert _all_regions(base, headers) == expected
    outside = next((row.code for row in demo_regions() if not row.code.startswith(prefix)), None)
    if outside:
        assert httpx.get(f"{base}/api/v1/regions/{outside}", headers=headers).status_code == 404


def test_demo_county_has_the_documented_shape(demo_server: tuple[str, Path]) -> None:
    base, _ = demo_server
    headers = _sign_in(base, "county")
    townships = httpx.get(f"{base}/api/v1/regions", headers=headers, params={"parent": "620522000000"}).json()
    codes = [item["code"] for item in townships["items"]]
    assert codes == [f"620522{t}000" for t in range(100, 117)]
    county = httpx.get(f"{base}/api/v1/regions/620522000000", headers=headers).json()
    assert county["name"] == "秦安县"
    assert [a["code"] for a in county["ancestors"]] == ["000000000000", "620000000000", "620500000000"]
