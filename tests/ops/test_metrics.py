"""Prometheus metrics: requests by route template (never the raw path), latency, pools, jobs, exports; the
endpoint's access, and the job runner's graceful shutdown they report on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app.api.metrics import Metrics
from app.db.base import utcnow
from app.db.models import Job
from app.db.session import Database
from app.domain import jobs
from app.domain.system import system_principal
from app.main import create_app
from app.settings import Settings
from tests.conftest import COUNTY, VILLAGE_A1, Account, assert_problem
from tests.factories import make_household

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


@pytest.fixture
async def county(account_factory, tree) -> Account:  # type: ignore[no-untyped-def]
    account: Account = await account_factory(COUNTY, "county_officer")
    return account


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    household = await make_household(db, VILLAGE_A1)
    before = await scrape(client)
    route = "/api/v1/households/{household_id}"
    for _ in range(3):
        response = await client.get(f"/api/v1/households/{household.id}", headers=county.headers)
        assert response.status_code == 200, response.text
    assert (await client.get(f"/api/v1/households/{uuid.uuid4()}", headers=county.headers)).status_code == 404
    assert (await client.get(f"/api/v1/households/{household.id}")).status_code == 401
    assert (await client.get(f"/no/such/{uuid.uuid4()}")).status_code == 404
    assert (await client.request("BREW", "/healthz")).status_code == 405
    assert (await client.get("/openapi.json")).status_code == 200  # a plain Starlette route
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    total = "fupin_http_requests_total"
    assert delta(total, method="GET", route=route, status="200") == 3
    assert delta(total, method="GET", route=route, status="404") == 1
    assert delta(total, method="GET", route=route, status="401") == 1
    assert delta(total, method="GET", route="unmatched", status="404") == 1
    assert delta(total, method="other", route="/healthz", status="405") == 1
    assert delta(total, method="GET", route="/openapi.json", status="200") == 1
    assert delta("fupin_http_request_duration_seconds_count", method="GET", route=route) == 5
    assert delta("fupin_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") == 5
    assert delta("fupin_http_request_duration_seconds_sum", method="GET", route=route) > 0
    # No raw path, id or principal becomes a label value.
    labels = {label for (_, pairs) in after for _, label in pairs}
    assert not any(str(household.id) in label for label in labels)
    assert not any(county.principal.subject in label for label in labels)


async def test_pools_jobs_and_exports_are_reported(
    client: httpx.AsyncClient,
    db: Database,
    county: Account,
    app: FastAPI,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with db.sessionmaker() as session, session.begin():
        for status in ("queued", "running", "running", "succeeded", "failed"):
            job = await jobs.create_job(session, system_principal(), jobs.HOUSEHOLD_IMPORT, {})
            job.status = status
    found = await scrape(client)
    assert value(found, "fupin_jobs", status="queued") == 1
    assert value(found, "fupin_jobs", status="running") == 2
    assert value(found, "fupin_jobs_running_in_process") == 0
    assert value(found, "fupin_db_pool_connections_max", pool="engine") >= 1
    assert value(found, "fupin_db_pool_connections", pool="engine") >= 1
    assert value(found, "fupin_http_requests_in_flight") == 1  # the scrape itself
    if db.engine.dialect.name == "postgresql":
        # The hot-read pool opens with the first list read.
        assert (await client.get("/api/v1/households", headers=county.headers)).status_code == 200
        found = await scrape(client)
        assert value(found, "fupin_db_pool_connections_max", pool="reads") == settings.database_read_pool_size
        assert value(found, "fupin_db_pool_connections", pool="reads") >= 1
        assert value(found, "fupin_db_pool_connections_in_use", pool="reads") == 0

    await make_household(db, VILLAGE_A1)
    metrics: Metrics = app.state.metrics
    in_progress_while_streaming: list[float] = []

    async def observed(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in Metrics.track_export(metrics, chunks):
            exposed = samples(metrics.exposition().decode())
            in_progress_while_streaming.append(value(exposed, "fupin_exports_in_progress"))
            yield chunk

    monkeypatch.setattr(metrics, "track_export", observed)
    response = await client.get("/api/v1/households/export", headers=county.headers)
    assert response.status_code == 200
    assert response.content
    assert in_progress_while_streaming
    assert set(in_progress_while_streaming) == {1}
    # Streamed to its end: no longer in progress.
    assert value(await scrape(client), "fupin_exports_in_progress") == 0


async def test_an_export_counts_as_in_progress_while_it_streams() -> None:
    metrics = Metrics()
    flowing, release = asyncio.Event(), asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        flowing.set()
        await release.wait()
        yield b"b"

    async def consume() -> bytes:
        return b"".join([chunk async for chunk in metrics.track_export(chunks())])

    task = asyncio.create_task(consume())
    await flowing.wait()
    assert value(samples(metrics.exposition().decode()), "fupin_exports_in_progress") == 1
    release.set()
    assert await task == b"ab"
    assert value(samples(metrics.exposition().decode()), "fupin_exports_in_progress") == 0


async def test_finished_jobs_are_counted_by_outcome(db: Database) -> None:
    metrics = Metrics()
    runner = jobs.JobRunner(db.sessionmaker, metrics.job_finished)
    ids = []
    async with db.sessionmaker() as session, session.begin():
        for _ in range(3):
            ids.append((await jobs.create_job(session, system_principal(), jobs.HOUSEHOLD_IMPORT, {})).id)

    async def succeeds() -> None:
        async with db.sessionmaker() as session, session.begin():
            await jobs.set_state(session, ids[0], status="succeeded", finished_at=utcnow())

    async def fails() -> None:
        raise RuntimeError("broken")

    started = asyncio.Event()

    async def hangs() -> None:
        started.set()
        await asyncio.sleep(3600)

    runner.start(ids[0], succeeds)
    runner.start(ids[1], fails)
    runner.start(ids[2], hangs)
    await started.wait()
    await runner.shutdown(grace_seconds=0.2)
    found = samples(metrics.exposition().decode())
    for outcome in ("succeeded", "failed", "interrupted"):
        assert value(found, "fupin_jobs_finished_total", kind=jobs.HOUSEHOLD_IMPORT, outcome=outcome) == 1


async def test_shutdown_waits_for_a_job_that_ends_within_the_grace(db: Database) -> None:
    runner = jobs.JobRunner(db.sessionmaker)
    async with db.sessionmaker() as session, session.begin():
        job = await jobs.create_job(session, system_principal(), jobs.HOUSEHOLD_IMPORT, {})
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(0.3)
        async with db.sessionmaker() as session, session.begin():
            await jobs.set_state(session, job.id, status="succeeded", finished_at=utcnow())

    runner.start(job.id, work)
    await started.wait()
    await runner.shutdown(grace_seconds=30)
    async with db.sessionmaker() as session:
        stored = await session.get(Job, job.id)
    assert stored is not None
    assert (stored.status, stored.error) == ("succeeded", None)


async def test_a_job_past_the_grace_is_marked_interrupted(db: Database) -> None:
    runner = jobs.JobRunner(db.sessionmaker)
    async with db.sessionmaker() as session, session.begin():
        job = await jobs.create_job(session, system_principal(), jobs.HOUSEHOLD_IMPORT, {})
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(3600)

    runner.start(job.id, work)
    await started.wait()
    await runner.shutdown(grace_seconds=0.2)
    assert runner.running == 0
    async with db.sessionmaker() as session:
        stored = await session.get(Job, job.id)
    assert stored is not None
    assert (stored.status, stored.error) == ("failed", jobs.INTERRUPTED)


async def test_metrics_can_be_turned_off(settings: Settings, database: Database) -> None:
    app = create_app(settings.model_copy(update={"metrics_enabled": False}))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        assert (await http.get("/healthz")).status_code == 200
        assert_problem(await http.get("/metrics"), 404, "metrics.disabled")
