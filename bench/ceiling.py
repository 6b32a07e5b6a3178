"""The ceiling: a bare ASGI app (asyncpg pool + orjson, no framework) answering the same requests as the real
household endpoints, with the same SQL, columns, JSON and cursors, and nothing else (no auth, no logging).

    FUPIN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fupin_bench \
        .venv/bin/uvicorn bench.ceiling:app --port 8101 --log-level warning --no-access-log

:func:`export_ndjson` is the per-row ceiling of the NDJSON export, run in the benchmark's own process.

``GET /households?region=<township code>[&cursor=…][&limit=50]``: the list page of that subtree, as
``GET /api/v1/households`` answers a township reviewer. ``GET /households/<id>?region=<code>``: one household
with its active members, masked as for a caller without the personal-data grant.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import orjson

from app.domain.households.idnumbers import mask_account, mask_id_number, mask_phone
from app.domain.households.masking import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from app.domain.households.queries import SUMMARY_COLUMNS

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

SUMMARY = ", ".join(column.key for column in SUMMARY_COLUMNS)
# The statements SQLAlchemy renders for the real endpoints, written out.
PAGE = f"""SELECT {SUMMARY} FROM households
WHERE region_code >= $1 AND region_code <= $2 ORDER BY region_code, id LIMIT $3"""
NEXT_PAGE = f"""SELECT {SUMMARY} FROM households
WHERE region_code >= $1 AND region_code <= $2 AND (region_code, id) > ($3, $4)
ORDER BY region_code, id LIMIT $5"""
HOUSEHOLD = f"""SELECT {", ".join(HOUSEHOLD_FIELDS)} FROM households
WHERE region_code >= $1 AND region_code <= $2 AND id = $3"""
MEMBERS = f"""SELECT {", ".join(MEMBER_FIELDS)} FROM members
WHERE region_code >= $1 AND region_code <= $2 AND household_id = $3 AND is_active IS true
ORDER BY relation != 'head', birth_date"""

EXPORT_MEMBER_FIELDS = [name for name in MEMBER_FIELDS if name not in ("household_id", "region_code")]
EXPORT_HOUSEHOLDS = f"""SELECT {", ".join(HOUSEHOLD_FIELDS)} FROM households
WHERE region_code >= $1 AND region_code <= $2 ORDER BY region_code, id"""
EXPORT_MEMBERS = f"""SELECT household_id, {", ".join(EXPORT_MEMBER_FIELDS)} FROM members
WHERE household_id = ANY($1) AND is_active IS true AND region_code >= $2 AND region_code <= $3
ORDER BY household_id, relation != 'head', birth_date, id"""
# For COPY: the same members, of the whole subtree at once.
EXPORT_MEMBERS_OF_SUBTREE = f"""SELECT household_id, {", ".join(EXPORT_MEMBER_FIELDS)} FROM members
WHERE is_active IS true AND region_code >= $1 AND region_code <= $2"""
EXPORT_BATCH = 1000

JSON = [(b"content-type", b"application/json")]
pool: asyncpg.Pool | None = None


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID class, which orjson does not take as uuid.UUID
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_UTC_Z)


def prefix_bounds(region: str) -> tuple[str, str]:
    prefix = region.rstrip("0")
    prefix = prefix[: next(n for n in (2, 4, 6, 9, 12) if n >= len(prefix))]
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


async def list_page(query: dict[str, str]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    low, high = prefix_bounds(query["region"])
    limit = int(query.get("limit", 50))
    assert pool is not None
    async with pool.acquire() as conn:
        if cursor := query.get("cursor"):
            last_code, last_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            rows = await conn.fetch(NEXT_PAGE, low, high, last_code, uuid.UUID(last_id), limit + 1)
        else:
            rows = await conn.fetch(PAGE, low, high, limit + 1)
    items = [dict(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        raw = orjson.dumps([last["region_code"], str(last["id"])])
        next_cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return 200, dumps({"items": items, "next_cursor": next_cursor}), JSON


async def household(household_id: str, query: dict[str, str]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    low, high = prefix_bounds(query["region"])
    key = uuid.UUID(household_id)
    assert pool is not None
    async with pool.acquire() as conn:
        row = await conn.fetchrow(HOUSEHOLD, low, high, key)
        if row is None:
            return 404, b'{"title":"Not found"}', JSON
        members = await conn.fetch(MEMBERS, low, high, key)
    body = dict(row)
    for name, mask in (("phone", mask_phone), ("bank_account", mask_account)):
        if body[name]:
            body[name] = mask(body[name])
    body["members"] = [{**dict(m), "id_number": mask_id_number(m["id_number"])} for m in members]
    etag = f'"{household_id}.{body["version"]}"'.encode()
    return 200, dumps(body), [*JSON, (b"etag", etag)]


async def export_ndjson(conn: asyncpg.Connection, region: str) -> AsyncIterator[bytes]:
    """The NDJSON export of a subtree as the real endpoint writes it (masked, one household a line with its
    active members), by asyncpg cursor + orjson per household: the per-row ceiling of an export."""
    low, high = prefix_bounds(region)
    async with conn.transaction():
        cursor = await conn.cursor(EXPORT_HOUSEHOLDS, low, high)
        while batch := await cursor.fetch(EXPORT_BATCH):
            members: dict[Any, list[dict[str, Any]]] = {}
            villages = [row["region_code"] for row in batch]  # the batch's span, as the real export bounds it
            ids = [row["id"] for row in batch]
            for m in await conn.fetch(EXPORT_MEMBERS, ids, min(villages), max(villages)):
                member = dict(zip(EXPORT_MEMBER_FIELDS, m[1:], strict=True))
                member["id_number"] = mask_id_number(member["id_number"])
                members.setdefault(m[0], []).append(member)
            lines = []
            for row in batch:
                household = dict(row)
                for name, mask in (("phone", mask_phone), ("bank_account", mask_account)):
                    if household[name]:
                        household[name] = mask(household[name])
                household["members"] = members.get(row["id"], [])
                lines.append(dumps(household))
            lines.append(b"")
            yield b"\n".join(lines)


async def init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=lambda value: orjson.dumps(value).decode(), decoder=orjson.loads, schema="pg_catalog"
    )


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    global pool
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        dsn = os.environ["FUPIN_DATABASE_URL"].replace("postgresql+asyncpg", "postgresql")
        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10, init=init_connection)
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await pool.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    query = dict(parse_qsl(scope["query_string"].decode()))
    path = scope["path"]
    if path == "/households":
        status, body, headers = await list_page(query)
    elif path.startswith("/households/"):
        status, body, headers = await household(path.removeprefix("/households/"), query)
    else:
        status, body, headers = 404, b"{}", JSON
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
