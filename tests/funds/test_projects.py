"""The project library (项目库): entering projects, their rules, the status workflow, roles and scope,
beneficiary households."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.db.models import Project
from app.db.session import Database
from app.domain.projects.funding import project_accepts_funds
from app.domain.projects.rules import split_income
from tests.conftest import (
    COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    assert_problem,
)
from tests.factories import make_household
from tests.funds.test_projects_helpers import PROJECTS, advance, enter_project, project_body

pytestmark = pytest.mark.usefixtures("tree")


async def test_a_county_officer_enters_a_project_and_everyone_reading_funds_sees_it(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    response = await client.post(PROJECTS, headers=county.headers, json=project_body(VILLAGE_A1))
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["status"] == "planned"
    assert project["accepts_funds"] is False
    assert project["budget"] == "800000.00"
    assert project["county_code"] == COUNTY
    assert project["financing"][0] == {"source": "central", "amount": "500000.00"}
    assert response.headers["ETag"] == f'"{project["id"]}.1"'
    for roles in (["finance_officer"], ["inspector"], ["data_consumer"], ["village_clerk"]):
        reader = await account_factory(VILLAGE_A1 if roles == ["village_clerk"] else COUNTY, *roles)
        got = await client.get(f"{PROJECTS}/{project['id']}", headers=reader.headers)
        assert got.status_code == 200, (roles, got.text)


async def test_a_project_without_performance_targets_cannot_enter_the_library(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    for body in (project_body(VILLAGE_A1, performance_targets=[]), project_body(VILLAGE_A1)):
        body.pop("performance_targets") if body.get("performance_targets") else None
        problem = assert_problem(
            await client.post(PROJECTS, headers=county.headers, json=body),
            422,
            "project.performance_targets_required",
        )
        assert "绩效目标" in problem["detail"]
        assert problem["errors"][0]["loc"] == ["body", "performance_targets"]
    listed = await client.get(PROJECTS, headers=county.headers)
    assert listed.json()["items"] == []


async def test_targets_cannot_be_removed_later(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    project = await enter_project(client, county, VILLAGE_A1)
    response = await client.patch(
        f"{PROJECTS}/{project['id']}",
        headers={**county.headers, "If-Match": f'"{project["id"]}.1"'},
        json={"performance_targets": []},
    )
    assert_problem(response, 422, "project.performance_targets_required")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"region_code": COUNTY}, "project.region_level"),
        ({"budget": "1000.00"}, "project.financing_mismatch"),
        (
            {
                "financing": [
                    {"source": "central", "amount": "400000.00"},
                    {"source": "central", "amount": "400000.00"},
                ]
            },
            "project.financing_duplicate_source",
        ),
        ({"planned_start": "2020-10-01", "planned_end": "2020-09-01"}, "project.schedule_order"),
        ({"responsible_unit_name": None}, "project.responsible_unit_required"),
    ],
)
async def test_project_rules_refuse_bad_input(
    client: httpx.AsyncClient, account_factory, overrides: dict, code: str
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    body = project_body(VILLAGE_A1)
    body.update(overrides)
    if overrides.get("responsible_unit_name", "") is None:
        body.pop("responsible_unit_name")
    assert_problem(await client.post(PROJECTS, headers=county.headers, json=body), 422, code)


async def test_unknown_fields_and_float_like_amounts_are_refused(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(
        await client.post(PROJECTS, headers=county.headers, json=project_body(VILLAGE_A1, colour="red")), 422
    )
    assert_problem(
        await client.post(PROJECTS, headers=county.headers, json=project_body(VILLAGE_A1, budget="1.005")),
        422,
    )


async def test_only_project_writers_enter_projects_and_only_in_scope(
    client: httpx.AsyncClient, account_factory
) -> None:
    for roles in (
        ["finance_officer"],
        ["inspector"],
        ["village_clerk"],
        ["township_reviewer"],
        ["data_consumer"],
    ):
        someone = await account_factory(COUNTY, *roles)
        assert_problem(
            await client.post(PROJECTS, headers=someone.headers, json=project_body(VILLAGE_A1)),
            403,
            "auth.forbidden",
        )
    township = await account_factory(TOWNSHIP_A, "county_officer")
    assert_problem(await client.post(PROJECTS, headers=township.headers, json=project_body(VILLAGE_B1)), 404)
    assert_problem(
        await client.post(PROJECTS, headers=township.headers, json=project_body(OTHER_VILLAGE)), 404
    )
    created = await enter_project(client, township, VILLAGE_A2)
    other = await account_factory(TOWNSHIP_B, "county_officer")
    assert_problem(await client.get(f"{PROJECTS}/{created['id']}", headers=other.headers), 404)


async def test_the_list_is_scoped_filtered_and_paged(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    made = []
    for region in (VILLAGE_A1, VILLAGE_A2, TOWNSHIP_A, VILLAGE_B1, TOWNSHIP_B):
        made.append(
            await enter_project(
                client, county, region, category="infrastructure" if region == VILLAGE_B1 else "photovoltaic"
            )
        )
    await advance(client, county, made[0]["id"], "approved")
    seen, cursor = [], None
    while True:
        response = await client.get(
            PROJECTS, headers=county.headers, params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        seen += [item["region_code"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == 5
    township = await account_factory(TOWNSHIP_A, "township_reviewer")
    items = (await client.get(PROJECTS, headers=township.headers)).json()["items"]
    assert {item["region_code"] for item in items} == {VILLAGE_A1, VILLAGE_A2, TOWNSHIP_A}

    async def ids(**params: object) -> set[str]:
        response = await client.get(PROJECTS, headers=county.headers, params=params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids(status="approved") == {made[0]["id"]}
    assert await ids(category="infrastructure") == {made[3]["id"]}
    assert await ids(region=TOWNSHIP_B) == {made[3]["id"], made[4]["id"]}
    assert await ids(fiscal_year=2019) == set()
    assert_problem(await client.get(PROJECTS, headers=township.headers, params={"region": TOWNSHIP_B}), 404)
    assert_problem(await client.get(PROJECTS, headers=county.headers, params={"cursor": "bogus"}), 422)


async def test_changes_need_the_current_etag(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    project = await enter_project(client, county, VILLAGE_A1)
    url = f"{PROJECTS}/{project['id']}"
    assert_problem(await client.patch(url, headers=county.headers, json={"name": "新名称"}), 428)
    changed = await client.patch(
        url, headers={**county.headers, "If-Match": f'"{project["id"]}.1"'}, json={"name": "新名称"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    stale = await client.patch(
        url, headers={**county.headers, "If-Match": f'"{project["id"]}.1"'}, json={"name": "旧"}
    )
    assert_problem(stale, 412, "project.version_mismatch")
    assert (await client.get(url, headers=county.headers)).json()["name"] == "新名称"
    assert_problem(
        await client.patch(url, headers={**county.headers, "If-Match": "*"}, json={"name": None}), 422
    )


async def test_the_workflow_moves_forward_one_step_at_a_time(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    project = await enter_project(client, county, VILLAGE_A1)
    url = f"{PROJECTS}/{project['id']}/transitions"
    assert_problem(
        await client.post(url, headers=county.headers, json={"status": "under_construction"}),
        422,
        "project.status_transition",
    )
    approved = await advance(client, county, project["id"], "approved")
    assert approved["approved_by"] == county.principal.subject
    assert approved["accepts_funds"] is True
    assert_problem(
        await client.post(url, headers=county.headers, json={"status": "planned"}),
        422,
        "project.status_transition",
    )
    started = await advance(client, county, project["id"], "under_construction", on="2020-03-05")
    assert started["actual_start"] == "2020-03-05"
    assert_problem(
        await client.post(url, headers=county.headers, json={"status": "completed", "on": "2020-03-01"}),
        422,
        "project.completed_before_start",
    )
    future = (date.today() + timedelta(days=3)).isoformat()
    assert_problem(
        await client.post(url, headers=county.headers, json={"status": "completed", "on": future}),
        422,
        "project.future_date",
    )
    done = await advance(client, county, project["id"], "completed", "accepted")
    assert done["status"] == "accepted"
    assert done["actual_end"] == date.today().isoformat()
    assert_problem(
        await client.post(url, headers=county.headers, json={"status": "accepted"}),
        422,
        "project.status_transition",
    )
    closed = await client.patch(
        f"{PROJECTS}/{project['id']}", headers={**county.headers, "If-Match": "*"}, json={"content": "改"}
    )
    assert_problem(closed, 422, "project.closed")


async def test_only_a_county_officer_at_the_county_approves(
    client: httpx.AsyncClient, account_factory
) -> None:
    township = await account_factory(TOWNSHIP_A, "county_officer")
    project = await enter_project(client, township, VILLAGE_A1)
    url = f"{PROJECTS}/{project['id']}/transitions"
    assert_problem(
        await client.post(url, headers=township.headers, json={"status": "approved"}),
        422,
        "project.approval_requires_county",
    )
    finance = await account_factory(COUNTY, "finance_officer")
    assert_problem(await client.post(url, headers=finance.headers, json={"status": "approved"}), 403)
    county = await account_factory(COUNTY, "county_officer")
    approved = await client.post(
        url, headers=county.headers, json={"status": "approved", "approval_document": "秦扶发〔2020〕12号"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approval_document"] == "秦扶发〔2020〕12号"
    # The township officer carries the project on from there.
    await advance(client, township, project["id"], "under_construction")


async def test_budget_and_financing_are_fixed_once_approved(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    project = await enter_project(client, county, VILLAGE_A1)
    await advance(client, county, project["id"], "approved")
    response = await client.patch(
        f"{PROJECTS}/{project['id']}",
        headers={**county.headers, "If-Match": "*"},
        json={"budget": "1.00", "financing": []},
    )
    body = assert_problem(response, 422, "project.fixed_after_approval")
    assert {tuple(error["loc"]) for error in body["errors"]} == {
        ("body", "budget_fen"),
        ("body", "financing"),
    }
    ok = await client.patch(
        f"{PROJECTS}/{project['id']}",
        headers={**county.headers, "If-Match": "*"},
        json={"content": "扩大规模"},
    )
    assert ok.status_code == 200, ok.text


async def test_only_a_planned_project_can_be_removed(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    keep = await enter_project(client, county, VILLAGE_A1)
    await advance(client, county, keep["id"], "approved")
    assert_problem(
        await client.delete(f"{PROJECTS}/{keep['id']}", headers={**county.headers, "If-Match": "*"}),
        422,
        "project.delete_not_planned",
    )
    gone = await enter_project(client, county, VILLAGE_A1)
    response = await client.delete(f"{PROJECTS}/{gone['id']}", headers={**county.headers, "If-Match": "*"})
    assert response.status_code == 204, response.text
    assert_problem(await client.get(f"{PROJECTS}/{gone['id']}", headers=county.headers), 404)


async def test_beneficiaries_are_registered_or_exited_households_of_the_project_region(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    project = await enter_project(client, county, TOWNSHIP_A)
    inside = await make_household(db, VILLAGE_A1)
    exited = await make_household(db, VILLAGE_A2, status="exited")
    applicant = await make_household(db, VILLAGE_A1, status="applicant")
    elsewhere = await make_household(db, VILLAGE_B1)
    foreign = await make_household(db, OTHER_VILLAGE)
    url = f"{PROJECTS}/{project['id']}/beneficiaries"

    async def add(*households: object, who=county) -> httpx.Response:  # type: ignore[no-untyped-def]
        return await client.post(
            url,
            headers=who.headers,
            json={"households": [{"household_id": str(h.id)} for h in households]},  # type: ignore[attr-defined]
        )

    assert_problem(await add(inside, elsewhere), 422, "project.beneficiary_region")
    assert_problem(await add(inside, applicant), 422, "project.beneficiary_status")
    assert_problem(await add(inside, foreign), 404)
    assert_problem(await add(inside, inside), 422, "project.beneficiary_duplicate")
    finance = await account_factory(COUNTY, "finance_officer")
    assert_problem(await add(inside, who=finance), 403)
    response = await add(inside, exited)
    assert response.status_code == 200, response.text
    assert response.json() == {"written": 2}
    listed = (await client.get(url, headers=county.headers)).json()["items"]
    assert {row["household_id"] for row in listed} == {str(inside.id), str(exited.id)}
    assert set(listed[0]) == {
        "household_id",
        "household_number",
        "region_code",
        "household_status",
        "share_weight",
        "added_at",
    }
    village = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(await client.get(url, headers=village.headers), 404)  # a township project
    removed = await client.delete(f"{url}/{inside.id}", headers=county.headers)
    assert removed.status_code == 204
    again = await client.delete(f"{url}/{inside.id}", headers=county.headers)
    assert again.status_code == 204  # removing it again changes nothing
    assert len((await client.get(url, headers=county.headers)).json()["items"]) == 1


def test_projects_accept_funds_only_once_approved() -> None:
    for status, accepts in (
        ("planned", False),
        ("approved", True),
        ("under_construction", True),
        ("completed", True),
        ("accepted", True),
    ):
        assert project_accepts_funds(Project(status=status)) is accepts


def test_income_splits_to_the_fen() -> None:
    households = [uuid.UUID(int=n) for n in range(3)]
    assert split_income(100, dict.fromkeys(households, 1)) == {
        households[0]: 34,
        households[1]: 33,
        households[2]: 33,
    }
    assert split_income(1000, {households[0]: 3, households[1]: 1}) == {
        households[0]: 750,
        households[1]: 250,
    }


@given(
    total=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=40),
)
def test_income_split_always_adds_up_and_is_fair(total: int, weights: list[int]) -> None:
    shares = split_income(total, dict(enumerate(weights)))
    assert sum(shares.values()) == total
    weight_sum = sum(weights)
    for key, weight in enumerate(weights):
        exact = total * weight / weight_sum
        assert abs(shares[key] - exact) < 1 + 1e-6 * exact
