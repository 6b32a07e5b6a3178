"""Coverage on the tree fixture: counts per child region at every level, the lists, the settings."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.db.session import Database
from tests.conftest import (
    COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
    assert_problem,
)
from tests.factories import make_household
from tests.responsibility.factories import make_assignment, make_cadre, make_unit


def _url(code: str) -> str:
    return f"/api/v1/regions/{code}/coverage"


@pytest.fixture
async def world(db: Database, tree: dict[str, str]) -> dict[str, Any]:
    """王家庄村 (A1): three registered households (one paired with a cadre, one with an enterprise only, one
    not at all), an exited one paired, a removed one; first secretary and team. 李家湾村 (A2): one registered
    household unpaired, a team but no first secretary. 张家沟村 (B1): one exited household, unpaired (not a
    poor village). 刘家河村 (B2): nothing. 赵家坪村 (another county): a registered household."""
    h1 = await make_household(db, VILLAGE_A1, head_name="甲")
    h2 = await make_household(db, VILLAGE_A1, head_name="乙")
    h3 = await make_household(db, VILLAGE_A1, head_name="丙")
    exited_a1 = await make_household(db, VILLAGE_A1, status="exited", head_name="丁")
    removed = await make_household(db, VILLAGE_A1, status="removed", head_name="戊")
    a2 = await make_household(db, VILLAGE_A2, head_name="己")
    b1 = await make_household(db, VILLAGE_B1, status="exited", head_name="庚")
    await make_household(db, OTHER_VILLAGE)

    village_cadre = await make_cadre(db, VILLAGE_A1, rank="village", name="村干部")  # 3 pairings, quota 2
    general_b = await make_cadre(db, TOWNSHIP_B, rank="general", name="郭嘉干部")  # 0 pairings, quota 6
    leader = await make_cadre(db, COUNTY, rank="county_leader", name="县领导")  # 0 pairings, quota 10
    await make_cadre(db, TOWNSHIP_A, rank="general", is_active=False)  # not counted
    secretary = await make_cadre(db, COUNTY, rank="section", name="第一书记")
    enterprise = await make_unit(db, TOWNSHIP_A, kind="enterprise", enterprise_class=4, name="兴国合作社")
    await make_unit(db, TOWNSHIP_A, kind="enterprise", name="未分级企业")  # no class: no quota
    for household in (h1, exited_a1, removed):
        await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=village_cadre.id, household_id=household.id)
    await make_assignment(db, "pairing", VILLAGE_A1, unit_id=enterprise.id, household_id=h2.id)
    # An ended pairing covers no one.
    await make_assignment(
        db, "pairing", VILLAGE_A1, cadre_id=secretary.id, household_id=h3.id, ends_on=date(2021, 1, 1)
    )
    await make_assignment(db, "first_secretary", VILLAGE_A1, cadre_id=secretary.id)
    await make_assignment(db, "work_team", VILLAGE_A1, cadre_id=secretary.id, is_team_leader=True)
    await make_assignment(db, "work_team", VILLAGE_A2, cadre_id=secretary.id)
    # An ended first secretary of A2 does not count.
    await make_assignment(db, "first_secretary", VILLAGE_A2, cadre_id=leader.id, ends_on=date(2021, 1, 1))
    return {
        "uncovered": [h2.id, h3.id, a2.id, b1.id],
        "village_cadre": village_cadre,
        "general_b": general_b,
        "leader": leader,
        "enterprise": enterprise,
    }


ZERO = dict.fromkeys(
    (
        "households",
        "households_registered",
        "households_exited",
        "households_uncovered",
        "villages",
        "poor_villages",
        "villages_without_first_secretary",
        "villages_without_team",
        "cadres",
        "cadres_below_quota",
        "cadres_above_quota",
        "units",
        "units_below_quota",
        "units_above_quota",
    ),
    0,
)


def _row(**counts: int) -> dict[str, int]:
    return {**ZERO, **counts}


def _counts(row: dict[str, Any]) -> dict[str, int]:
    return {key: row[key] for key in ZERO}


async def test_county_coverage_counts_per_township(
    client: httpx.AsyncClient, world: dict[str, Any], account_factory: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    response = await client.get(_url(COUNTY), headers=county.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["region"] == {"code": COUNTY, "name": "秦安县", "level": "county"}
    rows = {row["region_code"]: row for row in report["children"]}
    assert list(rows) == [TOWNSHIP_A, TOWNSHIP_B, COUNTY]  # the county's own cadres last
    assert rows[TOWNSHIP_A]["name"] == "兴国镇"
    assert _counts(rows[TOWNSHIP_A]) == _row(
        households=5,
        households_registered=4,
        households_exited=1,
        households_uncovered=3,
        villages=2,
        poor_villages=2,
        villages_without_first_secretary=1,
        cadres=1,
        cadres_above_quota=1,
        units=1,
        units_below_quota=1,
    )
    assert _counts(rows[TOWNSHIP_B]) == _row(
        households=1, households_exited=1, households_uncovered=1, villages=2, cadres=1, cadres_below_quota=1
    )
    assert _counts(rows[COUNTY]) == _row(cadres=2, cadres_below_quota=2)  # the leader and the secretary
    assert report["totals"] == _row(
        households=6,
        households_registered=4,
        households_exited=2,
        households_uncovered=4,
        villages=4,
        poor_villages=2,
        villages_without_first_secretary=1,
        cadres=4,
        cadres_below_quota=3,
        cadres_above_quota=1,
        units=1,
        units_below_quota=1,
    )
    assert report["rules"]["pairing_quota_by_rank"]["village"] == 2
    assert report["rules"]["varies_inside"] == []


async def test_township_and_village_coverage(
    client: httpx.AsyncClient, world: dict[str, Any], account_factory: Any
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    report = (await client.get(_url(TOWNSHIP_A), headers=reviewer.headers)).json()
    rows = {row["region_code"]: _counts(row) for row in report["children"]}
    assert rows == {
        VILLAGE_A1: _row(
            households=4,
            households_registered=3,
            households_exited=1,
            households_uncovered=2,
            villages=1,
            poor_villages=1,
            cadres=1,
            cadres_above_quota=1,
        ),
        VILLAGE_A2: _row(
            households=1,
            households_registered=1,
            households_uncovered=1,
            villages=1,
            poor_villages=1,
            villages_without_first_secretary=1,
        ),
        TOWNSHIP_A: _row(units=1, units_below_quota=1),
    }
    clerk = await account_factory(VILLAGE_A2, "village_clerk")
    report = (await client.get(_url(VILLAGE_A2), headers=clerk.headers)).json()
    assert [row["region_code"] for row in report["children"]] == [VILLAGE_A2]
    assert report["totals"]["villages_without_first_secretary"] == 1
    empty = await client.get(_url(VILLAGE_B2), headers=reviewer.headers)
    assert_problem(empty, 404)  # another township's village


async def test_province_coverage_counts_per_prefecture(
    client: httpx.AsyncClient, world: dict[str, Any], account_factory: Any
) -> None:
    province = await account_factory("620000000000", "data_consumer")
    report = (await client.get(_url("620000000000"), headers=province.headers)).json()
    assert [row["region_code"] for row in report["children"]] == ["620500000000"]
    # The other county's registered household now counts, uncovered, in a poor village lacking everything.
    assert report["totals"]["households"] == 7
    assert report["totals"]["households_uncovered"] == 5
    assert report["totals"]["villages_without_first_secretary"] == 2
    assert report["totals"]["villages_without_team"] == 1


async def _list(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, which: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"list": which, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(_url(code), headers=headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["list_name"] == which
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_coverage_lists(client: httpx.AsyncClient, world: dict[str, Any], account_factory: Any) -> None:
    county = await account_factory(COUNTY, "county_officer")
    uncovered = await _list(client, county.headers, COUNTY, "uncovered_households")
    assert sorted(item["id"] for item in uncovered) == sorted(str(h) for h in world["uncovered"])
    assert [item["region_code"] for item in uncovered] == sorted(item["region_code"] for item in uncovered)
    assert {item["head_name"] for item in uncovered} == {"乙", "丙", "己", "庚"}
    villages = await _list(client, county.headers, COUNTY, "villages_without_first_secretary")
    assert [(item["region_code"], item["name"]) for item in villages] == [(VILLAGE_A2, "李家湾村")]
    assert await _list(client, county.headers, COUNTY, "villages_without_team") == []
    below = await _list(client, county.headers, COUNTY, "cadres_below_quota")
    assert [(item["name"], item["pairings"]) for item in below if item["name"] != "第一书记"] == [
        ("县领导", 0),
        ("郭嘉干部", 0),
    ]
    assert {item["quota"] for item in below if item["name"] == "县领导"} == {10}
    above = await _list(client, county.headers, COUNTY, "cadres_above_quota")
    assert [(item["name"], item["rank"], item["pairings"], item["quota"]) for item in above] == [
        ("村干部", "village", 3, 2)
    ]
    units = await _list(client, county.headers, COUNTY, "units_below_quota")
    assert [(item["name"], item["pairings"], item["quota"]) for item in units] == [("兴国合作社", 1, 5)]
    assert await _list(client, county.headers, COUNTY, "units_above_quota") == []
    # Narrower regions give narrower lists.
    assert [
        item["head_name"] for item in await _list(client, county.headers, TOWNSHIP_B, "uncovered_households")
    ] == ["庚"]
    assert_problem(await client.get(_url(COUNTY), headers=county.headers, params={"list": "everything"}), 422)


async def test_settings_change_what_counts(
    client: httpx.AsyncClient, world: dict[str, Any], account_factory: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")

    async def put(code: str, key: str, value: Any) -> None:
        response = await client.put(
            f"/api/v1/regions/{code}/settings/{key}", headers=county.headers, json={"value": value}
        )
        assert response.status_code == 200, response.text

    await put(VILLAGE_A2, "first_secretary_required", False)
    await put(VILLAGE_B1, "poor_village", "poor")
    await put(
        TOWNSHIP_A, "pairing_quota_by_rank", {"county_leader": 10, "section": 8, "general": 6, "village": 3}
    )
    report = (await client.get(_url(COUNTY), headers=county.headers)).json()
    totals = report["totals"]
    assert totals["poor_villages"] == 3
    assert totals["villages_without_first_secretary"] == 1  # B1 (A2 no longer needs one)
    assert totals["villages_without_team"] == 1  # B1
    assert totals["cadres_above_quota"] == 0  # 3 pairings, quota 3 in 兴国镇
    assert sorted(report["rules"]["varies_inside"]) == [
        "first_secretary_required",
        "pairing_quota_by_rank",
        "poor_village",
    ]
    villages = await _list(client, county.headers, COUNTY, "villages_without_first_secretary")
    assert [item["region_code"] for item in villages] == [VILLAGE_B1]
    assert await _list(client, county.headers, COUNTY, "cadres_above_quota") == []
    # Set at the county: the whole report applies it, and it shows as the rule.
    await put(COUNTY, "work_team_required", False)
    report = (await client.get(_url(COUNTY), headers=county.headers)).json()
    assert report["totals"]["villages_without_team"] == 0
    assert report["rules"]["work_team_required"] is False


async def test_coverage_is_scoped_and_needs_the_read_permission(
    client: httpx.AsyncClient, world: dict[str, Any], account_factory: Any
) -> None:
    township_b = await account_factory(TOWNSHIP_B, "township_reviewer")
    assert_problem(await client.get(_url(COUNTY), headers=township_b.headers), 404)
    assert_problem(await client.get(_url(TOWNSHIP_A), headers=township_b.headers), 404)
    assert_problem(await client.get(_url("620522999000"), headers=township_b.headers), 404)
    report = (await client.get(_url(TOWNSHIP_B), headers=township_b.headers)).json()
    assert report["totals"]["households"] == 1
    for roles in (["finance_officer"], ["inspector"], ["data_consumer"], ["village_clerk"]):
        caller = await account_factory(COUNTY, *roles)
        assert (await client.get(_url(COUNTY), headers=caller.headers)).status_code == 200, roles
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(_url(COUNTY), headers=admin.headers), 403)
