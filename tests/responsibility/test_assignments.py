"""Assignments: every hard rule refuses with its own code and changes nothing; ending keeps the history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import Assignment, AuditEntry
from app.db.session import Database
from tests.conftest import (
    COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    Account,
    assert_problem,
)
from tests.factories import make_household
from tests.responsibility.factories import make_assignment, make_cadre, make_unit

ASSIGNMENTS = "/api/v1/assignments"


@pytest.fixture
async def county(tree: dict[str, str], account_factory: Any) -> Account:
    account: Account = await account_factory(COUNTY, "county_officer")
    return account


async def _assign(client: httpx.AsyncClient, who: Account, **body: Any) -> httpx.Response:
    json = {
        key: str(value) if value is not None and not isinstance(value, bool) else value
        for key, value in body.items()
    }
    return await client.post(ASSIGNMENTS, headers=who.headers, json=json)


async def _count(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Assignment)) or 0)


async def _refused(
    client: httpx.AsyncClient, db: Database, who: Account, rule: str, **body: Any
) -> dict[str, Any]:
    before = await _count(db)
    problem = assert_problem(await _assign(client, who, **body), 422, f"rule_violation.{rule}")
    assert rule in problem["detail"]
    assert await _count(db) == before
    return problem


async def test_a_county_officer_pairs_a_cadre_with_a_household(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    household = await make_household(db, VILLAGE_A1)
    cadre = await make_cadre(db, COUNTY)
    response = await _assign(client, county, kind="pairing", cadre_id=cadre.id, household_id=household.id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["region_code"] == VILLAGE_A1  # the household's village
    assert body["ends_on"] is None
    assert body["starts_on"] == date.today().isoformat()
    assert body["assigned_by"] == county.principal.subject
    assert response.headers["Location"] == f"{ASSIGNMENTS}/{body['id']}"
    async with db.sessionmaker() as session:
        audited = (
            await session.scalars(select(AuditEntry).where(AuditEntry.record_type == "assignment"))
        ).all()
    assert [(row.action, row.record_id) for row in audited] == [("assign", body["id"])]


async def test_every_kind_at_its_level(client: httpx.AsyncClient, db: Database, county: Account) -> None:
    leader = await make_cadre(db, COUNTY, rank="county_leader", name="马县长")
    cadre = await make_cadre(db, TOWNSHIP_A)
    for kind, region in (
        ("township_cover", TOWNSHIP_A),
        ("village_cover", VILLAGE_A1),
        ("first_secretary", VILLAGE_A1),
        ("work_team", VILLAGE_A1),
    ):
        who = leader if kind == "township_cover" else cadre
        response = await _assign(client, county, kind=kind, region_code=region, cadre_id=who.id)
        assert response.status_code == 201, (kind, response.text)


@pytest.mark.parametrize(
    ("kind", "region"),
    [
        ("township_cover", VILLAGE_A1),
        ("township_cover", COUNTY),
        ("village_cover", TOWNSHIP_A),
        ("first_secretary", TOWNSHIP_A),
        ("work_team", COUNTY),
    ],
)
async def test_a_kind_at_the_wrong_level_is_refused(
    client: httpx.AsyncClient, db: Database, county: Account, kind: str, region: str
) -> None:
    leader = await make_cadre(db, COUNTY, rank="county_leader")
    await _refused(client, db, county, "region_level", kind=kind, region_code=region, cadre_id=leader.id)


async def test_a_pairing_in_another_village_than_the_households_is_refused(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    household = await make_household(db, VILLAGE_A1)
    cadre = await make_cadre(db, COUNTY)
    await _refused(
        client,
        db,
        county,
        "region_level",
        kind="pairing",
        region_code=VILLAGE_A2,
        cadre_id=cadre.id,
        household_id=household.id,
    )


async def test_a_township_is_covered_by_a_county_leader(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    cadre = await make_cadre(db, COUNTY, rank="section")
    await _refused(
        client,
        db,
        county,
        "township_cover_rank",
        kind="township_cover",
        region_code=TOWNSHIP_A,
        cadre_id=cadre.id,
    )


async def test_an_inactive_cadre_is_not_assigned(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    cadre = await make_cadre(db, COUNTY, is_active=False)
    await _refused(
        client, db, county, "cadre_inactive", kind="village_cover", region_code=VILLAGE_A1, cadre_id=cadre.id
    )


async def test_only_enterprises_and_organisations_pair_as_units(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    household = await make_household(db, VILLAGE_A1)
    department = await make_unit(db, COUNTY, kind="department")
    await _refused(
        client,
        db,
        county,
        "unit_pairing_kind",
        kind="pairing",
        unit_id=department.id,
        household_id=household.id,
    )
    for kind, enterprise_class in (("enterprise", 2), ("social_organisation", None)):
        unit = await make_unit(db, COUNTY, kind=kind, name="秦安果业公司", enterprise_class=enterprise_class)
        response = await _assign(client, county, kind="pairing", unit_id=unit.id, household_id=household.id)
        assert response.status_code == 201, response.text


async def test_one_first_secretary_per_village(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    first = await make_cadre(db, COUNTY, name="刘书记")
    second = await make_cadre(db, COUNTY, name="陈书记")
    assert (
        await _assign(client, county, kind="first_secretary", region_code=VILLAGE_A1, cadre_id=first.id)
    ).status_code == 201
    await _refused(
        client,
        db,
        county,
        "one_first_secretary",
        kind="first_secretary",
        region_code=VILLAGE_A1,
        cadre_id=second.id,
    )
    # Another village may have its own.
    assert (
        await _assign(client, county, kind="first_secretary", region_code=VILLAGE_A2, cadre_id=second.id)
    ).status_code == 201


async def test_one_team_leader_per_village(client: httpx.AsyncClient, db: Database, county: Account) -> None:
    first = await make_cadre(db, COUNTY)
    second = await make_cadre(db, COUNTY)
    response = await _assign(
        client, county, kind="work_team", region_code=VILLAGE_A1, cadre_id=first.id, is_team_leader=True
    )
    assert response.status_code == 201, response.text
    await _refused(
        client,
        db,
        county,
        "one_team_leader",
        kind="work_team",
        region_code=VILLAGE_A1,
        cadre_id=second.id,
        is_team_leader=True,
    )
    member = await _assign(client, county, kind="work_team", region_code=VILLAGE_A1, cadre_id=second.id)
    assert member.status_code == 201, member.text


async def test_the_same_active_assignment_twice_is_refused(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    cadre = await make_cadre(db, COUNTY)
    household = await make_household(db, VILLAGE_A1, status="exited")
    assert (
        await _assign(client, county, kind="village_cover", region_code=VILLAGE_A1, cadre_id=cadre.id)
    ).status_code == 201
    await _refused(
        client,
        db,
        county,
        "duplicate_assignment",
        kind="village_cover",
        region_code=VILLAGE_A1,
        cadre_id=cadre.id,
    )
    assert (
        await _assign(client, county, kind="pairing", cadre_id=cadre.id, household_id=household.id)
    ).status_code == 201
    await _refused(
        client,
        db,
        county,
        "duplicate_assignment",
        kind="pairing",
        cadre_id=cadre.id,
        household_id=household.id,
    )


async def test_an_ended_assignment_may_be_made_again(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    cadre = await make_cadre(db, COUNTY)
    await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=cadre.id, ends_on=date(2021, 1, 1))
    response = await _assign(client, county, kind="village_cover", region_code=VILLAGE_A1, cadre_id=cadre.id)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("status", ["applicant", "removed", "rejected"])
async def test_only_registered_or_exited_households_are_paired(
    client: httpx.AsyncClient, db: Database, county: Account, status: str
) -> None:
    household = await make_household(db, VILLAGE_A1, status=status)
    cadre = await make_cadre(db, COUNTY)
    await _refused(
        client,
        db,
        county,
        "pairing_household_status",
        kind="pairing",
        cadre_id=cadre.id,
        household_id=household.id,
    )


async def test_one_to_one_for_households_in_poverty_one_to_two_once_exited(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    cadres = [await make_cadre(db, COUNTY, name=f"干部{n}") for n in range(3)]
    enterprise = await make_unit(db, COUNTY, kind="enterprise", enterprise_class=4, name="秦安苹果合作社")
    poor = await make_household(db, VILLAGE_A1)
    exited = await make_household(db, VILLAGE_A1, status="exited")
    assert (
        await _assign(client, county, kind="pairing", cadre_id=cadres[0].id, household_id=poor.id)
    ).status_code == 201
    problem = await _refused(
        client, db, county, "pairing_limit", kind="pairing", cadre_id=cadres[1].id, household_id=poor.id
    )
    assert problem["errors"][0]["loc"] == ["body", "household_id"]
    # An enterprise pairs on top of the cadre.
    assert (
        await _assign(client, county, kind="pairing", unit_id=enterprise.id, household_id=poor.id)
    ).status_code == 201
    for cadre in cadres[:2]:
        response = await _assign(client, county, kind="pairing", cadre_id=cadre.id, household_id=exited.id)
        assert response.status_code == 201, response.text
    await _refused(
        client, db, county, "pairing_limit", kind="pairing", cadre_id=cadres[2].id, household_id=exited.id
    )


async def test_the_pairing_limit_is_a_region_setting(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    response = await client.put(
        f"/api/v1/regions/{VILLAGE_A1}/settings/max_pairings_not_exited",
        headers=county.headers,
        json={"value": 2},
    )
    assert response.status_code == 200, response.text
    household = await make_household(db, VILLAGE_A1)
    for n in range(2):
        cadre = await make_cadre(db, COUNTY)
        assert (
            await _assign(client, county, kind="pairing", cadre_id=cadre.id, household_id=household.id)
        ).status_code == 201, n
    cadre = await make_cadre(db, COUNTY)
    await _refused(
        client, db, county, "pairing_limit", kind="pairing", cadre_id=cadre.id, household_id=household.id
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "village_cover", "region_code": VILLAGE_A1}, "cadre_id"),
        ({"kind": "pairing"}, "household_id"),
        ({"kind": "village_cover"}, "region_code"),
        ({"kind": "village_cover", "region_code": VILLAGE_A1, "is_team_leader": True}, "is_team_leader"),
        ({"kind": "village_cover", "region_code": VILLAGE_A1, "starts_on": "2999-01-01"}, "starts_on"),
    ],
)
async def test_incomplete_or_contradictory_input_is_refused(
    client: httpx.AsyncClient, db: Database, county: Account, body: dict[str, Any], field: str
) -> None:
    cadre = await make_cadre(db, COUNTY)
    json = {**body} if field == "cadre_id" else {**body, "cadre_id": str(cadre.id)}
    problem = assert_problem(await client.post(ASSIGNMENTS, headers=county.headers, json=json), 422)
    assert any(error["loc"][-1] == field for error in problem["errors"]), problem
    assert await _count(db) == 0


async def test_an_unknown_field_or_kind_is_refused(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    cadre = await make_cadre(db, COUNTY)
    for json in (
        {"kind": "village_cover", "region_code": VILLAGE_A1, "cadre_id": str(cadre.id), "note": "x"},
        {"kind": "city_cover", "region_code": VILLAGE_A1, "cadre_id": str(cadre.id)},
    ):
        assert_problem(await client.post(ASSIGNMENTS, headers=county.headers, json=json), 422, "validation")


async def test_targets_outside_the_scope_are_not_found(
    client: httpx.AsyncClient, db: Database, account_factory: Any, tree: dict[str, str]
) -> None:
    township = await account_factory(TOWNSHIP_A, "county_officer")
    inside = await make_cadre(db, TOWNSHIP_A)
    outside = await make_cadre(db, VILLAGE_B1)
    household_outside = await make_household(db, VILLAGE_B1)
    enterprise_outside = await make_unit(db, COUNTY, kind="enterprise", enterprise_class=1)
    household = await make_household(db, VILLAGE_A1)
    for body, code in (
        ({"kind": "village_cover", "region_code": VILLAGE_B1, "cadre_id": inside.id}, "region.not_found"),
        ({"kind": "village_cover", "region_code": OTHER_VILLAGE, "cadre_id": inside.id}, "region.not_found"),
        ({"kind": "village_cover", "region_code": VILLAGE_A1, "cadre_id": outside.id}, "cadre.not_found"),
        (
            {"kind": "pairing", "household_id": household_outside.id, "cadre_id": inside.id},
            "household.not_found",
        ),
        (
            {"kind": "pairing", "household_id": household.id, "unit_id": enterprise_outside.id},
            "work_unit.not_found",
        ),
    ):
        assert_problem(await _assign(client, township, **body), 404, code)
    assert await _count(db) == 0


@pytest.mark.parametrize(
    "roles",
    [
        ["village_clerk"],
        ["township_reviewer"],
        ["finance_officer"],
        ["inspector"],
        ["data_consumer"],
        ["admin"],
    ],
)
async def test_only_county_officers_make_and_end_assignments(
    client: httpx.AsyncClient, db: Database, account_factory: Any, tree: dict[str, str], roles: list[str]
) -> None:
    caller = await account_factory(COUNTY, *roles)
    cadre = await make_cadre(db, COUNTY)
    assignment = await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=cadre.id)
    assert_problem(
        await _assign(client, caller, kind="village_cover", region_code=VILLAGE_A2, cadre_id=cadre.id),
        403,
        "auth.forbidden",
    )
    assert_problem(
        await client.post(
            f"{ASSIGNMENTS}/{assignment.id}/end", headers=caller.headers, json={"reason": "调离"}
        ),
        403,
    )
    assert await _count(db) == 1


# Ending -------------------------------------------------------------------------------------------------


async def _end(client: httpx.AsyncClient, who: Account, assignment_id: Any, **body: Any) -> httpx.Response:
    json = {"reason": "工作调动", **{k: str(v) for k, v in body.items()}}
    return await client.post(f"{ASSIGNMENTS}/{assignment_id}/end", headers=who.headers, json=json)


async def test_ending_keeps_the_assignment_in_the_history(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    household = await make_household(db, VILLAGE_A1)
    first = await make_cadre(db, COUNTY, name="赵一")
    second = await make_cadre(db, COUNTY, name="钱二")
    week_ago = (date.today() - timedelta(days=7)).isoformat()
    created = (
        await _assign(
            client, county, kind="pairing", cadre_id=first.id, household_id=household.id, starts_on=week_ago
        )
    ).json()
    yesterday = date.today() - timedelta(days=1)
    response = await _end(client, county, created["id"], ends_on=yesterday.isoformat())
    assert response.status_code == 200, response.text
    ended = response.json()["assignment"]
    assert ended["ends_on"] == yesterday.isoformat()
    assert ended["end_reason"] == "工作调动"
    assert ended["ended_by"] == county.principal.subject
    assert response.json()["successor"] is None
    # The household may be paired again, and both show in its history.
    assert (
        await _assign(client, county, kind="pairing", cadre_id=second.id, household_id=household.id)
    ).status_code == 201
    history = (
        await client.get(ASSIGNMENTS, headers=county.headers, params={"household": str(household.id)})
    ).json()["items"]
    assert sorted((item["cadre_name"], item["ends_on"]) for item in history) == [
        ("赵一", yesterday.isoformat()),
        ("钱二", None),
    ]
    active = (
        await client.get(
            ASSIGNMENTS, headers=county.headers, params={"household": str(household.id), "active": "true"}
        )
    ).json()["items"]
    assert [item["cadre_name"] for item in active] == ["钱二"]
    ended_only = (
        await client.get(
            ASSIGNMENTS, headers=county.headers, params={"household": str(household.id), "active": "false"}
        )
    ).json()["items"]
    assert [item["cadre_name"] for item in ended_only] == ["赵一"]
    async with db.sessionmaker() as session:
        actions = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.record_type == "assignment"))
        ).all()
    assert sorted(actions) == ["assign", "assign", "end_assignment"]


async def test_ending_twice_is_refused(client: httpx.AsyncClient, db: Database, county: Account) -> None:
    cadre = await make_cadre(db, COUNTY)
    assignment = await make_assignment(
        db, "village_cover", VILLAGE_A1, cadre_id=cadre.id, ends_on=date(2021, 5, 1)
    )
    problem = assert_problem(await _end(client, county, assignment.id), 422, "rule_violation.already_ended")
    assert "already_ended" in problem["detail"]


@pytest.mark.parametrize("ends_on", [date(2019, 12, 31), date.today() + timedelta(days=1)])
async def test_an_end_before_the_start_or_in_the_future_is_refused(
    client: httpx.AsyncClient, db: Database, county: Account, ends_on: date
) -> None:
    cadre = await make_cadre(db, COUNTY)
    assignment = await make_assignment(
        db, "village_cover", VILLAGE_A1, cadre_id=cadre.id, starts_on=date(2020, 1, 1)
    )
    problem = assert_problem(await _end(client, county, assignment.id, ends_on=ends_on.isoformat()), 422)
    assert problem["errors"][0]["loc"] == ["body", "ends_on"]
    async with db.sessionmaker() as session:
        assert (await session.get(Assignment, assignment.id)).ends_on is None  # type: ignore[union-attr]


async def test_a_poor_villages_first_secretary_leaves_only_with_a_successor(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1)  # registered: the village is poor
    old = await make_cadre(db, COUNTY, name="老书记")
    new = await make_cadre(db, COUNTY, name="新书记")
    assignment = await make_assignment(db, "first_secretary", VILLAGE_A1, cadre_id=old.id)
    problem = assert_problem(
        await _end(client, county, assignment.id), 422, "rule_violation.no_withdrawal_before_exit"
    )
    assert problem["errors"][0]["loc"] == ["body", "successor_cadre_id"]
    response = await _end(client, county, assignment.id, successor_cadre_id=new.id)
    assert response.status_code == 200, response.text
    successor = response.json()["successor"]
    assert successor["kind"] == "first_secretary"
    assert successor["cadre_id"] == str(new.id)
    assert successor["starts_on"] == date.today().isoformat()
    assert response.json()["assignment"]["ends_on"] == date.today().isoformat()


async def test_a_successor_that_breaks_a_rule_leaves_the_assignment_active(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1)
    old = await make_cadre(db, COUNTY)
    inactive = await make_cadre(db, COUNTY, is_active=False)
    assignment = await make_assignment(db, "first_secretary", VILLAGE_A1, cadre_id=old.id)
    assert_problem(
        await _end(client, county, assignment.id, successor_cadre_id=inactive.id),
        422,
        "rule_violation.cadre_inactive",
    )
    async with db.sessionmaker() as session:
        assert (await session.get(Assignment, assignment.id)).ends_on is None  # type: ignore[union-attr]
    assert await _count(db) == 1


async def test_the_last_work_team_member_of_a_poor_village_stays(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1)
    leader = await make_cadre(db, COUNTY, name="队长")
    member = await make_cadre(db, COUNTY, name="队员")
    lead = await make_assignment(db, "work_team", VILLAGE_A1, cadre_id=leader.id, is_team_leader=True)
    other = await make_assignment(db, "work_team", VILLAGE_A1, cadre_id=member.id)
    # While someone else remains, a member may leave.
    assert (await _end(client, county, lead.id)).status_code == 200
    assert_problem(await _end(client, county, other.id), 422, "rule_violation.no_withdrawal_before_exit")


async def test_a_team_leaders_successor_leads(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1)
    leader = await make_cadre(db, COUNTY)
    successor = await make_cadre(db, COUNTY)
    lead = await make_assignment(db, "work_team", VILLAGE_A1, cadre_id=leader.id, is_team_leader=True)
    response = await _end(client, county, lead.id, successor_cadre_id=successor.id)
    assert response.status_code == 200, response.text
    assert response.json()["successor"]["is_team_leader"] is True


async def test_a_village_out_of_poverty_may_withdraw_its_team(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1, status="exited")  # no registered household: out of poverty
    cadre = await make_cadre(db, COUNTY)
    secretary = await make_assignment(db, "first_secretary", VILLAGE_A1, cadre_id=cadre.id)
    member = await make_assignment(db, "work_team", VILLAGE_A1, cadre_id=cadre.id)
    assert (await _end(client, county, secretary.id)).status_code == 200
    assert (await _end(client, county, member.id)).status_code == 200


async def test_the_withdrawal_rule_follows_the_settings(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    cadre = await make_cadre(db, COUNTY)
    # No registered household, but the county marks its villages poor: the rule applies.
    await client.put(
        f"/api/v1/regions/{COUNTY}/settings/poor_village", headers=county.headers, json={"value": "poor"}
    )
    secretary = await make_assignment(db, "first_secretary", VILLAGE_A2, cadre_id=cadre.id)
    assert_problem(await _end(client, county, secretary.id), 422, "rule_violation.no_withdrawal_before_exit")
    # The township turns the rule off.
    response = await client.put(
        f"/api/v1/regions/{TOWNSHIP_A}/settings/keep_team_until_village_exits",
        headers=county.headers,
        json={"value": False},
    )
    assert response.status_code == 200, response.text
    assert (await _end(client, county, secretary.id)).status_code == 200


async def test_ending_other_kinds_needs_no_successor(
    client: httpx.AsyncClient, db: Database, county: Account
) -> None:
    await make_household(db, VILLAGE_A1)
    leader = await make_cadre(db, COUNTY, rank="county_leader")
    cadre = await make_cadre(db, COUNTY)
    for assignment in (
        await make_assignment(db, "township_cover", TOWNSHIP_A, cadre_id=leader.id),
        await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=cadre.id),
    ):
        assert (await _end(client, county, assignment.id)).status_code == 200


async def test_an_assignment_reads_in_scope_only(
    client: httpx.AsyncClient, db: Database, account_factory: Any, tree: dict[str, str]
) -> None:
    cadre = await make_cadre(db, COUNTY)
    a1 = await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=cadre.id)
    b1 = await make_assignment(db, "village_cover", VILLAGE_B1, cadre_id=cadre.id)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert (await client.get(f"{ASSIGNMENTS}/{a1.id}", headers=clerk.headers)).status_code == 200
    assert_problem(
        await client.get(f"{ASSIGNMENTS}/{b1.id}", headers=clerk.headers), 404, "assignment.not_found"
    )
    listed = (await client.get(ASSIGNMENTS, headers=clerk.headers)).json()["items"]
    assert [item["id"] for item in listed] == [str(a1.id)]
    county = await account_factory(COUNTY, "county_officer")
    by_cadre = (
        await client.get(
            ASSIGNMENTS, headers=county.headers, params={"cadre": str(cadre.id), "region": TOWNSHIP_A}
        )
    ).json()
    assert [item["id"] for item in by_cadre["items"]] == [str(a1.id)]
    by_kind = (await client.get(ASSIGNMENTS, headers=county.headers, params={"kind": "pairing"})).json()
    assert by_kind["items"] == []
