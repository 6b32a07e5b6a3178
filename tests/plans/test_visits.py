"""Visits and work logs: recorded by clerks and up for active cadres in scope or over the household, never
dated in the future; listed with filters in scope; counted per month per village or per cadre."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import AuditEntry, Visit
from app.db.session import Database
from app.domain import clock
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, assert_problem
from tests.factories import make_household
from tests.plans.support import VISITS, make_cadre, make_visit

pytestmark = pytest.mark.usefixtures("tree")


def visit_body(household: Any, cadre: Any, **fields: Any) -> dict[str, Any]:
    return {
        "household_id": str(household.id),
        "cadre_id": str(cadre.id),
        "visited_on": "2020-05-06",
        "kind": "visit",
        "content": "宣讲扶贫政策, 核实务工收入",
        **fields,
    }


@pytest.mark.parametrize(
    ("role", "region"),
    [("village_clerk", VILLAGE_A1), ("township_reviewer", TOWNSHIP_A), ("county_officer", COUNTY)],
)
async def test_clerks_and_up_record_visits(
    client: httpx.AsyncClient, db: Database, account_factory, role: str, region: str
) -> None:
    household = await make_household(db, VILLAGE_A1)
    cadre = await make_cadre(db, VILLAGE_A1)
    account = await account_factory(region, role)
    response = await client.post(VISITS, headers=account.headers, json=visit_body(household, cadre))
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["region_code"] == VILLAGE_A1
    assert visit["created_by_name"] == account.user.username
    async with db.sessionmaker() as session:
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.record_id == visit["id"]))
    assert audit is not None
    assert (audit.action, audit.record_type) == ("create", "visit")


@pytest.mark.parametrize("role", ["finance_officer", "inspector", "data_consumer", "admin"])
async def test_other_roles_record_no_visits(
    client: httpx.AsyncClient, db: Database, account_factory, role: str
) -> None:
    household = await make_household(db, VILLAGE_A1)
    cadre = await make_cadre(db, VILLAGE_A1)
    account = await account_factory(COUNTY, role)
    response = await client.post(VISITS, headers=account.headers, json=visit_body(household, cadre))
    assert_problem(response, 403)


async def test_a_work_log_entry_is_a_visit_of_another_kind(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    cadre = await make_cadre(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        VISITS, headers=clerk.headers, json=visit_body(household, cadre, kind="work_log", content="整理台账")
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "work_log"


async def test_no_visit_is_dated_in_the_future(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    cadre = await make_cadre(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    response = await client.post(
        VISITS, headers=clerk.headers, json=visit_body(household, cadre, visited_on=tomorrow)
    )
    assert_problem(response, 422, "visit.future_date")
    today = clock.today().isoformat()
    response = await client.post(
        VISITS, headers=clerk.headers, json=visit_body(household, cadre, visited_on=today)
    )
    assert response.status_code == 201


async def test_the_cadre_must_be_active(client: httpx.AsyncClient, db: Database, account_factory) -> None:
    household = await make_household(db, VILLAGE_A1)
    retired = await make_cadre(db, VILLAGE_A1, is_active=False)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(VISITS, headers=clerk.headers, json=visit_body(household, retired))
    assert_problem(response, 422, "cadre.inactive")


async def test_the_cadre_must_be_in_scope_or_over_the_household(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    for region in (VILLAGE_A2, VILLAGE_B1):
        elsewhere = await make_cadre(db, region)
        response = await client.post(VISITS, headers=clerk.headers, json=visit_body(household, elsewhere))
        assert_problem(response, 404, "cadre.not_found")
    county_leader = await make_cadre(db, COUNTY, rank="county_leader")
    response = await client.post(VISITS, headers=clerk.headers, json=visit_body(household, county_leader))
    assert response.status_code == 201, response.text


async def test_a_household_outside_the_scope_is_not_found(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A2)
    cadre = await make_cadre(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(VISITS, headers=clerk.headers, json=visit_body(household, cadre))
    assert_problem(response, 404, "household.not_found")
    async with db.sessionmaker() as session:
        assert await session.scalar(select(Visit.id)) is None


@pytest.fixture
async def visits(db: Database) -> dict[str, Any]:
    """Two villages of township A and one of B, two cadres, visits in three months of 2020."""
    a1 = await make_household(db, VILLAGE_A1)
    a1b = await make_household(db, VILLAGE_A1)
    a2 = await make_household(db, VILLAGE_A2)
    b1 = await make_household(db, VILLAGE_B1)
    zhang = await make_cadre(db, TOWNSHIP_A, name="张干部")
    li = await make_cadre(db, COUNTY, name="李干部")
    await make_visit(db, a1, zhang, date(2020, 1, 5))
    await make_visit(db, a1, zhang, date(2020, 1, 20), kind="work_log")
    await make_visit(db, a1b, zhang, date(2020, 1, 21))
    await make_visit(db, a1, li, date(2020, 3, 2))
    await make_visit(db, a2, zhang, date(2020, 3, 9))
    await make_visit(db, b1, li, date(2020, 2, 14))
    await make_visit(db, b1, li, date(2019, 12, 31))
    return {"a1": a1, "a2": a2, "b1": b1, "zhang": zhang, "li": li}


async def _all(client: httpx.AsyncClient, account: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = await client.get(
            VISITS,
            headers=account.headers,
            params={"limit": 2, **params, **({"cursor": cursor} if cursor else {})},
        )
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def test_the_visit_list_holds_the_callers_subtree_with_filters(
    client: httpx.AsyncClient, account_factory, visits: dict[str, Any]
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    items = await _all(client, reviewer)
    assert len(items) == 5
    assert [(i["region_code"], i["visited_on"]) for i in items] == sorted(
        (i["region_code"], i["visited_on"]) for i in items
    )
    assert len(await _all(client, reviewer, region=VILLAGE_A2)) == 1
    assert len(await _all(client, reviewer, household_id=str(visits["a1"].id))) == 3
    assert len(await _all(client, reviewer, cadre_id=str(visits["li"].id))) == 1
    assert len(await _all(client, reviewer, kind="work_log")) == 1
    assert len(await _all(client, reviewer, **{"from": "2020-01-21", "to": "2020-03-02"})) == 2
    officer = await account_factory(COUNTY, "inspector")
    assert len(await _all(client, officer)) == 7
    assert (await client.get(VISITS, headers=reviewer.headers, params={"region": VILLAGE_B1})).json()[
        "items"
    ] == []
    problem = assert_problem(
        await client.get(VISITS, headers=reviewer.headers, params={"from": "2020-03-01", "to": "2020-01-01"}),
        422,
    )
    assert problem["code"] == "visits.period"


async def test_visit_counts_per_village_and_month(
    client: httpx.AsyncClient, account_factory, visits: dict[str, Any]
) -> None:
    officer = await account_factory(COUNTY, "county_officer")
    response = await client.get(
        f"/api/v1/regions/{COUNTY}/visit-counts",
        headers=officer.headers,
        params={"from": "2020-01", "to": "2020-12"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    by_village = {item["region_code"]: item for item in body["items"]}
    assert list(by_village) == [VILLAGE_A1, VILLAGE_A2, VILLAGE_B1]
    assert by_village[VILLAGE_A1]["village_name"] == "王家庄村"
    assert by_village[VILLAGE_A1]["months"] == [
        {"month": "2020-01", "visits": 2, "work_logs": 1, "households": 2},
        {"month": "2020-03", "visits": 1, "work_logs": 0, "households": 1},
    ]
    assert (by_village[VILLAGE_A1]["visits"], by_village[VILLAGE_A1]["work_logs"]) == (3, 1)
    assert by_village[VILLAGE_B1]["months"] == [
        {"month": "2020-02", "visits": 1, "work_logs": 0, "households": 1}
    ]


async def test_visit_counts_per_cadre_in_a_township(
    client: httpx.AsyncClient, account_factory, visits: dict[str, Any]
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    response = await client.get(
        f"/api/v1/regions/{TOWNSHIP_A}/visit-counts",
        headers=reviewer.headers,
        params={"from": "2020-01", "to": "2020-03", "by": "cadre", "limit": 1},
    )
    first = response.json()
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    second = (
        await client.get(
            f"/api/v1/regions/{TOWNSHIP_A}/visit-counts",
            headers=reviewer.headers,
            params={
                "from": "2020-01",
                "to": "2020-03",
                "by": "cadre",
                "limit": 1,
                "cursor": first["next_cursor"],
            },
        )
    ).json()
    assert second["next_cursor"] is None
    by_cadre = {item["cadre_name"]: item for item in first["items"] + second["items"]}
    assert by_cadre["张干部"]["visits"] == 3
    assert by_cadre["张干部"]["work_logs"] == 1
    assert by_cadre["李干部"]["months"] == [
        {"month": "2020-03", "visits": 1, "work_logs": 0, "households": 1}
    ]


async def test_visit_counts_check_the_region_and_the_months(
    client: httpx.AsyncClient, account_factory, visits: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    url = f"/api/v1/regions/{VILLAGE_A2}/visit-counts"
    assert_problem(await client.get(url, headers=clerk.headers), 404)
    url = f"/api/v1/regions/{VILLAGE_A1}/visit-counts"
    for params in (
        {"from": "2020-05", "to": "2020-04"},
        {"from": "2018-01", "to": "2021-01"},
        {"from": "2020-13"},
    ):
        assert_problem(await client.get(url, headers=clerk.headers, params=params), 422)
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(f"/api/v1/regions/{COUNTY}/visit-counts", headers=admin.headers), 403)
    default = await client.get(url, headers=clerk.headers)
    assert default.status_code == 200
