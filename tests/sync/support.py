"""Helpers of the sync tests: follow the feed to its end, take a snapshot, keep a mirror."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from app.db.session import Database

SYNC = "/api/v1/sync"
Mirror = dict[str, dict[str, Any]]


def apply(mirror: Mirror, items: list[dict[str, Any]]) -> None:
    for item in items:
        if item["op"] == "upsert":
            mirror[item["id"]] = item["data"]
        else:
            mirror.pop(item["id"], None)


async def settle(db: Database, patience: float = 120.0) -> None:
    """On PostgreSQL, wait until the feed's horizon has passed every change stored so far.

    The horizon is the cluster's oldest running transaction: the test sessions of other databases on the
    same server hold it back for a moment now and then. The feed waits for them, and so must a test that
    expects to see its own writes at once."""
    if db.engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + patience
    async with db.engine.connect() as connection:
        last = await connection.scalar(text("SELECT max(xid) FROM sync_changes"))
        while last is not None:
            horizon = await connection.scalar(
                text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            )
            await connection.rollback()
            if horizon > last:
                return
            assert time.monotonic() < deadline, "a transaction held the horizon back for too long"
            await asyncio.sleep(0.05)


async def follow(
    client: httpx.AsyncClient,
    db: Database,
    headers: dict[str, str],
    collection: str,
    cursor: str | None = None,
    *,
    mirror: Mirror | None = None,
    limit: int = 100,
    region: str | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """Every item from ``cursor`` until the feed says it is up to date; applied to ``mirror`` if given."""
    await settle(db)
    items: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        if region is not None:
            params["region"] = region
        response = await client.get(f"{SYNC}/{collection}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if mirror is not None:
            apply(mirror, page["items"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


async def snapshot(
    client: httpx.AsyncClient, headers: dict[str, str], collection: str, region: str | None = None
) -> tuple[Mirror, str]:
    params = {"region": region} if region else {}
    response = await client.get(f"{SYNC}/{collection}/snapshot", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    head, *entities, end = lines
    assert head["snapshot"]["collection"] == collection
    assert end["end"]["count"] == len(entities)
    assert end["end"]["cursor"] == head["snapshot"]["cursor"]
    mirror: Mirror = {}
    apply(mirror, entities)
    return mirror, head["snapshot"]["cursor"]
