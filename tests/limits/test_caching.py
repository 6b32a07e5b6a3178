"""ETag / If-None-Match (304) on reads, Cache-Control on code lists and regions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from app.api.caching import matches, weak_etag
from app.db.session import Database
from tests.conftest import COUNTY, VILLAGE_A1, Account, assert_problem
from tests.factories import make_household

AccountFactory = Callable[..., Awaitable[Account]]
pytestmark = pytest.mark.usefixtures("tree")


@pytest.fixture
async def county(account_factory: AccountFactory) -> Account:
    return await account_factory(COUNTY, "county_officer", "admin")


def assert_not_modified(response: httpx.Response, etag: str) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-type" not in response.headers
    assert response.headers["x-request-id"]


async def test_a_json_read_carries_a_weak_etag_and_answers_304_while_it_matches(
    client: httpx.AsyncClient, county: Account
) -> None:
    first = await client.get("/api/v1/me", headers=county.headers)
    etag = first.headers["etag"]

    again = await client.get("/api/v1/me", headers=county.headers | {"If-None-Match": etag})
    among_others = await client.get(
        "/api/v1/me", headers=county.headers | {"If-None-Match": f'W/"stale", {etag}'}
    )
    stale = await client.get("/api/v1/me", headers=county.headers | {"If-None-Match": 'W/"stale"'})

    assert first.status_code == 200
    assert etag.startswith('W/"')
    assert etag.encode() == weak_etag(first.content)
    assert_not_modified(again, etag)
    assert_not_modified(among_others, etag)
    assert stale.status_code == 200
    assert stale.json() == first.json()


async def test_the_household_list_answers_304_until_it_changes(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1)
    first = await client.get("/api/v1/households", headers=county.headers)
    etag = first.headers["etag"]

    unchanged = await client.get("/api/v1/households", headers=county.headers | {"If-None-Match": etag})
    await make_household(db, VILLAGE_A1)
    changed = await client.get("/api/v1/households", headers=county.headers | {"If-None-Match": etag})

    assert first.status_code == 200
    assert_not_modified(unchanged, etag)
    assert changed.status_code == 200
    assert len(changed.json()["items"]) == 2
    assert changed.headers["etag"] != etag


async def test_a_household_keeps_its_version_etag_and_answers_304_until_it_is_edited(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    household = await make_household(db, VILLAGE_A1)
    path = f"/api/v1/households/{household.id}"
    first = await client.get(path, headers=county.headers)
    etag = first.headers["etag"]

    unchanged = await client.get(path, headers=county.headers | {"If-None-Match": etag})
    edited = await client.patch(path, json={"address": "新地址"}, headers=county.headers | {"If-Match": etag})
    after = await client.get(path, headers=county.headers | {"If-None-Match": etag})

    assert etag == f'"{household.id}.{first.json()["version"]}"'
    assert_not_modified(unchanged, etag)
    assert edited.status_code == 200, edited.text
    assert "etag" in edited.headers
    assert after.status_code == 200
    assert after.json()["address"] == "新地址"
    assert after.headers["etag"] != etag


async def test_errors_writes_and_streams_carry_no_etag(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1)
    missing = await client.get("/api/v1/regions/620522199000", headers=county.headers)
    created = await client.post(
        "/api/v1/clients", json={"name": "看板", "region_code": COUNTY}, headers=county.headers
    )
    export = await client.get(
        "/api/v1/households/export", params={"format": "ndjson"}, headers=county.headers
    )

    assert_problem(missing, 404)
    assert created.status_code == 403  # admin without data_consumer: any answer, never an ETag
    assert export.status_code == 200
    for response in (missing, created, export):
        assert "etag" not in response.headers


@pytest.mark.parametrize("path", ["/api/v1/regions", f"/api/v1/regions/{COUNTY}", "/api/v1/code-lists"])
async def test_code_lists_and_regions_may_be_kept_by_the_callers_own_cache_only(
    client: httpx.AsyncClient, county: Account, path: str
) -> None:
    response = await client.get(path, headers=county.headers)
    revalidated = await client.get(path, headers=county.headers | {"If-None-Match": response.headers["etag"]})

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, max-age=300"
    assert response.headers["vary"] == "Authorization"
    assert_not_modified(revalidated, response.headers["etag"])
    assert revalidated.headers["cache-control"] == "private, max-age=300"


async def test_reference_writes_and_errors_are_not_cacheable(
    client: httpx.AsyncClient, county: Account
) -> None:
    missing = await client.get("/api/v1/regions/620522199000", headers=county.headers)
    written = await client.post(
        "/api/v1/code-lists",
        json={"list_name": "cause", "code": "drought", "label": "旱灾", "region_code": COUNTY},
        headers=county.headers,
    )
    other_reads = await client.get("/api/v1/households", headers=county.headers)

    assert written.status_code == 201, written.text
    for response in (missing, written, other_reads):
        assert "cache-control" not in response.headers


@pytest.mark.parametrize(
    ("header", "etag", "expected"),
    [
        (b'"a"', b'"a"', True),
        (b'W/"a"', b'"a"', True),  # weak comparison
        (b'"a"', b'W/"a"', True),
        (b'"b", W/"a"', b'"a"', True),
        (b"*", b'"a"', True),
        (b'"b"', b'"a"', False),
        (b'"ab"', b'"a"', False),
        (b"", b'"a"', False),
    ],
)
def test_if_none_match_uses_the_weak_comparison(header: bytes, etag: bytes, expected: bool) -> None:
    assert matches(header, etag) is expected


def test_the_weak_etag_changes_with_any_byte() -> None:
    body = b'{"items":[{"id":1}],"next_cursor":null}'
    assert weak_etag(body) == weak_etag(bytes(body))
    assert weak_etag(body) != weak_etag(body.replace(b"1", b"2"))
    assert weak_etag(body) != weak_etag(body + b" ")
