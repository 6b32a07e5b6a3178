"""What the limits add to a request, in process (no HTTP, no database): the rate-limit check (in process and
in Redis), the conditional-GET middleware (an ETag over a 50-row list page) and the body-size middleware
on a GET, each against a do-nothing ASGI endpoint that answers the same page.

    python -m bench.limits_overhead [--requests 100000] [--repeats 5] [--redis redis://127.0.0.1:6379/0]

The page is shaped like ``GET /api/v1/households`` (50 summaries, orjson); its size is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
import zlib
from typing import Any

import orjson
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from app.api.caching import ConditionalGetMiddleware, weak_etag
from app.api.limits import BodySizeMiddleware
from app.domain.limits import Limiter
from app.domain.principal import Principal
from app.settings import Settings

PATH = "/api/v1/households"
ROW = {
    "id": "0b9c3f0e-6f1e-4a57-9a43-5d1c2a7f9e10",
    "region_code": "620522100201",
    "household_number": "620522100201000123",
    "group_name": "一组",
    "head_name": "王建国",
    "status": "registered",
    "attribute": "general",
    "category": "low_income",
    "primary_cause": "illness",
    "other_causes": ["lack_of_labour"],
    "registered_year": 2015,
    "exited_year": None,
    "monitoring_kind": None,
    "procedure": None,
    "version": 3,
}
PAGE = orjson.dumps({"items": [ROW] * 50, "next_cursor": "eyJrIjpbIjYyMDUyMjEwMDIwMSIsIjBiOWMiXX0"})
START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}


async def _endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send(dict(START))
    await send({"type": "http.response.body", "body": PAGE})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def _through(app: Any, count: int) -> float:
    headers = [(b"authorization", b"Bearer x"), (b"accept", b"application/json")]
    started = time.perf_counter()
    for _ in range(count):
        scope = {"type": "http", "method": "GET", "path": PATH, "headers": headers, "query_string": b""}
        await app(scope, _receive, _send)
    return (time.perf_counter() - started) / count * 1e6


async def _checks(limiter: Limiter, count: int, principals: list[Principal]) -> float:
    limits = [limiter.limits_of(p, None, None) for p in principals]
    n = len(principals)
    started = time.perf_counter()
    for i in range(count):
        await limiter.check_request(principals[i % n], limits[i % n])
    return (time.perf_counter() - started) / count * 1e6


async def _yielding(hit: Any, count: int, keys: int) -> float:
    """Hits with a turn of the event loop after each, so work a hit schedules (tasks, threads) is counted."""
    started = time.perf_counter()
    for i in range(count):
        await hit(f"user:{i % keys}")
        await asyncio.sleep(0)
    return (time.perf_counter() - started) / count * 1e6


async def _library_memory(count: int, keys: int) -> float:
    """The ``limits`` library's own in-process storage, moving window, as the alternative to the log."""
    strategy = MovingWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerMinute(600)
    return await _yielding(lambda key: strategy.hit(item, key), count, keys)


async def _log_memory(count: int, keys: int) -> float:
    limiter = Limiter(Settings(rate_limit_user_per_minute=600, log_level="WARNING"))
    return await _yielding(lambda key: limiter._hit(key, 600, 60.0), count, keys)


def _hash(function: Any, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        function(PAGE)
    return (time.perf_counter() - started) / count * 1e6


async def _no_hit(key: str) -> None:
    return None


def _principals(n: int) -> list[Principal]:
    return [
        Principal.build(
            kind="user", id=uuid.uuid4(), name="u", region_code="620522000000", roles=["county_officer"]
        )
        for _ in range(n)
    ]


async def main(requests: int, repeats: int, redis_url: str | None) -> None:
    results: dict[str, list[float]] = {}
    # 10,000 principals: each stays under 600 a minute, so every check is an accepted hit (the hot path).
    principals = _principals(max(requests // 500, 1))
    settings = Settings(rate_limit_user_per_minute=600, log_level="WARNING")
    for _ in range(repeats):
        results.setdefault("endpoint alone", []).append(await _through(_endpoint, requests))
        conditional = ConditionalGetMiddleware(_endpoint)
        results.setdefault("+ conditional GET (ETag)", []).append(await _through(conditional, requests))
        sized = BodySizeMiddleware(_endpoint, 1024 * 1024)
        results.setdefault("+ body size (GET)", []).append(await _through(sized, requests))
        results.setdefault("rate-limit check, in process", []).append(
            await _checks(Limiter(settings), requests, _principals(len(principals)))
        )
        results.setdefault("weak_etag (sha1)", []).append(_hash(weak_etag, requests))
        results.setdefault("crc32 + adler32 (for comparison)", []).append(
            _hash(lambda body: (zlib.crc32(body), zlib.adler32(body)), requests)
        )
        keys = max(requests // 500, 1)
        results.setdefault("loop turn alone (for the two below)", []).append(
            await _yielding(_no_hit, requests, keys)
        )
        results.setdefault("+ in-process log, yielding", []).append(await _log_memory(requests, keys))
        results.setdefault("+ limits MemoryStorage, yielding", []).append(
            await _library_memory(requests, keys)
        )
        if redis_url:
            redis_settings = settings.model_copy(
                update={"redis_url": redis_url, "redis_key_prefix": f"fupin-bench-{uuid.uuid4().hex}"}
            )
            limiter = Limiter(redis_settings)
            count = max(requests // 20, 1)
            results.setdefault("rate-limit check, Redis", []).append(
                await _checks(limiter, count, _principals(max(count // 500, 1)))
            )
            await limiter.close()
    print(f"page: {len(PAGE)} bytes; {requests} requests x {repeats} repeats; median µs per request")
    for name, values in results.items():
        print(f"{name:34} {statistics.median(values):8.2f}   (min {min(values):.2f}, max {max(values):.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--redis", default=None, help="also time the check against this Redis URL")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.repeats, arguments.redis))
