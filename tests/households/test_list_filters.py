"""The household list: filters inside the caller's scope, index orders, cursor paging, no personal data."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from app.db.models import Household, Member
from app.db.session import Database
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    PROVINCE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
    assert_problem,
)
from tests.factories import make_household
from tests.households.registry_helpers import HOUSEHOLDS, x_id_number

pytestmark = pytest.mark.usefixtures("tree")

SUMMARY_KEYS = {
    "id",
    "region_code",
    "county_code",
    "household_number",
    "group_name",
    "head_name",
    "status",
    "attribute",
    "category",
    "primary_cause",
    "other_causes",
    "monitoring_kind",
    "procedure",
    "procedure_step",
    "registered_year",
    "exited_year",
    "version",
    "updated_at",
}


@pytest.fixture
async def registry(db: Database) -> dict[str, Household]:
    """Households across the tree, each with something that sets it apart."""
    return {
        "a1": await make_household(
            db,
            VILLAGE_A1,
            household_number="Q100_1",
            head_name="王建国",
            registered_year=2015,
            category="targeted",
            primary_cause="illness",
            other_causes=["disability"],
        ),
        "a2": await make_household(
            db,
            VILLAGE_A2,
            household_number="Q100X1",
            head_name="李%强",
            registered_year=2016,
            attribute="dibao",
            category="policy_guaranteed",
            primary_cause="disability",
        ),
        "b1": await make_household(
            db,
            VILLAGE_B1,
            household_number="Q200",
            head_name="张_三",
            status="exited",
            registered_year=2014,
            exited_year=2019,
            primary_cause="schooling",
            other_causes=["illness", "lack_of_land"],
            monitoring_kind="unstable_exited",
        ),
        "b2": await make_household(
            db,
            VILLAGE_B2,
            household_number="Q300",
            head_name="刘大三",
            status="applicant",
            procedure="identification",
            procedure_step="applied",
            primary_cause="lack_of_land",
            other_causes=["lackxofxland"],  # a local code that a `_` wildcard would confuse
        ),
        "other": await make_household(
            db, OTHER_VILLAGE, household_number="Q100_2", head_name="王建国", registered_year=2015
        ),
    }


async def _ids(client: httpx.AsyncClient, account: Any, **params: Any) -> set[str]:
    response = await client.get(HOUSEHOLDS, headers=account.headers, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    return {item["id"] for item in body["items"]}


def _of(registry: dict[str, Household], *names: str) -> set[str]:
    return {str(registry[name].id) for name in names}


async def test_a_county_officer_lists_the_county_and_nothing_beyond(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household]
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert await _ids(client, county) == _of(registry, "a1", "a2", "b1", "b2")


async def test_a_township_reviewer_lists_only_their_township(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household]
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    assert await _ids(client, reviewer) == _of(registry, "a1", "a2")
    assert await _ids(client, reviewer, region=TOWNSHIP_B) == set()
    assert await _ids(client, reviewer, region=COUNTY) == _of(registry, "a1", "a2")


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (TOWNSHIP_B, ("b1", "b2")),
        (VILLAGE_A2, ("a2",)),
        (COUNTY, ("a1", "a2", "b1", "b2")),
        (OTHER_COUNTY, ()),
        (PROVINCE, ("a1", "a2", "b1", "b2")),
    ],
)
async def test_the_region_filter_is_a_subtree_inside_the_scope(
    client: httpx.AsyncClient,
    account_factory,
    registry: dict[str, Household],
    region: str,
    expected: tuple[str, ...],
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert await _ids(client, county, region=region) == _of(registry, *expected)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "registered"}, ("a1", "a2")),
        ({"status": "exited"}, ("b1",)),
        ({"status": "applicant"}, ("b2",)),
        ({"status": "removed"}, ()),
        ({"attribute": "dibao"}, ("a2",)),
        ({"attribute": "general"}, ("a1", "b1", "b2")),
        ({"category": "targeted"}, ("a1",)),
        ({"category": "policy_guaranteed"}, ("a2",)),
        ({"cause": "illness"}, ("a1", "b1")),  # primary of a1, other of b1
        ({"cause": "disability"}, ("a1", "a2")),  # other of a1, primary of a2
        ({"cause": "lack_of_land"}, ("b1", "b2")),  # "_" literal: not b2's "lackxofxland" alone
        ({"cause": "lackxofxland"}, ("b2",)),
        ({"cause": "marriage"}, ()),
        ({"monitoring_kind": "unstable_exited"}, ("b1",)),
        ({"registered_year": 2015}, ("a1",)),
        ({"registered_year": 2014}, ("b1",)),
        ({"exited_year": 2019}, ("b1",)),
        ({"exited_year": 2020}, ()),
        ({"status": "registered", "attribute": "general"}, ("a1",)),
        ({"region": TOWNSHIP_A, "cause": "illness"}, ("a1",)),
    ],
)
async def test_list_filters(
    client: httpx.AsyncClient,
    account_factory,
    registry: dict[str, Household],
    params: dict[str, Any],
    expected: tuple[str, ...],
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert await _ids(client, county, **params) == _of(registry, *expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("王建", ("a1",)),
        ("Q100", ("a1", "a2")),
        ("100_", ("a1",)),  # "_" taken literally: not Q100X1
        ("%", ("a2",)),  # "%" taken literally: only the head name that holds one
        ("李%", ("a2",)),
        ("_三", ("b1",)),  # not 刘大三
        ("三", ("b1", "b2")),
        ("Q2", ("b1",)),
        ("无此人", ()),
        ("\\", ()),  # a backslash is a character, not an escape
    ],
)
async def test_free_text_searches_head_names_and_numbers_literally(
    client: httpx.AsyncClient,
    account_factory,
    registry: dict[str, Household],
    q: str,
    expected: tuple[str, ...],
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert await _ids(client, county, q=q) == _of(registry, *expected)


async def _member_numbers(db: Database, household: Household) -> list[str]:
    async with db.sessionmaker() as session:
        statement = (
            select(Member.id_number).where(Member.household_id == household.id).order_by(Member.id_number)
        )
        return list((await session.scalars(statement)).all())


async def test_the_id_number_filter_finds_the_household_of_any_member(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household], db: Database
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    for name in ("a1", "a2", "b1"):
        for number in await _member_numbers(db, registry[name]):
            assert await _ids(client, county, id_number=number) == _of(registry, name)


async def test_the_id_number_filter_finds_a_member_who_left(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household], db: Database
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = (await _member_numbers(db, registry["b1"]))[0]
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Member).where(Member.id_number == number).values(is_active=False))
    assert await _ids(client, county, id_number=number) == _of(registry, "b1")


async def test_the_id_number_filter_accepts_a_lowercase_x(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household], db: Database
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = x_id_number()
    async with db.sessionmaker() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.household_id == registry["b2"].id).limit(1))
        assert member is not None
        member.id_number = number
    assert await _ids(client, county, id_number=number.lower()) == _of(registry, "b2")
    assert await _ids(client, county, id_number=number) == _of(registry, "b2")


async def test_the_id_number_filter_does_not_find_a_household_out_of_scope(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household], db: Database
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = (await _member_numbers(db, registry["other"]))[0]
    assert await _ids(client, county, id_number=number) == set()
    clerk = await account_factory(VILLAGE_A2, "village_clerk")
    number = (await _member_numbers(db, registry["a1"]))[0]
    assert await _ids(client, clerk, id_number=number) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"status": "sleeping"},
        {"cause": "Bad Code"},
        {"id_number": "12345"},
        {"registered_year": 1900},
        {"q": ""},
        {"q": "x" * 51},
        {"sort": "name"},
        {"region": "6205"},
    ],
)
async def test_invalid_filters_are_refused(
    client: httpx.AsyncClient, account_factory, params: dict[str, Any]
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(await client.get(HOUSEHOLDS, headers=county.headers, params=params), 422)


async def test_list_items_carry_no_personal_data(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household]
) -> None:
    inspector = await account_factory(COUNTY, "inspector")
    response = await client.get(HOUSEHOLDS, headers=inspector.headers)
    items = response.json()["items"]
    assert len(items) == 4
    for item in items:
        assert set(item) == SUMMARY_KEYS
    for secret in ("13800001234", "6228480012345678", "phone", "bank", "id_number", "address", "620522197"):
        assert secret not in response.text


async def _walk(client: httpx.AsyncClient, account: Any, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(HOUSEHOLDS, headers=account.headers, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        assert len(body["items"]) <= 2
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.fixture
async def many(db: Database) -> list[Household]:
    """Seven households across two counties, numbers deliberately not in region order."""
    placed = [
        (VILLAGE_B2, "0001"),
        (VILLAGE_A1, "0005"),
        (OTHER_VILLAGE, "0002"),
        (VILLAGE_A2, "0003"),
        (VILLAGE_A1, "0007"),
        (VILLAGE_B1, "0004"),
        (OTHER_VILLAGE, "0006"),
    ]
    return [await make_household(db, region, household_number=number) for region, number in placed]


async def test_sort_by_region_orders_by_village_then_id_across_pages(
    client: httpx.AsyncClient, account_factory, many: list[Household]
) -> None:
    consumer = await account_factory(PROVINCE, "data_consumer")
    items, pages = await _walk(client, consumer, sort="region")
    assert pages == 4
    expected = sorted(many, key=lambda h: (h.region_code, str(h.id)))
    assert [item["id"] for item in items] == [str(h.id) for h in expected]
    assert [item["region_code"] for item in items] == sorted(h.region_code for h in many)


async def test_sort_by_number_orders_by_county_then_number_across_pages(
    client: httpx.AsyncClient, account_factory, many: list[Household]
) -> None:
    consumer = await account_factory(PROVINCE, "data_consumer")
    items, _ = await _walk(client, consumer, sort="number")
    assert [(item["county_code"], item["household_number"]) for item in items] == [
        (OTHER_COUNTY, "0002"),
        (OTHER_COUNTY, "0006"),
        (COUNTY, "0001"),
        (COUNTY, "0003"),
        (COUNTY, "0004"),
        (COUNTY, "0005"),
        (COUNTY, "0007"),
    ]


@pytest.mark.parametrize("sort", ["region", "number"])
async def test_cursor_paging_has_no_gaps_or_duplicates(
    client: httpx.AsyncClient, account_factory, many: list[Household], sort: str
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    items, _ = await _walk(client, county, sort=sort)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == 5
    whole = (await client.get(HOUSEHOLDS, headers=county.headers, params={"sort": sort, "limit": 500})).json()
    assert [item["id"] for item in whole["items"]] == ids


async def test_paging_with_a_filter_stays_inside_the_filter(
    client: httpx.AsyncClient, account_factory, many: list[Household]
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    items, _ = await _walk(client, county, region=TOWNSHIP_A)
    assert {item["region_code"] for item in items} == {VILLAGE_A1, VILLAGE_A2}
    assert len(items) == 3


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "e30",  # {}
        _cursor([VILLAGE_A1]),
        _cursor([VILLAGE_A1, "not-a-uuid"]),
        _cursor([VILLAGE_A1, str(uuid.uuid4()), "extra"]),
        _cursor([1, 2]),
    ],
)
async def test_an_invalid_cursor_is_refused(
    client: httpx.AsyncClient, account_factory, many: list[Household], cursor: str
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    problem = assert_problem(
        await client.get(HOUSEHOLDS, headers=county.headers, params={"cursor": cursor}),
        422,
        "pagination.invalid_cursor",
    )
    assert ("query", "cursor") in {tuple(error["loc"]) for error in problem["errors"]}


async def test_the_list_is_refused_to_an_admin_without_household_rights(
    client: httpx.AsyncClient, account_factory
) -> None:
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(HOUSEHOLDS, headers=admin.headers), 403)


async def test_the_list_validates_its_query_like_any_route(
    client: httpx.AsyncClient, account_factory
) -> None:
    """The list resolves its own arguments (app/api/direct.py): the errors must be the usual ones."""
    county = await account_factory(COUNTY, "county_officer")
    problem = assert_problem(
        await client.get(HOUSEHOLDS, headers=county.headers, params={"limit": 501, "status": "gone"}),
        422,
        "validation",
    )
    assert {tuple(error["loc"]) for error in problem["errors"]} == {("query", "limit"), ("query", "status")}
    assert_problem(await client.get(HOUSEHOLDS), 401, "auth.missing_token")
    assert_problem(await client.get(HOUSEHOLDS, headers={"Authorization": "Basic abc"}), 401)
    assert_problem(
        await client.get(HOUSEHOLDS, headers={"Authorization": "Bearer not.a.token"}),
        401,
        "auth.invalid_token",
    )


async def test_unknown_query_parameters_are_ignored_and_the_last_repeat_wins(
    client: httpx.AsyncClient, account_factory, registry: dict[str, Household]
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    params = [("status", "applicant"), ("status", "registered"), ("colour", "red")]
    response = await client.get(HOUSEHOLDS, headers=county.headers, params=params)
    assert response.status_code == 200
    assert {item["status"] for item in response.json()["items"]} == {"registered"}
