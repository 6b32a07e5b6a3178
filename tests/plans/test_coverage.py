"""The five-coverages report (五个全覆盖) on the test tree: eligibility, what covers, counts per child region,
the lists of households lacking a coverage, scope and roles."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.db.models import Member
from app.db.session import Database
from app.domain.households.idnumbers import parse_id_number
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
from tests.factories import id_number, make_household
from tests.plans.support import make_measure, make_plan

pytestmark = pytest.mark.usefixtures("tree")

# (schooling, labour ability, insured) per member
Person = tuple[str | None, str | None, bool]


async def household(
    db: Database,
    region: str,
    people: list[Person],
    *,
    status: str = "registered",
    grade: str | None = "A",
    relocated: bool = False,
) -> Any:
    stored = await make_household(
        db, region, status=status, members=0, housing_safety_grade=grade, is_relocated=relocated
    )
    async with db.sessionmaker() as session, session.begin():
        for index, (schooling, labour, insured) in enumerate(people):
            parsed = parse_id_number(id_number(date(1980 + index * 10, 1, 1), region=region[:6]))
            session.add(
                Member(
                    household_id=stored.id,
                    region_code=region,
                    name=f"成员{index}",
                    id_number=parsed.value,
                    sex=parsed.sex,
                    birth_date=parsed.birth_date,
                    relation="head" if index == 0 else "child",
                    schooling=schooling,
                    labour_ability=labour,
                    has_medical_insurance=insured,
                )
            )
    return stored


@pytest.fixture
async def world(db: Database) -> dict[str, Any]:
    h1 = await household(db, VILLAGE_A1, [("none", "ordinary", True), ("primary", "none", True)], grade="C")
    plan = await make_plan(db, h1, 2020)
    await make_measure(db, plan, "education", "done")
    await make_measure(db, plan, "house_renovation", "in_progress")
    await make_measure(db, plan, "employment", "planned")
    await make_measure(db, plan, "photovoltaic", "cancelled")
    h2 = await household(db, VILLAGE_A1, [("none", "lost", False)], grade="D", relocated=True)
    h3 = await household(db, VILLAGE_A1, [("none", "skilled", True)], status="exited")
    h4 = await household(db, VILLAGE_A2, [("junior", "weak", False), (None, None, True)], grade="B")
    await make_measure(db, await make_plan(db, h4, 2019), "education", "done")
    await make_measure(db, await make_plan(db, h4, 2020), "photovoltaic", "done")
    h5 = await household(db, VILLAGE_B1, [("none", "ordinary", True)], grade="C")
    await household(db, VILLAGE_B1, [("none", "ordinary", False)], status="applicant", grade="D")
    await household(db, OTHER_VILLAGE, [("primary", "ordinary", False)], grade="D")
    return {"h1": h1, "h2": h2, "h3": h3, "h4": h4, "h5": h5}


def counts(body: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {name: (value["eligible"], value["lacking"]) for name, value in body["coverages"].items()}


async def report(client: httpx.AsyncClient, account: Any, region: str, **params: Any) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/regions/{region}/five-coverages", headers=account.headers, params={"year": 2020, **params}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_county_totals_and_townships(
    client: httpx.AsyncClient, account_factory, world: dict[str, Any]
) -> None:
    officer = await account_factory(COUNTY, "county_officer")
    body = await report(client, officer, COUNTY)
    assert body["households"] == 4
    assert counts(body) == {
        "education": (2, 1),
        "medical_insurance": (4, 2),
        "house_renovation": (2, 1),
        "employment": (3, 3),
        "photovoltaic": (4, 3),
    }
    children = {child["region_code"]: child for child in body["children"]}
    assert list(children) == [TOWNSHIP_A, TOWNSHIP_B]
    assert children[TOWNSHIP_A]["name"] == "兴国镇"
    assert children[TOWNSHIP_A]["households"] == 3
    assert counts(children[TOWNSHIP_B]) == {
        "education": (0, 0),
        "medical_insurance": (1, 0),
        "house_renovation": (1, 1),
        "employment": (1, 1),
        "photovoltaic": (1, 1),
    }


async def test_a_township_reports_its_villages_including_empty_ones(
    client: httpx.AsyncClient, account_factory, world: dict[str, Any]
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    body = await report(client, reviewer, TOWNSHIP_A)
    children = {child["region_code"]: child for child in body["children"]}
    assert list(children) == [VILLAGE_A1, VILLAGE_A2]
    assert counts(children[VILLAGE_A1]) == {
        "education": (1, 0),
        "medical_insurance": (2, 1),
        "house_renovation": (1, 0),
        "employment": (1, 1),
        "photovoltaic": (2, 2),
    }
    assert counts(children[VILLAGE_A2]) == {
        "education": (1, 1),
        "medical_insurance": (1, 1),
        "house_renovation": (0, 0),
        "employment": (1, 1),
        "photovoltaic": (1, 0),
    }
    other = await report(client, await account_factory(COUNTY, "inspector"), TOWNSHIP_B)
    assert [(c["region_code"], c["households"]) for c in other["children"]] == [
        (VILLAGE_B1, 1),
        (VILLAGE_B2, 0),
    ]


async def test_a_village_reports_itself_without_children(
    client: httpx.AsyncClient, account_factory, world: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = await report(client, clerk, VILLAGE_A1)
    assert body["children"] == []
    assert body["households"] == 2
    assert body["name"] == "王家庄村"


async def test_exited_households_join_on_request(
    client: httpx.AsyncClient, account_factory, world: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = await report(client, clerk, VILLAGE_A1, include_exited="true")
    assert body["households"] == 3
    assert body["include_exited"] is True
    assert counts(body)["employment"] == (2, 2)
    assert counts(body)["medical_insurance"] == (3, 1)


async def test_only_measures_of_the_years_plan_cover(
    client: httpx.AsyncClient, account_factory, world: dict[str, Any]
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")
    body = await report(client, reviewer, TOWNSHIP_A, year=2019)
    assert counts(body)["education"] == (2, 1)  # h4 covered in 2019, h1 not
    assert counts(body)["house_renovation"] == (1, 1)
    assert counts(body)["photovoltaic"] == (3, 3)


async def _listed(
    client: httpx.AsyncClient, account: Any, region: str, coverage: str, **params: Any
) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        response = await client.get(
            f"/api/v1/regions/{region}/five-coverages/{coverage}/households",
            headers=account.headers,
            params={"year": 2020, "limit": 1, **params, **({"cursor": cursor} if cursor else {})},
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert all(
            set(item)
            == {"id", "region_code", "household_number", "head_name", "status", "housing_safety_grade"}
            for item in items
        )
        ids += [item["id"] for item in items]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return ids


async def test_lists_of_households_lacking_each_coverage(
    client: httpx.AsyncClient, account_factory, world: dict[str, Any]
) -> None:
    officer = await account_factory(COUNTY, "county_officer")
    ids = {name: str(h.id) for name, h in world.items()}
    expected = {
        "education": {ids["h4"]},
        "medical_insurance": {ids["h2"], ids["h4"]},
        "house_renovation": {ids["h5"]},
        "employment": {ids["h1"], ids["h4"], ids["h5"]},
        "photovoltaic": {ids["h1"], ids["h2"], ids["h5"]},
    }
    for coverage, households in expected.items():
        listed = await _listed(client, officer, COUNTY, coverage)
        assert set(listed) == households, coverage
        assert len(listed) == len(households)
    assert set(await _listed(client, officer, VILLAGE_A1, "employment", include_exited="true")) == {
        ids["h1"],
        ids["h3"],
    }


async def test_scope_and_roles(client: httpx.AsyncClient, account_factory, world: dict[str, Any]) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    for url in (
        f"/api/v1/regions/{COUNTY}/five-coverages",
        f"/api/v1/regions/{VILLAGE_A2}/five-coverages/education/households",
    ):
        assert_problem(await client.get(url, headers=clerk.headers), 404)
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(f"/api/v1/regions/{COUNTY}/five-coverages", headers=admin.headers), 403)
    consumer = await account_factory("620000000000", "data_consumer")
    body = await report(client, consumer, "620000000000")
    assert body["households"] == 5  # the neighbouring county's household too
    unknown = await client.get(
        f"/api/v1/regions/{COUNTY}/five-coverages/roads/households", headers=clerk.headers
    )
    assert_problem(unknown, 422)
