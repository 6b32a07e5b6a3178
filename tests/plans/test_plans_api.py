"""Plans (帮扶计划): one per household and year, for registered or exited households, reached through the
household's scope, changed with If-Match, every write audited."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.db.models import AuditEntry
from app.db.session import Database
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, assert_problem
from tests.factories import make_household
from tests.plans.support import PLANS, make_plan

pytestmark = pytest.mark.usefixtures("tree")

GOAL = {"year": 2020, "goal_income": "4500.00", "planned_exit_year": 2020, "notes": "种植花椒, 外出务工"}
WRITERS = [("village_clerk", VILLAGE_A1), ("township_reviewer", TOWNSHIP_A), ("county_officer", COUNTY)]
READERS = [("finance_officer", COUNTY), ("inspector", COUNTY), ("data_consumer", COUNTY)]


def plans_url(household_id: object) -> str:
    return f"/api/v1/households/{household_id}/plans"


@pytest.mark.parametrize(("role", "region"), WRITERS)
async def test_clerks_reviewers_and_county_officers_make_plans(
    client: httpx.AsyncClient, db: Database, account_factory, role: str, region: str
) -> None:
    household = await make_household(db, VILLAGE_A1)
    account = await account_factory(region, role)
    response = await client.post(plans_url(household.id), headers=account.headers, json=GOAL)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["region_code"] == VILLAGE_A1
    assert plan["goal_income"] == "4500.00"
    assert plan["version"] == 1
    assert response.headers["Location"] == f"{PLANS}/{plan['id']}"
    assert response.headers["ETag"] == f'"{plan["id"]}.1"'
    listed = await client.get(plans_url(household.id), headers=account.headers)
    assert [p["year"] for p in listed.json()] == [2020]


@pytest.mark.parametrize(("role", "region"), READERS)
async def test_read_only_roles_read_plans_but_cannot_make_or_change_them(
    client: httpx.AsyncClient, db: Database, account_factory, role: str, region: str
) -> None:
    household = await make_household(db, VILLAGE_A1)
    plan = await make_plan(db, household)
    account = await account_factory(region, role)
    assert (await client.get(plans_url(household.id), headers=account.headers)).status_code == 200
    assert (await client.get(f"{PLANS}/{plan.id}", headers=account.headers)).status_code == 200
    response = await client.post(
        plans_url(household.id), headers=account.headers, json={**GOAL, "year": 2019}
    )
    assert_problem(response, 403, "auth.forbidden")
    response = await client.patch(
        f"{PLANS}/{plan.id}", headers={**account.headers, "If-Match": "*"}, json={"notes": "x"}
    )
    assert_problem(response, 403, "auth.forbidden")


async def test_an_admin_without_household_rights_reads_no_plans(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    plan = await make_plan(db, household)
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(f"{PLANS}/{plan.id}", headers=admin.headers), 403)
    assert_problem(await client.get(plans_url(household.id), headers=admin.headers), 403)


async def test_plans_outside_the_scope_are_not_found(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A2)
    plan = await make_plan(db, household)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(await client.get(f"{PLANS}/{plan.id}", headers=clerk.headers), 404, "plan.not_found")
    assert_problem(await client.get(plans_url(household.id), headers=clerk.headers), 404)
    response = await client.post(plans_url(household.id), headers=clerk.headers, json={**GOAL, "year": 2019})
    assert_problem(response, 404, "household.not_found")
    response = await client.patch(
        f"{PLANS}/{plan.id}", headers={**clerk.headers, "If-Match": "*"}, json={"notes": "x"}
    )
    assert_problem(response, 404, "plan.not_found")


async def test_one_plan_per_household_and_year(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert (await client.post(plans_url(household.id), headers=clerk.headers, json=GOAL)).status_code == 201
    response = await client.post(plans_url(household.id), headers=clerk.headers, json=GOAL)
    body = assert_problem(response, 409, "plan.exists")
    assert body["errors"][0]["loc"] == ["body", "year"]
    second = await client.post(
        plans_url(household.id), headers=clerk.headers, json={**GOAL, "year": 2021, "planned_exit_year": 2021}
    )
    assert second.status_code == 201
    listed = await client.get(plans_url(household.id), headers=clerk.headers)
    assert [p["year"] for p in listed.json()] == [2020, 2021]


@pytest.mark.parametrize("status", ["applicant", "removed", "rejected"])
async def test_only_registered_or_exited_households_get_plans(
    client: httpx.AsyncClient, db: Database, account_factory, status: str
) -> None:
    household = await make_household(db, VILLAGE_A1, status=status)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(plans_url(household.id), headers=clerk.headers, json=GOAL)
    assert_problem(response, 422, "plan.household_status")


async def test_an_exited_household_gets_a_consolidation_plan(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1, status="exited", exited_year=2019)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = {"year": 2020, "goal_income": "6000"}
    response = await client.post(plans_url(household.id), headers=clerk.headers, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["planned_exit_year"] is None


async def test_the_planned_exit_year_is_not_before_the_plan(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        plans_url(household.id), headers=clerk.headers, json={**GOAL, "planned_exit_year": 2019}
    )
    assert_problem(response, 422, "plan.exit_year")
    plan = await make_plan(db, household, year=2018)
    response = await client.patch(
        f"{PLANS}/{plan.id}", headers={**clerk.headers, "If-Match": "*"}, json={"planned_exit_year": 2017}
    )
    assert_problem(response, 422, "plan.exit_year")


@pytest.mark.parametrize(
    "body",
    [
        {"year": 2012},
        {"year": 2020, "goal_income": "-1"},
        {"year": 2020, "unknown": 1},
        {"goal_income": "4000"},
    ],
)
async def test_bad_plan_input_is_refused(
    client: httpx.AsyncClient, db: Database, account_factory, body: dict[str, object]
) -> None:
    household = await make_household(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(await client.post(plans_url(household.id), headers=clerk.headers, json=body), 422)


async def test_changing_a_plan_needs_the_etag_of_the_version_read(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    plan = await make_plan(db, household, goal_income=4000)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    read = await client.get(f"{PLANS}/{plan.id}", headers=clerk.headers)
    etag = read.headers["ETag"]
    assert read.json()["measures"] == []
    response = await client.patch(f"{PLANS}/{plan.id}", headers=clerk.headers, json={"notes": "a"})
    assert_problem(response, 428, "plan.if_match_required")
    response = await client.patch(
        f"{PLANS}/{plan.id}", headers={**clerk.headers, "If-Match": etag}, json={"goal_income": "4800"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["goal_income"] == "4800.00"
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == f'"{plan.id}.2"'
    response = await client.patch(
        f"{PLANS}/{plan.id}", headers={**clerk.headers, "If-Match": etag}, json={"notes": "stale"}
    )
    assert_problem(response, 412, "plan.version_mismatch")
    response = await client.patch(
        f"{PLANS}/{plan.id}", headers={**clerk.headers, "If-Match": "*"}, json={"notes": None}
    )
    assert_problem(response, 422, "validation")


async def test_plans_of_a_household_that_was_removed_no_longer_change(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1, status="removed")
    plan = await make_plan(db, household)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.patch(
        f"{PLANS}/{plan.id}", headers={**clerk.headers, "If-Match": "*"}, json={"notes": "x"}
    )
    assert_problem(response, 422, "plan.household_status")
    assert (await client.get(f"{PLANS}/{plan.id}", headers=clerk.headers)).status_code == 200


async def test_plan_writes_are_audited(client: httpx.AsyncClient, db: Database, account_factory) -> None:
    household = await make_household(db, VILLAGE_B1)
    officer = await account_factory(COUNTY, "county_officer")
    created = await client.post(plans_url(household.id), headers=officer.headers, json=GOAL)
    plan_id = created.json()["id"]
    await client.patch(
        f"{PLANS}/{plan_id}", headers={**officer.headers, "If-Match": "*"}, json={"notes": "改为养殖"}
    )
    async with db.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.record_id == plan_id).order_by(AuditEntry.id)
            )
        ).all()
    assert [(row.action, row.record_type, row.region_code) for row in rows] == [
        ("create", "assistance_plan", VILLAGE_B1),
        ("update", "assistance_plan", VILLAGE_B1),
    ]
    assert rows[1].fields == ["notes"]
    assert rows[0].actor_subject == officer.principal.subject
