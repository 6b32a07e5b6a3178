"""Prometheus metrics at ``/metrics``: requests by route template, latency, database pools, jobs, exports.

Requests are counted by :class:`~app.api.middleware.RequestContextMiddleware`, which already times every
request: one dictionary lookup for the (method, route, status) children, a counter increment and a histogram
observation, no label strings built per request (``bench/metrics_overhead.py`` measures it). The gauges of
pools, jobs and exports are read when Prometheus scrapes, not kept current on the hot path.

The endpoint needs no token (as Prometheus scrapes it) and holds no personal data: route templates, never
raw paths, ids or principals. ``FUPIN_METRICS_ENABLED=false`` turns it (and the counting) off.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry, Counter, Gauge, Metric, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError
from starlette.types import Scope

from app.api.problems import problem
from app.db.session import Database
from app.domain import jobs
from app.logging import logger

# Methods outside this set are counted as "other": a client must not be able to add label values at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # 404s of paths no route serves: one series, whatever the path
# No "<counter>_created" series (process-wide): they would double the page for no alert's use.
disable_created_metrics()  # type: ignore[no-untyped-call]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The metrics of one application, in a registry of its own (tests build several apps in a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = RequestCollector()
        registry.register(self.requests)
        self.active = 0  # requests being served, kept by the middleware as a plain int (no lock)
        in_flight = Gauge(
            "fupin_http_requests_in_flight", "Requests being served by this process", registry=registry
        )
        in_flight.set_function(lambda: self.active)
        self.pool_size = Gauge(
            "fupin_db_pool_connections",
            "Open connections of a database pool (engine: sessions; reads: the hot-read asyncpg pool)",
            ("pool",),
            registry=registry,
        )
        self.pool_in_use = Gauge(
            "fupin_db_pool_connections_in_use",
            "Connections checked out of a pool",
            ("pool",),
            registry=registry,
        )
        self.pool_max = Gauge(
            "fupin_db_pool_connections_max",
            "Configured size of a pool (its most, as overflow is off)",
            ("pool",),
            registry=registry,
        )
        self.jobs_here = Gauge(
            "fupin_jobs_running_in_process", "Background jobs running in this process", registry=registry
        )
        self.jobs = Gauge(
            "fupin_jobs",
            "Background jobs queued or running in the whole deployment (read from the database)",
            ("status",),
            registry=registry,
        )
        self.jobs_finished = Counter(
            "fupin_jobs_finished",
            "Background jobs this process ended, by kind and outcome (succeeded, failed, interrupted)",
            ("kind", "outcome"),
            registry=registry,
        )
        self.exports = Gauge(
            "fupin_exports_in_progress", "Household exports being streamed by this process", registry=registry
        )
        self.observe = self.requests.observe  # called by the request middleware for each request
        self._plain_routes: dict[Any, str] = {}

    def name_routes(self, routes: Iterable[Any]) -> None:
        """Learn the paths of the app's plain Starlette routes (``/docs``, ``/openapi.json``): FastAPI
        names only its own routes in the request's scope, these only leave their endpoint there."""
        for route in routes:
            endpoint, path = getattr(route, "endpoint", None), getattr(route, "path", None)
            if endpoint is not None and path is not None and not isinstance(route, APIRoute):
                self._plain_routes[endpoint] = path

    def route_of(self, scope: Scope) -> str:
        """The template of the route that served the request (never its raw path)."""
        route = scope.get("route")
        if route is not None:
            return str(route.path)
        try:
            return self._plain_routes.get(scope.get("endpoint"), UNMATCHED)
        except TypeError:  # a mounted app that is not hashable: no route of ours
            return UNMATCHED

    async def track_export(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The chunks of a streamed export, counted in progress while they flow."""
        self.exports.inc()
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            self.exports.dec()

    def job_finished(self, kind: str, outcome: str) -> None:
        self.jobs_finished.labels(kind, outcome).inc()

    async def refresh(self, database: Database, runner: jobs.JobRunner) -> None:
        """Read the gauges that are not kept current by the requests themselves."""
        for name, stats in _pool_stats(database):
            size, in_use, most = stats
            self.pool_size.labels(name).set(size)
            self.pool_in_use.labels(name).set(in_use)
            self.pool_max.labels(name).set(most)
        self.jobs_here.set(runner.running)
        try:
            counts = await jobs.count_active(database.sessionmaker)
        except (DBAPIError, OSError) as error:  # the database is down: the other metrics still answer
            logger.warning("job counts not read for metrics", error=type(error).__name__)
            return
        for status in jobs.ACTIVE_STATUSES:
            self.jobs.labels(status).set(counts.get(status, 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Latency:
    """A histogram of one (method, route): the count of each bucket (not cumulative; the last is +Inf)."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total = 0.0


class _Requests:
    """The requests of one (method, route, status), and the histogram of its (method, route)."""

    __slots__ = ("count", "latency")

    def __init__(self, latency: _Latency) -> None:
        self.count = 0
        self.latency = latency


class RequestCollector(Collector):
    """Request counts and latency histograms kept as plain numbers, turned into metric families when
    Prometheus scrapes.

    prometheus-client's own Counter and Histogram take a lock per increment (three per request) and scan
    the buckets in Python: 1.1 µs of CPU a request against 0.2 µs here (bench/metrics_overhead.py).
    Requests are counted on the event loop's thread only, so plain integers need no lock, and ``bisect``
    finds the bucket.
    """

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, int], _Requests] = {}
        self._latency: dict[tuple[str, str], _Latency] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = "other"
        series = self._series.get((method, route, status))
        if series is None:
            series = self._new_series(method, route, status)
        series.count += 1
        latency = series.latency
        latency.total += seconds
        latency.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def _new_series(self, method: str, route: str, status: int) -> _Requests:
        latency = self._latency.setdefault((method, route), _Latency())
        series = self._series[(method, route, status)] = _Requests(latency)
        return series

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "fupin_http_requests",
            "HTTP requests answered, by method, route template and status",
            labels=("method", "route", "status"),
        )
        for (method, route, status), series in list(self._series.items()):
            requests.add_metric((method, route, str(status)), series.count)
        yield requests
        latency = HistogramMetricFamily(
            "fupin_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response (streamed bodies included)",
            labels=("method", "route"),
        )
        for (method, route), histogram in list(self._latency.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*map(str, LATENCY_BUCKETS), "+Inf"), histogram.buckets, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric((method, route), buckets, histogram.total)
        yield latency


def _pool_stats(database: Database) -> Iterator[tuple[str, tuple[int, int, int]]]:
    pool: Any = database.engine.pool
    if hasattr(pool, "checkedout"):  # a queue pool (PostgreSQL; SQLite files too)
        in_use = pool.checkedout()
        # PostgreSQL's pool is fixed (no overflow, app/db/session.py): its size is its most.
        yield "engine", (pool.checkedin() + in_use, in_use, pool.size())
    reads = database.reader.pool_stats()
    if reads is not None:
        yield "reads", reads


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="The Prometheus text exposition format: requests by route template and status, latency "
    "histograms, database pools, background jobs and exports in progress. Needs no token and holds no "
    "personal data; keep it on the internal network. Off (404) with `FUPIN_METRICS_ENABLED=false`.",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The metrics of the process that answered"},
        404: {"description": "Metrics are turned off", "content": {"application/problem+json": {}}},
    },
)
async def metrics(request: Request) -> Response:
    registry: Metrics | None = request.app.state.metrics
    if registry is None:
        return problem(
            404,
            "Not found",
            "Metrics are turned off (FUPIN_METRICS_ENABLED).",
            "metrics.disabled",
            request=request,
        )
    await registry.refresh(request.app.state.database, request.app.state.jobs)
    return Response(registry.exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
