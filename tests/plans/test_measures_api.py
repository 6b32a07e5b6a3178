"""Measures (帮扶措施): categories, the responsible cadre, status transitions and date rules through the API;
a refused change names its rule and changes nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import AuditEntry, PlanMeasure
from app.db.session import Database
from app.domain import clock
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, assert_problem
from tests.factories import make_household
from tests.plans.support import MEASURES, PLANS, make_cadre, make_measure, make_plan

pytestmark = pytest.mark.usefixtures("tree")

MEASURE = {
    "category": "industry",
    "description": "发展肉牛养殖, 购买基础母牛 2 头",
    "planned_start": "2020-03-01",
    "planned_end": "2020-10-31",
    "expected_benefit": "3000",
}


@pytest.fixture
async def plan(db: Database) -> Any:
    household = await make_household(db, VILLAGE_A1)
    return await make_plan(db, household)


def star(account: Any) -> dict[str, str]:
    return {**account.headers, "If-Match": "*"}


async def stored(db: Database, measure_id: uuid.UUID) -> PlanMeasure:
    async with db.sessionmaker() as session:
        measure = await session.scalar(select(PlanMeasure).where(PlanMeasure.id == measure_id))
    assert measure is not None
    return measure


async def test_a_clerk_adds_a_measure_with_a_responsible_cadre(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    cadre = await make_cadre(db, VILLAGE_A1)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        f"{PLANS}/{plan.id}/measures",
        headers=clerk.headers,
        json={**MEASURE, "responsible_cadre_id": str(cadre.id)},
    )
    assert response.status_code == 201, response.text
    measure = response.json()
    assert measure["status"] == "planned"
    assert measure["year"] == 2020
    assert measure["region_code"] == VILLAGE_A1
    assert measure["household_id"] == str(plan.household_id)
    assert measure["expected_benefit"] == "3000.00"
    assert measure["responsible_cadre_id"] == str(cadre.id)
    assert response.headers["Location"] == f"{MEASURES}/{measure['id']}"
    listed = await client.get(f"{PLANS}/{plan.id}/measures", headers=clerk.headers)
    assert [m["id"] for m in listed.json()] == [measure["id"]]
    read = await client.get(f"{PLANS}/{plan.id}", headers=clerk.headers)
    assert [m["id"] for m in read.json()["measures"]] == [measure["id"]]


@pytest.mark.parametrize("category", ["house_renovation", "relocation", "photovoltaic", "microcredit"])
async def test_housing_is_two_categories_among_the_twelve(
    client: httpx.AsyncClient, account_factory, plan: Any, category: str
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        f"{PLANS}/{plan.id}/measures", headers=clerk.headers, json={**MEASURE, "category": category}
    )
    assert response.status_code == 201, response.text


async def test_an_unknown_category_is_invalid(client: httpx.AsyncClient, account_factory, plan: Any) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        f"{PLANS}/{plan.id}/measures", headers=clerk.headers, json={**MEASURE, "category": "housing"}
    )
    assert_problem(response, 422, "validation")


async def test_a_cadre_working_above_the_village_may_be_responsible(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    leader = await make_cadre(db, COUNTY, name="县领导", rank="county_leader")
    township_cadre = await make_cadre(db, TOWNSHIP_A, name="乡干部")
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    for cadre in (leader, township_cadre):
        response = await client.post(
            f"{PLANS}/{plan.id}/measures",
            headers=clerk.headers,
            json={**MEASURE, "responsible_cadre_id": str(cadre.id)},
        )
        assert response.status_code == 201, response.text


async def test_a_cadre_of_another_village_outside_the_scope_is_not_found(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    elsewhere = await make_cadre(db, VILLAGE_A2)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        f"{PLANS}/{plan.id}/measures",
        headers=clerk.headers,
        json={**MEASURE, "responsible_cadre_id": str(elsewhere.id)},
    )
    body = assert_problem(response, 404, "cadre.not_found")
    assert body["errors"][0]["loc"] == ["body", "responsible_cadre_id"]
    # A township reviewer sees that cadre: in scope, though not over the household's village.
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    response = await client.post(
        f"{PLANS}/{plan.id}/measures",
        headers=reviewer.headers,
        json={**MEASURE, "responsible_cadre_id": str(elsewhere.id)},
    )
    assert response.status_code == 201, response.text


async def test_an_inactive_cadre_cannot_be_responsible(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    retired = await make_cadre(db, VILLAGE_A1, is_active=False)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        f"{PLANS}/{plan.id}/measures",
        headers=clerk.headers,
        json={**MEASURE, "responsible_cadre_id": str(retired.id)},
    )
    assert_problem(response, 422, "cadre.inactive")
    measure = await make_measure(db, plan)
    response = await client.patch(
        f"{MEASURES}/{measure.id}", headers=star(clerk), json={"responsible_cadre_id": str(retired.id)}
    )
    assert_problem(response, 422, "cadre.inactive")


async def test_a_measure_moves_from_planned_to_in_progress_to_done(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    measure = await make_measure(db, plan)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    read = await client.get(f"{MEASURES}/{measure.id}", headers=clerk.headers)
    etag = read.headers["ETag"]
    assert_problem(
        await client.patch(f"{MEASURES}/{measure.id}", headers=clerk.headers, json={"status": "in_progress"}),
        428,
        "measure.if_match_required",
    )
    started = await client.patch(
        f"{MEASURES}/{measure.id}",
        headers={**clerk.headers, "If-Match": etag},
        json={"status": "in_progress"},
    )
    assert started.status_code == 200, started.text
    assert started.json()["actual_start"] == clock.today().isoformat()
    assert started.json()["actual_end"] is None
    assert_problem(
        await client.patch(
            f"{MEASURES}/{measure.id}", headers={**clerk.headers, "If-Match": etag}, json={"status": "done"}
        ),
        412,
        "measure.version_mismatch",
    )
    done = await client.patch(
        f"{MEASURES}/{measure.id}",
        headers={**clerk.headers, "If-Match": started.headers["ETag"]},
        json={"status": "done", "actual_benefit": "3200.50"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert done.json()["actual_end"] == clock.today().isoformat()
    assert done.json()["actual_benefit"] == "3200.50"
    async with db.sessionmaker() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.fields)
                .where(AuditEntry.record_id == str(measure.id))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert actions == [["actual_start", "status"], ["actual_benefit", "actual_end", "status"]]


async def test_a_measure_already_done_may_be_recorded_with_its_dates(
    client: httpx.AsyncClient, account_factory, plan: Any
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = {
        **MEASURE,
        "category": "house_renovation",
        "status": "done",
        "actual_start": "2020-04-01",
        "actual_end": "2020-08-20",
        "actual_benefit": "0",
        "project_ref": "QA-2020-WG-017",
    }
    response = await client.post(f"{PLANS}/{plan.id}/measures", headers=clerk.headers, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["actual_end"] == "2020-08-20"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"actual_end": "2020-05-01"}, "measure.actual_end_requires_done"),
        ({"actual_start": "2020-05-01"}, "measure.actual_start_requires_started"),
        ({"actual_benefit": "100"}, "measure.actual_benefit_requires_started"),
        ({"planned_start": "2020-05-01", "planned_end": "2020-04-01"}, "measure.planned_dates"),
        (
            {"status": "done", "actual_start": "2020-05-02", "actual_end": "2020-05-01"},
            "measure.actual_dates",
        ),
        ({"status": "in_progress", "actual_start": "FUTURE"}, "measure.future_date"),
        ({"status": "in_progress", "actual_end": "2020-05-01"}, "measure.actual_end_requires_done"),
    ],
)
async def test_date_rules_refuse_a_new_measure(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any, body: dict[str, str], code: str
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = {
        key: (clock.today() + timedelta(days=1)).isoformat() if value == "FUTURE" else value
        for key, value in body.items()
    }
    response = await client.post(
        f"{PLANS}/{plan.id}/measures", headers=clerk.headers, json={**MEASURE, **body}
    )
    problem = assert_problem(response, 422, code)
    assert problem["errors"]
    async with db.sessionmaker() as session:
        assert (await session.scalar(select(PlanMeasure.id))) is None


async def test_a_new_measure_cannot_be_cancelled(
    client: httpx.AsyncClient, account_factory, plan: Any
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        f"{PLANS}/{plan.id}/measures", headers=clerk.headers, json={**MEASURE, "status": "cancelled"}
    )
    assert_problem(response, 422, "validation")


async def test_the_actual_end_is_only_set_on_a_measure_that_is_done(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    measure = await make_measure(db, plan, status="in_progress")
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.patch(
        f"{MEASURES}/{measure.id}", headers=star(clerk), json={"actual_end": "2020-05-01"}
    )
    assert_problem(response, 422, "measure.actual_end_requires_done")
    assert (await stored(db, measure.id)).actual_end is None


async def test_going_back_is_refused(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    measure = await make_measure(db, plan, status="in_progress")
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.patch(f"{MEASURES}/{measure.id}", headers=star(clerk), json={"status": "planned"})
    body = assert_problem(response, 422, "measure.status_transition")
    assert "in_progress" in body["detail"]


async def test_cancelled_is_final(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    measure = await make_measure(db, plan, status="in_progress")
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.patch(
        f"{MEASURES}/{measure.id}", headers=star(clerk), json={"status": "cancelled"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["actual_start"] == "2020-03-01"
    for change in ({"status": "in_progress"}, {"description": "重新启动"}, {"status": "cancelled"}):
        response = await client.patch(f"{MEASURES}/{measure.id}", headers=star(clerk), json=change)
        assert_problem(response, 422, "measure.cancelled")


async def test_a_measure_that_is_done_takes_only_its_benefit_and_references(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    measure = await make_measure(db, plan, status="done")
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.patch(
        f"{MEASURES}/{measure.id}",
        headers=star(clerk),
        json={"actual_benefit": "1500", "fund_transfer_ref": "ZJ-2020-0042"},
    )
    assert response.status_code == 200, response.text
    for change in ({"status": "cancelled"}, {"actual_end": "2020-07-01"}, {"category": "ecology"}):
        response = await client.patch(f"{MEASURES}/{measure.id}", headers=star(clerk), json=change)
        assert_problem(response, 422, "measure.done")


async def test_several_broken_rules_are_named_together(
    client: httpx.AsyncClient, account_factory, plan: Any
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = {**MEASURE, "planned_end": "2020-01-01", "actual_end": "2020-05-01"}
    problem = assert_problem(
        await client.post(f"{PLANS}/{plan.id}/measures", headers=clerk.headers, json=body),
        422,
        "measure.invalid",
    )
    assert {tuple(error["loc"]) for error in problem["errors"]} == {
        ("body", "planned_end"),
        ("body", "actual_end"),
    }


@pytest.mark.parametrize(
    ("role", "region"), [("finance_officer", COUNTY), ("inspector", COUNTY), ("data_consumer", COUNTY)]
)
async def test_read_only_roles_read_measures_but_do_not_change_them(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any, role: str, region: str
) -> None:
    measure = await make_measure(db, plan)
    account = await account_factory(region, role)
    assert (await client.get(f"{MEASURES}/{measure.id}", headers=account.headers)).status_code == 200
    assert (await client.get(f"{PLANS}/{plan.id}/measures", headers=account.headers)).status_code == 200
    assert_problem(
        await client.post(f"{PLANS}/{plan.id}/measures", headers=account.headers, json=MEASURE), 403
    )
    assert_problem(
        await client.patch(f"{MEASURES}/{measure.id}", headers=star(account), json={"status": "in_progress"}),
        403,
    )


async def test_measures_outside_the_scope_are_not_found(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_B1)
    plan = await make_plan(db, household)
    measure = await make_measure(db, plan)
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    assert_problem(
        await client.get(f"{MEASURES}/{measure.id}", headers=reviewer.headers), 404, "measure.not_found"
    )
    assert_problem(
        await client.get(f"{PLANS}/{plan.id}/measures", headers=reviewer.headers), 404, "plan.not_found"
    )
    assert_problem(
        await client.post(f"{PLANS}/{plan.id}/measures", headers=reviewer.headers, json=MEASURE), 404
    )
    assert_problem(
        await client.patch(f"{MEASURES}/{measure.id}", headers=star(reviewer), json={"status": "done"}), 404
    )


async def test_measures_of_a_removed_household_no_longer_change(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1, status="removed")
    plan = await make_plan(db, household)
    measure = await make_measure(db, plan)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(
        await client.post(f"{PLANS}/{plan.id}/measures", headers=clerk.headers, json=MEASURE),
        422,
        "plan.household_status",
    )
    assert_problem(
        await client.patch(f"{MEASURES}/{measure.id}", headers=star(clerk), json={"status": "cancelled"}),
        422,
        "plan.household_status",
    )


async def test_a_measure_keeps_the_plan_year_and_dates_before_today(
    client: httpx.AsyncClient, db: Database, account_factory, plan: Any
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    response = await client.post(
        f"{PLANS}/{plan.id}/measures",
        headers=clerk.headers,
        json={**MEASURE, "status": "in_progress", "actual_start": yesterday},
    )
    assert response.status_code == 201, response.text
    assert response.json()["actual_start"] == yesterday
    assert date.fromisoformat(response.json()["actual_start"]) < clock.today()
