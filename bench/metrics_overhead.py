"""What the Prometheus metrics add to a request: the request middleware around a do-nothing ASGI app, with
metrics off and on, in process (no HTTP, no database), and ``Metrics.observe`` alone.

    python -m bench.metrics_overhead [--requests 200000] [--repeats 7]

Times are CPU time of this process (``time.process_time``), so other work on a shared machine disturbs
them less than wall-clock time would. Logging is at WARNING (the access line is filtered out cheaply in both
cases), so the difference is the metrics' own cost: the in-flight count, the route lookup, one dictionary
lookup for the cached series, two integer increments, a sum and a ``bisect`` for the bucket.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from app.api.metrics import LATENCY_BUCKETS, Metrics
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
    started = time.process_time()
    for _ in range(count):
        scope = {"type": "http", "method": "GET", "path": ROUTE_PATH, "headers": headers, "query_string": b""}
        await middleware(scope, _receive, _send)
    return (time.process_time() - started) / count * 1e6


def _observe(metrics: Metrics, count: int) -> float:
    observe = metrics.observe
    started = time.process_time()
    for _ in range(count):
        observe("GET", ROUTE_PATH, 200, 0.004)
    return (time.process_time() - started) / count * 1e6


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def _observe_with_library_children(count: int) -> float:
    """The same through prometheus-client's own Counter and Histogram, children cached (the alternative)."""
    registry = CollectorRegistry()
    requests = Counter("requests", "", ("method", "route", "status"), registry=registry)
    latency = Histogram("latency", "", ("method", "route"), buckets=LATENCY_BUCKETS, registry=registry)
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
    started = time.process_time()
    for _ in range(count):
        key = ("GET", ROUTE_PATH, 200)
        pair = children.get(key)
        if pair is None:
            pair = children[key] = (
                requests.labels("GET", ROUTE_PATH, "200"),
                latency.labels("GET", ROUTE_PATH),
            )
        pair[0].inc()
        pair[1].observe(0.004)
    return (time.process_time() - started) / count * 1e6


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
    without, with_metrics, observe, library = [], [], [], []
    for _ in range(args.repeats):  # interleaved, so a busy moment of the machine hits both alike
        without.append(await _requests(off, args.requests))
        with_metrics.append(await _requests(on, args.requests))
        observe.append(_observe(metrics, args.requests))
        library.append(_observe_with_library_children(args.requests))
    a, b = statistics.median(without), statistics.median(with_metrics)
    print(f"{args.repeats} runs of {args.requests:,} requests each, medians:")
    print(f"  middleware, metrics off: {a:.2f} µs/request  (runs: {_runs(without)})")
    print(f"  middleware, metrics on:  {b:.2f} µs/request  (runs: {_runs(with_metrics)})")
    print(f"  metrics' cost:           {b - a:.2f} µs/request")
    print(f"  Metrics.observe alone:   {statistics.median(observe):.2f} µs/call  (runs: {_runs(observe)})")
    print(
        f"  prometheus-client Counter + Histogram children instead: {statistics.median(library):.2f} µs/call"
    )


if __name__ == "__main__":
    asyncio.run(main())
