"""A provincial system's mirror of Fupin, kept exact with the sync feed.

It takes a snapshot of a collection (``GET /api/v1/sync/{collection}/snapshot``, NDJSON), stores it in a
SQLite file with the cursor the snapshot ends with, then follows the feed (``GET /api/v1/sync/{collection}``)
from that cursor: each page's items and its ``next_cursor`` are stored in one SQLite transaction, so a crash
never loses or repeats a change. 410 (the cursor is older than the retention of removals) starts again from
a snapshot; 429 and 503 wait as ``Retry-After`` says.

    python examples/sync_client.py --base-url http://127.0.0.1:8000 --username province --password demo \\
        --collection households --mirror mirror.db            # follow for ever, polling every 10 s
    python examples/sync_client.py ... --once                  # catch up, then stop
    python examples/sync_client.py ... --client-id fpc_… --client-secret …   # a machine client

Needs only ``httpx`` (``pip install httpx``). The mirror's table ``entities(collection, id, region_code,
data)`` holds each entity's JSON as the API gives it.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    region_code TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (collection, id)
);
CREATE TABLE IF NOT EXISTS cursors (
    collection TEXT NOT NULL,
    region TEXT NOT NULL,  -- '' for the whole scope
    cursor TEXT NOT NULL,
    PRIMARY KEY (collection, region)
);
"""


class SnapshotCutOff(Exception):
    """The snapshot stream ended without its ``end`` line: nothing of it was stored."""


class Api:
    """Signs in (again when the token expires) and retries what the server asks to retry later."""

    def __init__(self, base_url: str, credentials: dict[str, str], timeout: float = 60.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.credentials = credentials
        self.token: str | None = None

    def _sign_in(self) -> None:
        response = self.http.post("/api/v1/auth/token", data=self.credentials)
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def _headers(self) -> dict[str, str]:
        if self.token is None:
            self._sign_in()
        return {"Authorization": f"Bearer {self.token}"}

    @contextmanager
    def get(self, path: str, params: dict[str, str], *, stream: bool = False) -> Iterator[httpx.Response]:
        for _attempt in range(10):
            request = self.http.build_request("GET", path, params=params, headers=self._headers())
            response = self.http.send(request, stream=stream)
            try:
                if response.status_code == 401:
                    self.token = None  # expired: sign in again
                    continue
                if response.status_code in (429, 503):
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                yield response
                return
            finally:
                response.close()
        raise RuntimeError(f"GET {path}: the server kept refusing")


class Mirror:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(SCHEMA)

    def cursor(self, collection: str, region: str) -> str | None:
        row = self.db.execute(
            "SELECT cursor FROM cursors WHERE collection = ? AND region = ?", (collection, region)
        ).fetchone()
        return row[0] if row else None

    def apply(self, collection: str, item: dict[str, Any]) -> None:
        if item["op"] == "upsert":
            data = item["data"]
            self.db.execute(
                "INSERT INTO entities (collection, id, region_code, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (collection, id) DO UPDATE "
                "SET region_code = excluded.region_code, data = excluded.data",
                (collection, item["id"], data.get("region_code"), json.dumps(data, ensure_ascii=False)),
            )
        else:
            self.db.execute("DELETE FROM entities WHERE collection = ? AND id = ?", (collection, item["id"]))

    def set_cursor(self, collection: str, region: str, cursor: str) -> None:
        self.db.execute(
            "INSERT INTO cursors (collection, region, cursor) VALUES (?, ?, ?) "
            "ON CONFLICT (collection, region) DO UPDATE SET cursor = excluded.cursor",
            (collection, region, cursor),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


def region_prefix(code: str) -> str:
    """``620522100000`` -> ``620522100``: the digits a region's subtree shares (levels of 2, 4, 6, 9, 12)."""
    for length in (2, 4, 6, 9):
        if set(code[length:]) == {"0"}:
            return code[:length]
    return code


def take_snapshot(api: Api, mirror: Mirror, collection: str, region: str) -> int:
    """Replace the mirror's collection with a snapshot; the number of entities."""
    params = {"region": region} if region else {}
    with api.get(f"/api/v1/sync/{collection}/snapshot", params, stream=True) as response:
        response.raise_for_status()
        with mirror.transaction():
            # Whatever the mirror held of this collection is replaced (a region's snapshot: that region).
            if region:
                prefix = region_prefix(region)
                mirror.db.execute(
                    "DELETE FROM entities WHERE collection = ? AND substr(region_code, 1, ?) = ?",
                    (collection, len(prefix), prefix),
                )
            else:
                mirror.db.execute("DELETE FROM entities WHERE collection = ?", (collection,))
            end = None
            for line in response.iter_lines():
                if not line:
                    continue
                record = json.loads(line)
                if "snapshot" in record:
                    continue
                if "end" in record:
                    end = record["end"]
                    break
                mirror.apply(collection, record)
            if end is None:
                raise SnapshotCutOff("the snapshot stream was cut off; nothing was stored")
            mirror.set_cursor(collection, region, end["cursor"])
    return int(end["count"])


def follow(api: Api, mirror: Mirror, collection: str, region: str, *, limit: int = 500) -> int:
    """Apply pages until the feed says the mirror is up to date; the number of items applied."""
    applied = 0
    while True:
        cursor = mirror.cursor(collection, region)
        if cursor is None:
            take_snapshot(api, mirror, collection, region)
            continue
        params = {"cursor": cursor, "limit": str(limit), **({"region": region} if region else {})}
        with api.get(f"/api/v1/sync/{collection}", params) as response:
            if response.status_code == 410:  # removals after the cursor were purged: start again
                with mirror.transaction():
                    mirror.db.execute(
                        "DELETE FROM cursors WHERE collection = ? AND region = ?", (collection, region)
                    )
                continue
            response.raise_for_status()
            page = response.json()
        with mirror.transaction():  # the items and the cursor together, or neither
            for item in page["items"]:
                mirror.apply(collection, item)
            mirror.set_cursor(collection, region, page["next_cursor"])
        applied += len(page["items"])
        if not page["has_more"]:
            return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument(
        "--collection",
        action="append",
        choices=["households", "assignments", "plans", "projects", "fund_transfers"],
        help="repeat for several (default: households)",
    )
    parser.add_argument("--region", default="", help="a subtree of your scope (default: all of it)")
    parser.add_argument("--mirror", default="mirror.db", help="the SQLite file of the mirror")
    parser.add_argument("--once", action="store_true", help="catch up once, then stop")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    args = parser.parse_args(argv)
    if args.client_id:
        credentials = {
            "grant_type": "client_credentials",
            "client_id": args.client_id,
            "client_secret": args.client_secret or "",
        }
    elif args.username:
        credentials = {"grant_type": "password", "username": args.username, "password": args.password or ""}
    else:
        parser.error("give --username/--password or --client-id/--client-secret")
    api = Api(args.base_url, credentials)
    mirror = Mirror(args.mirror)
    collections = args.collection or ["households"]
    while True:
        for collection in collections:
            applied = follow(api, mirror, collection, args.region)
            print(f"{collection}: {applied} changes applied", file=sys.stderr)
        if args.once:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
