"""A household that moves to another village of its county takes its plans, measures, visits and pairings
along."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from app.db.models import Assignment, AssistancePlan, PlanMeasure, Visit
from app.db.session import Database
from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_B1, assert_problem
from tests.factories import make_household
from tests.plans.support import PLANS, make_cadre, make_measure, make_plan, make_visit
from tests.responsibility.factories import make_assignment

pytestmark = pytest.mark.usefixtures("tree")


async def test_plans_measures_visits_and_pairings_move_with_the_household(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1)
    plan = await make_plan(db, household)
    await make_measure(db, plan)
    cadre = await make_cadre(db, COUNTY)
    await make_visit(db, household, cadre, date(2020, 5, 1))
    await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=cadre.id, household_id=household.id)
    county = await account_factory(COUNTY, "county_officer")
    response = await client.patch(
        f"/api/v1/households/{household.id}",
        headers={**county.headers, "If-Match": "*"},
        json={"region_code": VILLAGE_B1},
    )
    assert response.status_code == 200, response.text
    async with db.sessionmaker() as session:
        for model in (AssistancePlan, PlanMeasure, Visit, Assignment):
            regions = set(
                (
                    await session.scalars(select(model.region_code).where(model.household_id == household.id))
                ).all()
            )
            assert regions == {VILLAGE_B1}, model
    old_clerk = await account_factory(VILLAGE_A1, "village_clerk")
    new_clerk = await account_factory(VILLAGE_B1, "village_clerk")
    assert_problem(await client.get(f"{PLANS}/{plan.id}", headers=old_clerk.headers), 404)
    assert (await client.get(f"{PLANS}/{plan.id}", headers=new_clerk.headers)).status_code == 200
