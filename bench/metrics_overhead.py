"""What the Prometheus metrics add to a request: the request middleware around a do-nothing ASGI app, with
metrics off and on, in process (no HTTP, no database), and ``Metrics.observe`` alone.

    python -m bench.metrics_overhead [--requests 200000] [--repeats 7]

Logging is at WARNING (the access line is filtered out cheaply in both cases), so the difference is the
metrics' own cost: the in-flight count, the route lookup, one dictionary lookup for the cached children, a
counter increment and a histogram observation.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from app.api.metrics import Metrics
from app.api.middleware import RequestContextMiddleware
from app.logging import configure_logging

ROUTE_PATH = "/api/v1/households"


class _Route:
    path = ROUTE_PATH


ROUTE = _Route()
START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
BODY = {"type": "http.response.body", "body": b"{}"}


async def _endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    scope["route"] = ROUTE  # as FastAPI's router sets it on a match
    await send(dict(START))
    await send(BODY)


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def _requests(middleware: RequestContextMiddleware, count: int) -> float:
    headers = [(b"authorization", b"Bearer x"), (b"accept", b"application/json")]
    started = time.perf_counter()
    for _ in range(count):
        scope = {"type": "http", "method": "GET", "path": ROUTE_PATH, "headers": headers, "query_string": b""}
        await middleware(scope, _receive, _send)
    return (time.perf_counter() - started) / count * 1e6


def _observe(metrics: Metrics, count: int) -> float:
    observe = metrics.observe
    started = time.perf_counter()
    for _ in range(count):
        observe("GET", ROUTE_PATH, 200, 0.004)
    return (time.perf_counter() - started) / count * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    configure_logging("WARNING")
    off = RequestContextMiddleware(_endpoint, metrics=None)
    on = RequestContextMiddleware(_endpoint, metrics=Metrics())
    metrics = Metrics()
    await _requests(off, 10_000)  # warm-up
    await _requests(on, 10_000)
    without, with_metrics, observe = [], [], []
    for _ in range(args.repeats):  # interleaved, so a busy moment of the machine hits both alike
        without.append(await _requests(off, args.requests))
        with_metrics.append(await _requests(on, args.requests))
        observe.append(_observe(metrics, args.requests))
    a, b = statistics.median(without), statistics.median(with_metrics)
    print(f"{args.repeats} runs of {args.requests:,} requests each, medians:")
    print(f"  middleware, metrics off: {a:.2f} µs/request  (runs: {', '.join(f'{x:.2f}' for x in without)})")
    print(f"  middleware, metrics on:  {b:.2f} µs/request  (runs: {', '.join(f'{x:.2f}' for x in with_metrics)})")
    print(f"  metrics' cost:           {b - a:.2f} µs/request")
    print(f"  Metrics.observe alone:   {statistics.median(observe):.2f} µs/call")


if __name__ == "__main__":
    asyncio.run(main())
