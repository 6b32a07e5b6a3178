"""Region statistics on a hand-built dataset: every figure counted by hand, at every level."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import select

from app.db.models import Assignment, Cadre, HouseholdEvent, Member, RuralPopulation
from app.db.session import Database
from app.domain.principal import Role
from tests.conftest import (
    COUNTY,
    PROVINCE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    assert_problem,
)
from tests.factories import make_household

YEAR = 2020


async def _dataset(db: Database) -> dict[str, Any]:
    """A1: 2 registered (illness 2 people, disability 3 people; one monitored), 1 exited in 2019
    (4 people, covered), 1 applicant (2 people); A2: 1 exited in 2018 that returned in 2020 (now registered,
    1 person); B1: 1 removed household (2 people)."""
    a = await make_household(db, VILLAGE_A1, members=2, attribute="general", primary_cause="illness")
    b = await make_household(
        db,
        VILLAGE_A1,
        members=3,
        attribute="low_income",
        primary_cause="disability",
        category="policy",
        monitoring_kind="edge",
    )
    c = await make_household(
        db, VILLAGE_A1, status="exited", members=4, exited_year=2019, primary_cause="illness"
    )
    await make_household(db, VILLAGE_A1, status="applicant", members=2)
    d = await make_household(db, VILLAGE_A2, members=1, exited_year=2018, has_returned_to_poverty=True)
    await make_household(db, VILLAGE_B1, status="removed", members=2)
    async with db.sessionmaker() as session, session.begin():
        cadre = Cadre(region_code=VILLAGE_A1, name="张干部", rank="general")
        session.add(cadre)
        await session.flush()
        session.add(
            Assignment(
                kind="pairing",
                region_code=VILLAGE_A1,
                cadre_id=cadre.id,
                household_id=c.id,
                starts_on=date(2019, 1, 1),
                assigned_by="test",
            )
        )
        session.add(
            HouseholdEvent(
                household_id=d.id,
                region_code=VILLAGE_A2,
                procedure="return",
                action="county_approve_return",
                from_status="exited",
                to_status="registered",
                actor_name="test",
                at=datetime(2020, 5, 1, tzinfo=UTC),
            )
        )
        session.add(RuralPopulation(region_code=COUNTY, year=YEAR, population=1000, updated_by="test"))
        session.add(RuralPopulation(region_code=TOWNSHIP_A, year=YEAR, population=600, updated_by="test"))
    return {"a": a, "b": b, "c": c, "d": d}


def _bucket(items: list[dict[str, Any]], key: str) -> tuple[int, int]:
    found = [item for item in items if item["key"] == key]
    return (found[0]["households"], found[0]["people"]) if found else (0, 0)


async def test_county_figures_counted_by_hand(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    await _dataset(db)
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    response = await client.get(
        f"/api/v1/regions/{COUNTY}/stats", params={"year": YEAR}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["households"], body["people"]) == (4, 10)  # a, b, c, d
    assert (body["poor_households"], body["poor_people"]) == (3, 6)  # a, b, d
    assert _bucket(body["by_status"], "registered") == (3, 6)
    assert _bucket(body["by_status"], "exited") == (1, 4)
    assert _bucket(body["by_status"], "applicant") == (1, 2)
    assert _bucket(body["by_status"], "removed") == (1, 2)
    assert _bucket(body["by_cause"], "illness") == (3, 7)
    assert _bucket(body["by_cause"], "disability") == (1, 3)
    assert _bucket(body["by_attribute"], "low_income") == (1, 3)
    assert _bucket(body["by_category"], "policy") == (1, 3)
    assert _bucket(body["by_category"], "") == (3, 7)
    assert body["monitoring"] == [{"key": "edge", "households": 1, "people": 3}]
    assert body["exits"] == [
        {"year": 2018, "households": 1, "people": 1},
        {"year": 2019, "households": 1, "people": 4},
    ]
    assert body["returns"] == [{"year": 2020, "households": 1, "people": 1}]
    assert body["coverage"] == {"households": 4, "covered": 1, "uncovered": 3, "ratio": 0.25}
    assert body["rural_population"] == 1000
    assert body["poverty_incidence"] == 0.006
    assert body["funds"] == {
        "received": "0.00",
        "disbursed": "0.00",
        "balance": "0.00",
        "balance_ratio": None,
    }


async def test_each_level_counts_its_subtree(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    await _dataset(db)
    account = await account_factory(PROVINCE, Role.DATA_CONSUMER)
    expected = {
        PROVINCE: (4, 10, 1000),
        TOWNSHIP_A: (4, 10, 600),
        TOWNSHIP_B: (0, 0, None),
        VILLAGE_A1: (3, 9, None),
        VILLAGE_A2: (1, 1, None),
        VILLAGE_B1: (0, 0, None),
    }
    for code, (households, people, population) in expected.items():
        response = await client.get(
            f"/api/v1/regions/{code}/stats", params={"year": YEAR}, headers=account.headers
        )
        body = response.json()
        assert (body["households"], body["people"], body["rural_population"]) == (
            households,
            people,
            population,
        ), code


async def test_writes_keep_the_figures_current(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    households = await _dataset(db)
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    async with db.sessionmaker() as session, session.begin():
        member = await session.scalar(
            select(Member).where(Member.household_id == households["a"].id).limit(1)
        )
        assert member is not None
        member.is_active = False  # a member leaves
        household = await session.get(type(households["a"]), households["a"].id)
        assert household is not None
        household.region_code = VILLAGE_B1  # and the household moves to another township
    response = await client.get(
        f"/api/v1/regions/{TOWNSHIP_B}/stats", params={"year": YEAR}, headers=account.headers
    )
    assert (response.json()["households"], response.json()["people"]) == (1, 1)
    response = await client.get(
        f"/api/v1/regions/{VILLAGE_A1}/stats", params={"year": YEAR}, headers=account.headers
    )
    assert (response.json()["households"], response.json()["people"]) == (2, 7)


async def test_out_of_scope_region_is_not_found(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: Any
) -> None:
    account = await account_factory(TOWNSHIP_A, Role.TOWNSHIP_REVIEWER)
    for code in (TOWNSHIP_B, COUNTY, VILLAGE_B1, "999999999999", "12"):
        response = await client.get(f"/api/v1/regions/{code}/stats", headers=account.headers)
        assert_problem(response, 404, "region.not_found")
    admin = await account_factory(COUNTY, Role.ADMIN)
    assert_problem(await client.get(f"/api/v1/regions/{COUNTY}/stats", headers=admin.headers), 403)
    assert_problem(await client.get(f"/api/v1/regions/{COUNTY}/stats"), 401)
