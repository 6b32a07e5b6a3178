"""Export quotas (per machine client, per 24 hours) and concurrency caps (per principal, per process)."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from app.db.models import AuditEntry
from app.db.session import Database
from app.domain.errors import Forbidden, TooManyRequests
from app.domain.limits import Limiter, LimitsOf
from app.domain.principal import Principal
from app.settings import Settings
from tests.conftest import COUNTY, PASSWORD, VILLAGE_A1, Account, assert_problem, make_client
from tests.factories import make_household
from tests.limits.support import app_with, client_headers, limited, redis_or_skip, shared

AccountFactory = Callable[..., Awaitable[Account]]
EXPORT = "/api/v1/households/export"
CLIENTS = "/api/v1/clients"
pytestmark = pytest.mark.usefixtures("tree")


async def exports_audited(db: Database) -> int:
    async with db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(AuditEntry.action == "export"))
    return int(count or 0)


def principal(kind: str = "user") -> Principal:
    return Principal.build(kind=kind, id=uuid.uuid4(), name="p", region_code=COUNTY, roles=["data_consumer"])  # type: ignore[arg-type]


@pytest.fixture
async def registry(db: Database) -> None:
    await make_household(db, VILLAGE_A1, members=2)


async def test_a_client_past_its_export_quota_gets_429_and_the_refusal_is_not_audited(
    settings: Settings, db: Database, registry: None
) -> None:
    stored = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    async with app_with(settings, export_quota_client_per_day=2) as http:
        headers = await client_headers(http, stored.client_id, PASSWORD)
        allowed = [await http.get(EXPORT, params={"format": "ndjson"}, headers=headers) for _ in range(2)]
        refused = await http.get(EXPORT, params={"format": "ndjson"}, headers=headers)
        still_reads = await http.get("/api/v1/households", headers=headers)

    assert [r.status_code for r in allowed] == [200, 200], [r.text for r in allowed]
    problem = assert_problem(refused, 429, "rate_limit.export_quota")
    assert "2 exports in 24 hours" in problem["detail"]
    assert 86_000 <= int(refused.headers["Retry-After"]) <= 86_400
    assert still_reads.status_code == 200
    assert await exports_audited(db) == 2


async def test_a_clients_own_quota_replaces_the_default_and_zero_forbids_exports(
    settings: Settings, db: Database, registry: None, account_factory: AccountFactory
) -> None:
    admin = await account_factory(COUNTY, "admin", "data_consumer")
    async with app_with(settings, export_quota_client_per_day=1) as http:
        created = (
            await http.post(
                CLIENTS,
                json={"name": "省级系统", "region_code": COUNTY, "export_quota_per_day": 3},
                headers=admin.headers,
            )
        ).json()
        headers = await client_headers(http, created["client_id"], created["client_secret"])
        own = [await http.get(EXPORT, headers=headers) for _ in range(4)]
        await http.patch(
            f"{CLIENTS}/{created['id']}", json={"export_quota_per_day": 0}, headers=admin.headers
        )
        none = await http.get(EXPORT, headers=headers)

    assert [r.status_code for r in own[:3]] == [200, 200, 200]
    assert_problem(own[3], 429, "rate_limit.export_quota")
    assert_problem(none, 403, "export.not_allowed")
    assert await exports_audited(db) == 3


async def test_users_have_no_export_quota(
    settings: Settings, account_factory: AccountFactory, registry: None
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    async with app_with(settings, export_quota_client_per_day=1) as http:
        answers = [await http.get(EXPORT, headers=county.headers) for _ in range(3)]

    assert [r.status_code for r in answers] == [200, 200, 200]


async def test_a_finished_export_gives_its_slot_back(
    settings: Settings, account_factory: AccountFactory, registry: None
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    async with app_with(settings, export_concurrency_per_principal=1) as http:
        answers = [await http.get(EXPORT, headers=county.headers) for _ in range(3)]
        limiter: Limiter = http._transport.app.state.limiter  # type: ignore[attr-defined]

    assert [r.status_code for r in answers] == [200, 200, 200]
    assert limiter._running == {}


async def test_exports_past_the_concurrency_cap_are_429_until_one_ends(settings: Settings) -> None:
    limiter = Limiter(limited(settings, export_concurrency_per_principal=2))
    caller, other = principal(), principal()
    no_quota = LimitsOf(None, None)

    first = await limiter.start_export(caller, no_quota)
    second = await limiter.start_export(caller, no_quota)
    with pytest.raises(TooManyRequests) as refused:
        await limiter.start_export(caller, no_quota)
    others = await limiter.start_export(other, no_quota)
    first.release()
    first.release()  # idempotent: a second release frees nothing more
    third = await limiter.start_export(caller, no_quota)
    with pytest.raises(TooManyRequests):
        await limiter.start_export(caller, no_quota)

    assert refused.value.code == "rate_limit.concurrent_exports"
    assert refused.value.extra["retry_after"] >= 1
    for slot in (second, others, third):
        slot.release()
    assert limiter._running == {}


async def test_an_export_refused_by_the_cap_costs_no_quota(settings: Settings) -> None:
    limiter = Limiter(limited(settings, export_concurrency_per_principal=1))
    caller = principal("client")
    quota_of_one = LimitsOf(None, 1)

    slot = await limiter.start_export(caller, LimitsOf(None, None))
    with pytest.raises(TooManyRequests) as capped:
        await limiter.start_export(caller, quota_of_one)
    slot.release()
    counted = await limiter.start_export(caller, quota_of_one)
    counted.release()
    with pytest.raises(TooManyRequests) as spent:
        await limiter.start_export(caller, quota_of_one)
    with pytest.raises(Forbidden):
        await limiter.start_export(caller, LimitsOf(None, 0))

    assert capped.value.code == "rate_limit.concurrent_exports"
    assert spent.value.code == "rate_limit.export_quota"
    assert limiter._running == {}  # refusals hold no slot


async def test_a_stream_never_iterated_gives_its_slot_back_when_collected(settings: Settings) -> None:
    from app.api.limits import guarded

    limiter = Limiter(limited(settings, export_concurrency_per_principal=1))
    caller = principal()

    async def chunks():  # type: ignore[no-untyped-def]
        yield b"never read"

    body = guarded(await limiter.start_export(caller, LimitsOf(None, None)), chunks())
    assert limiter._running
    del body
    gc.collect()

    assert limiter._running == {}
    (await limiter.start_export(caller, LimitsOf(None, None))).release()


async def test_export_quotas_in_redis_are_shared_by_two_server_processes(
    settings: Settings, db: Database, registry: None
) -> None:
    await redis_or_skip()
    stored = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    limits = shared(export_quota_client_per_day=2)
    async with app_with(settings, **limits) as first, app_with(settings, **limits) as second:
        headers = await client_headers(first, stored.client_id, PASSWORD)
        answers = [await first.get(EXPORT, headers=headers), await second.get(EXPORT, headers=headers)]
        refused = await first.get(EXPORT, headers=headers)

    assert [r.status_code for r in answers] == [200, 200]
    assert_problem(refused, 429, "rate_limit.export_quota")


async def test_a_sync_snapshot_counts_against_the_export_quota(
    settings: Settings, db: Database, registry: None
) -> None:
    stored = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    async with app_with(settings, export_quota_client_per_day=2) as http:
        headers = await client_headers(http, stored.client_id, PASSWORD)
        export = await http.get(EXPORT, params={"format": "ndjson"}, headers=headers)
        snapshot = await http.get("/api/v1/sync/households/snapshot", headers=headers)
        refused = await http.get("/api/v1/sync/households/snapshot", headers=headers)

    assert [export.status_code, snapshot.status_code] == [200, 200], snapshot.text
    assert snapshot.text.rstrip().splitlines()[-1].startswith('{"end"')
    assert_problem(refused, 429, "rate_limit.export_quota")
