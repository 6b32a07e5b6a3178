"""Rate limits per user and per machine client: 429 problem+json with Retry-After, counted for every
authenticated route in one place, in process or shared through Redis by several server processes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.db.models import ApiClient
from app.db.session import Database
from app.settings import Settings
from tests.conftest import COUNTY, Account, assert_problem, make_client
from tests.limits.support import ME, app_with, client_headers, redis_or_skip, shared

AccountFactory = Callable[..., Awaitable[Account]]
HOUSEHOLDS = "/api/v1/households"
CLIENTS = "/api/v1/clients"


def assert_limited(response: httpx.Response, code: str = "rate_limit.requests", most: int = 60) -> None:
    problem = assert_problem(response, 429, code)
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= most
    assert problem["instance"] == response.request.url.path


@pytest.fixture
async def county(tree: dict[str, str], account_factory: AccountFactory) -> Account:
    return await account_factory(COUNTY, "county_officer")


async def test_a_user_past_the_limit_gets_429_with_retry_after_and_others_go_on(
    settings: Settings, county: Account, account_factory: AccountFactory
) -> None:
    other = await account_factory(COUNTY, "inspector")
    async with app_with(settings, rate_limit_user_per_minute=3) as http:
        allowed = [await http.get(ME, headers=county.headers) for _ in range(3)]
        refused = await http.get(ME, headers=county.headers)
        someone_else = await http.get(ME, headers=other.headers)

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert_limited(refused)
    assert "3 requests a minute" in refused.json()["detail"]
    assert someone_else.status_code == 200


async def test_every_authenticated_route_counts_against_the_same_limit(
    settings: Settings, county: Account
) -> None:
    async with app_with(settings, rate_limit_user_per_minute=4) as http:
        answers = [
            await http.get(HOUSEHOLDS, headers=county.headers),  # a direct route (app/api/direct.py)
            await http.get("/api/v1/regions", headers=county.headers),
            await http.post("/graphql", json={"query": "{ __typename }"}, headers=county.headers),
            await http.get(ME, headers=county.headers),
        ]
        list_refused = await http.get(HOUSEHOLDS, headers=county.headers)
        graphql_refused = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers=county.headers
        )
        write_refused = await http.post(
            CLIENTS, json={"name": "x", "region_code": COUNTY}, headers=county.headers
        )

    assert [r.status_code for r in answers] == [200, 200, 200, 200], [r.text for r in answers]
    for response in (list_refused, graphql_refused, write_refused):
        assert_limited(response)


async def test_requests_without_a_valid_token_are_not_counted_against_anyone(
    settings: Settings, county: Account
) -> None:
    async with app_with(settings, rate_limit_user_per_minute=2) as http:
        anonymous = [await http.get(ME) for _ in range(3)]
        probes = [await http.get("/healthz") for _ in range(3)]
        signed_in = [await http.get(ME, headers=county.headers) for _ in range(2)]

    assert {r.status_code for r in anonymous} == {401}
    assert {r.status_code for r in probes} == {200}
    assert [r.status_code for r in signed_in] == [200, 200]


async def test_no_limit_when_the_setting_is_zero(settings: Settings, county: Account) -> None:
    async with app_with(settings, rate_limit_user_per_minute=0) as http:
        answers = [await http.get(ME, headers=county.headers) for _ in range(30)]

    assert {r.status_code for r in answers} == {200}


async def test_a_clients_own_limit_replaces_the_default_and_null_restores_it(
    settings: Settings, db: Database, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    admin = await account_factory(COUNTY, "admin", "data_consumer")
    async with app_with(settings, rate_limit_client_per_minute=4, rate_limit_user_per_minute=0) as http:
        created = await http.post(
            CLIENTS,
            json={"name": "省级系统", "region_code": COUNTY, "rate_limit_per_minute": 2},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        assert created.json()["rate_limit_per_minute"] == 2
        headers = await client_headers(http, created.json()["client_id"], created.json()["client_secret"])
        own = [await http.get(ME, headers=headers) for _ in range(3)]

        reset = await http.patch(
            f"{CLIENTS}/{created.json()['id']}", json={"rate_limit_per_minute": None}, headers=admin.headers
        )
        # The limit is part of the window's key: the default starts a window of its own.
        default = [await http.get(ME, headers=headers) for _ in range(5)]

    assert [r.status_code for r in own[:2]] == [200, 200]
    assert_limited(own[2])
    assert "2 requests a minute" in own[2].json()["detail"]
    assert reset.status_code == 200, reset.text
    assert reset.json()["rate_limit_per_minute"] is None
    assert [r.status_code for r in default[:4]] == [200] * 4
    assert_limited(default[4])


@pytest.mark.parametrize(
    "body",
    [
        {"rate_limit_per_minute": 0},
        {"rate_limit_per_minute": -5},
        {"rate_limit_per_minute": "many"},
        {"export_quota_per_day": -1},
        {"export_quota_per_day": 10**9},
    ],
)
async def test_invalid_client_limits_are_422_and_change_nothing(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory, body: dict[str, object]
) -> None:
    admin = await account_factory(COUNTY, "admin", "data_consumer")
    created = await client.post(CLIENTS, json={"name": "x", "region_code": COUNTY}, headers=admin.headers)
    path = f"{CLIENTS}/{created.json()['id']}"

    registered = await client.post(
        CLIENTS, json={"name": "y", "region_code": COUNTY, **body}, headers=admin.headers
    )
    patched = await client.patch(path, json=body, headers=admin.headers)

    assert_problem(registered, 422, "validation")
    assert_problem(patched, 422, "validation")
    after = (await client.get(path, headers=admin.headers)).json()
    assert (after["rate_limit_per_minute"], after["export_quota_per_day"]) == (None, None)
    assert len((await client.get(CLIENTS, headers=admin.headers)).json()["items"]) == 1


async def test_limits_held_in_redis_are_shared_by_two_server_processes(
    settings: Settings, county: Account
) -> None:
    await redis_or_skip()
    limits = shared(rate_limit_user_per_minute=3)
    # Two apps, each with its own limiter and Redis connection: two server processes as far as limits go.
    async with app_with(settings, **limits) as first, app_with(settings, **limits) as second:
        answers = [
            await first.get(ME, headers=county.headers),
            await second.get(ME, headers=county.headers),
            await first.get(ME, headers=county.headers),
        ]
        refused_by_second = await second.get(ME, headers=county.headers)
        refused_by_first = await first.get(ME, headers=county.headers)

    assert [r.status_code for r in answers] == [200, 200, 200]
    assert_limited(refused_by_second)
    assert_limited(refused_by_first)


async def test_without_redis_each_process_counts_on_its_own(settings: Settings, county: Account) -> None:
    async with (
        app_with(settings, rate_limit_user_per_minute=2) as first,
        app_with(settings, rate_limit_user_per_minute=2) as second,
    ):
        answers = [await first.get(ME, headers=county.headers) for _ in range(2)]
        answers += [await second.get(ME, headers=county.headers) for _ in range(2)]
        refused = await first.get(ME, headers=county.headers)

    assert [r.status_code for r in answers] == [200] * 4
    assert_limited(refused)


async def test_an_unreachable_redis_lets_requests_through(settings: Settings, county: Account) -> None:
    # Nothing listens on port 1: the limiter cannot count, and the service must not go down with it.
    async with app_with(settings, redis_url="redis://127.0.0.1:1/0", rate_limit_user_per_minute=1) as http:
        answers = [await http.get(ME, headers=county.headers) for _ in range(3)]

    assert [r.status_code for r in answers] == [200, 200, 200]


@pytest.mark.parametrize(("column", "value"), [("rate_limit_per_minute", 0), ("export_quota_per_day", -1)])
async def test_the_database_refuses_limits_out_of_range(
    db: Database, tree: dict[str, str], column: str, value: int
) -> None:
    stored = await make_client(db, region_code=COUNTY, roles=["data_consumer"])

    with pytest.raises(IntegrityError):
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(ApiClient).where(ApiClient.id == stored.id).values({column: value}))
