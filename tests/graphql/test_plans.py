"""GraphQL over assistance plans: a household's plans with their measures, measures and visits — the same
values as REST (money as decimal strings), the visit list's filters and order, and DataLoaders whose
statement count does not grow with the number of households and plans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx

from app.db.session import Database
from app.domain.principal import Role
from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.factories import make_household
from tests.graphql.conftest import StatementCounter, error_codes
from tests.plans.support import make_cadre, make_measure, make_plan, make_visit

HOUSEHOLDS_WITH_PLANS = """
query ($first: Int!) {
  households(first: $first) {
    nodes {
      id regionCode
      plans { id year goalIncome measures { id category status expectedBenefit responsibleCadre { name } } }
      visits(latest: 2) { visitedOn kind cadre { name } }
      assignments { id }
    }
  }
}
"""


async def _household_with_plan(db: Database, region: str, cadre=None):  # type: ignore[no-untyped-def]
    household = await make_household(db, region)
    plan = await make_plan(db, household, goal_income=Decimal("4500.5"))
    await make_measure(
        db, plan, expected_benefit=Decimal("1200"), responsible_cadre_id=cadre.id if cadre else None
    )
    await make_measure(db, plan, category="employment", status="done")
    if cadre is not None:
        for day in (1, 2, 3):
            await make_visit(db, household, cadre, date(2020, 5, day))
    return household, plan


async def test_plan_matches_rest(gql, client: httpx.AsyncClient, tree, account_factory, db) -> None:
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    cadre = await make_cadre(db, VILLAGE_A1)
    household, plan = await _household_with_plan(db, VILLAGE_A1, cadre)
    query = """query ($id: UUID!) { plan(id: $id) {
      id householdId regionCode year goalIncome plannedExitYear notes version createdAt updatedAt
      household { id householdNumber }
      measures { id planId householdId regionCode year category description responsibleCadreId plannedStart
        plannedEnd actualStart actualEnd status expectedBenefit actualBenefit projectRef fundTransferRef
        version
        createdAt updatedAt plan { id } household { id } responsibleCadre { id name phone } } } }"""
    body = await gql(clerk.token, query, {"id": str(plan.id)})
    assert "errors" not in body, body
    found = body["data"]["plan"]
    rest = (await client.get(f"/api/v1/plans/{plan.id}", headers=clerk.headers)).json()
    assert found["goalIncome"] == rest["goal_income"] == "4500.50"
    assert found["household"]["id"] == str(household.id)
    assert [m["id"] for m in found["measures"]] == [m["id"] for m in rest["measures"]]
    first = found["measures"][0]
    assert first["expectedBenefit"] == rest["measures"][0]["expected_benefit"] == "1200.00"
    assert first["responsibleCadre"] == {"id": str(cadre.id), "name": "张卫东", "phone": "139****8765"}
    assert found["measures"][1]["actualEnd"] == rest["measures"][1]["actual_end"]
    measure = await gql(
        clerk.token, "query ($id: UUID!) { measure(id: $id) { id plan { year } } }", {"id": first["id"]}
    )
    assert measure["data"]["measure"] == {"id": first["id"], "plan": {"year": 2020}}


async def test_plans_out_of_scope_are_not_found(gql, tree, account_factory, db) -> None:
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    _, plan = await _household_with_plan(db, VILLAGE_A2)
    body = await gql(clerk.token, "query ($id: UUID!) { plan(id: $id) { id } }", {"id": str(plan.id)})
    assert error_codes(body) == ["plan.not_found"]
    assert body["errors"][0]["extensions"]["status"] == 404


async def test_household_links_statements_do_not_grow(gql, app, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    cadre = await make_cadre(db, VILLAGE_A1)
    await _household_with_plan(db, VILLAGE_A1, cadre)
    with StatementCounter(app.state.database) as one:
        body = await gql(county.token, HOUSEHOLDS_WITH_PLANS, {"first": 20})
    nodes = body["data"]["households"]["nodes"]
    assert len(nodes) == 1
    assert len(nodes[0]["plans"][0]["measures"]) == 2
    assert [v["visitedOn"] for v in nodes[0]["visits"]] == ["2020-05-03", "2020-05-02"]
    for n in range(19):  # 20 households: the most the cost limit lets this query ask for
        await _household_with_plan(db, (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1)[n % 3], cadre)
    with StatementCounter(app.state.database) as many:
        body = await gql(county.token, HOUSEHOLDS_WITH_PLANS, {"first": 20})
    nodes = body["data"]["households"]["nodes"]
    assert len(nodes) == 20
    assert all(len(node["plans"][0]["measures"]) == 2 and len(node["visits"]) == 2 for node in nodes)
    assert one.count > 3, one.statements  # the counter sees the app's statements
    assert many.count == one.count, (one.statements, many.statements)


async def test_visits_match_rest(gql, client: httpx.AsyncClient, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    cadre = await make_cadre(db, VILLAGE_A1)
    other = await make_cadre(db, VILLAGE_B1, name="李四")
    household, _ = await _household_with_plan(db, VILLAGE_A1, cadre)
    far = await make_household(db, VILLAGE_B1)
    await make_visit(db, far, other, date(2020, 7, 1), kind="work_log")
    query = """query ($f: VisitFilterInput, $first: Int!, $after: String) {
      visits(filter: $f, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id regionCode householdId cadreId visitedOn kind content createdByName createdAt
          household { id } cadre { name } } } }"""
    cases = [
        ({}, {}),
        ({"kind": "work_log"}, {"kind": "work_log"}),
        ({"region": VILLAGE_A1, "from": "2020-05-02"}, {"region": VILLAGE_A1, "from": "2020-05-02"}),
        ({"cadreId": str(other.id)}, {"cadre_id": str(other.id)}),
        (
            {"householdId": str(household.id), "to": "2020-05-01"},
            {"household_id": str(household.id), "to": "2020-05-01"},
        ),
    ]
    for graphql_filter, params in cases:
        body = await gql(county.token, query, {"f": graphql_filter, "first": 100})
        rest = (await client.get("/api/v1/visits", params=params, headers=county.headers)).json()["items"]
        found = body["data"]["visits"]
        assert [n["id"] for n in found["nodes"]] == [item["id"] for item in rest], graphql_filter
        assert found["totalCount"] == len(rest)
    paged = await gql(county.token, query, {"f": {}, "first": 2})
    assert paged["data"]["visits"]["pageInfo"]["hasNextPage"] is True
    after = paged["data"]["visits"]["pageInfo"]["endCursor"]
    rest_page = await gql(county.token, query, {"f": {}, "first": 100, "after": after})
    assert len(rest_page["data"]["visits"]["nodes"]) == 2
    bad = await gql(county.token, query, {"f": {"from": "2020-06-01", "to": "2020-05-01"}, "first": 5})
    assert error_codes(bad) == ["visits.period"]
    bad = await gql(county.token, query, {"f": {"kind": "party"}, "first": 5})
    assert error_codes(bad) == ["validation"]


async def test_latest_visits_are_bounded(gql, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    household = await make_household(db, VILLAGE_A1)
    body = await gql(
        county.token,
        "query ($id: UUID!) { household(id: $id) { visits(latest: 51) { id } } }",
        {"id": str(household.id)},
    )
    assert error_codes(body) == ["visits.invalid_latest"]


async def test_five_coverages_match_rest(gql, client: httpx.AsyncClient, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.INSPECTOR)
    household = await make_household(db, VILLAGE_A1, members=3, housing_safety_grade="C")
    plan = await make_plan(db, household)
    await make_measure(db, plan, category="house_renovation", status="done")
    await make_household(db, VILLAGE_B1, members=2)
    await make_household(db, VILLAGE_A2, status="exited")
    coverages = " ".join(
        f"{name} {{ eligible lacking }}"
        for name in ("education", "medicalInsurance", "houseRenovation", "employment", "photovoltaic")
    )
    query = f"""query ($code: String!, $exited: Boolean!) {{
      fiveCoverages(regionCode: $code, year: 2020, includeExited: $exited) {{
        regionCode name year includeExited households coverages {{ {coverages} }}
        children {{ regionCode name households coverages {{ {coverages} }} }} }} }}"""
    for exited in (False, True):
        body = await gql(county.token, query, {"code": COUNTY, "exited": exited})
        assert "errors" not in body, body
        found = body["data"]["fiveCoverages"]
        rest = (
            await client.get(
                f"/api/v1/regions/{COUNTY}/five-coverages",
                params={"year": 2020, "include_exited": str(exited).lower()},
                headers=county.headers,
            )
        ).json()

        def snake(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
            return {"".join("_" + c.lower() if c.isupper() else c for c in k): v for k, v in counts.items()}

        assert (found["households"], found["includeExited"]) == (rest["households"], exited)
        assert snake(found["coverages"]) == rest["coverages"]
        assert [(c["regionCode"], c["households"], snake(c["coverages"])) for c in found["children"]] == [
            (c["region_code"], c["households"], c["coverages"]) for c in rest["children"]
        ]
    assert found["coverages"]["houseRenovation"] == {"eligible": 1, "lacking": 0}
    bad = await gql(
        county.token, query.replace("year: 2020", "year: 1999"), {"code": COUNTY, "exited": False}
    )
    assert error_codes(bad) == ["validation"]
