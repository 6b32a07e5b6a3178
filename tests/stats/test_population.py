"""Rural population (农村人口): county officers keep it in scope, audited; statistics use it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from app.db.models import AuditEntry, RuralPopulation
from app.db.session import Database
from app.domain.principal import Role
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    PREFECTURE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    assert_problem,
)


def url(code: str, year: int | None = None) -> str:
    return f"/api/v1/regions/{code}/rural-population" + (f"/{year}" if year else "")


async def test_county_officer_sets_and_corrects_a_figure(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    officer = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    response = await client.put(url(TOWNSHIP_A, 2020), headers=officer.headers, json={"population": 5000})
    assert response.status_code == 200, response.text
    assert response.json()["population"] == 5000
    response = await client.put(url(TOWNSHIP_A, 2020), headers=officer.headers, json={"population": 5200})
    assert response.json()["updated_by"] == officer.principal.subject
    await client.put(url(TOWNSHIP_A, 2019), headers=officer.headers, json={"population": 4900})
    listed = (await client.get(url(TOWNSHIP_A), headers=officer.headers)).json()
    assert [(row["year"], row["population"]) for row in listed] == [(2019, 4900), (2020, 5200)]
    async with db.sessionmaker() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "set_rural_population"))
        ).all()
    assert [entry.details for entry in entries] == [
        {"year": 2020, "from": None, "to": 5000},
        {"year": 2020, "from": 5000, "to": 5200},
        {"year": 2019, "from": None, "to": 4900},
    ]
    assert {entry.region_code for entry in entries} == {TOWNSHIP_A}


async def test_refusals_change_nothing(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    officer = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    reviewer = await account_factory(TOWNSHIP_A, Role.TOWNSHIP_REVIEWER)
    body = {"population": 100}
    assert_problem(await client.put(url(VILLAGE_A1, 2020), headers=clerk.headers, json=body), 403)
    assert_problem(await client.put(url(TOWNSHIP_A, 2020), headers=reviewer.headers, json=body), 403)
    assert_problem(await client.put(url(OTHER_COUNTY, 2020), headers=officer.headers, json=body), 404)
    assert_problem(await client.put(url(PREFECTURE, 2020), headers=officer.headers, json=body), 404)
    assert_problem(await client.put(url(VILLAGE_A2, 2020), headers=reviewer.headers, json=body), 403)
    assert_problem(await client.get(url(TOWNSHIP_B), headers=reviewer.headers), 404)
    for bad in ({"population": -1}, {"population": "many"}, {}, {"population": 1, "extra": 1}):
        assert_problem(await client.put(url(COUNTY, 2020), headers=officer.headers, json=bad), 422)
    assert_problem(await client.put(url(COUNTY, 1900), headers=officer.headers, json=body), 422)
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(RuralPopulation))).all() == []


async def test_incidence_uses_the_figures_recorded_nearest_below(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: Any
) -> None:
    officer = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    for code, population in ((TOWNSHIP_A, 600), (VILLAGE_A1, 250), (VILLAGE_A2, 350), (TOWNSHIP_B, 400)):
        response = await client.put(url(code, 2020), headers=officer.headers, json={"population": population})
        assert response.status_code == 200, response.text

    async def population(code: str, year: int = 2020) -> Any:
        response = await client.get(
            f"/api/v1/regions/{code}/stats", params={"year": year}, headers=officer.headers
        )
        return response.json()["rural_population"]

    assert await population(COUNTY) == 1000  # its townships' figures (not also A's villages')
    assert await population(TOWNSHIP_A) == 600  # its own figure wins
    assert await population(VILLAGE_A2) == 350
    assert await population(COUNTY, 2021) is None
    await client.put(url(COUNTY, 2020), headers=officer.headers, json={"population": 1500})
    assert await population(COUNTY) == 1500
