"""GraphQL over the project library: projects with the REST list's filters and values (money as decimal
strings), their beneficiaries as a paged connection, and DataLoaders whose statement count does not grow
with the number of projects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from app.db.base import utcnow
from app.db.models import ProjectBeneficiary
from app.db.session import Database
from app.domain.principal import Role
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.factories import make_household
from tests.funds.ledger_support import make_project
from tests.funds.test_projects_helpers import enter_project
from tests.graphql.conftest import StatementCounter, error_codes

PROJECT_FIELDS = """
  id regionCode countyCode fiscalYear name category constructionType content location plannedStart plannedEnd
  actualStart actualEnd responsibleUnitId responsibleUnitName budget financing { source amount }
  performanceTargets { kind indicator target } benefitMechanism status acceptsFunds approvalDocument
  approvedBy approvedAt acceptedAt incomeSharingBasis expectedAnnualIncome incomeShared version createdAt
  updatedAt
"""
PROJECTS = """
query ($f: ProjectFilterInput, $first: Int!, $after: String) {
  projects(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      id regionCode status
      region { code }
      beneficiaries(first: 5) { totalCount nodes { householdId regionCode household { id regionCode } } }
    }
  }
}
"""


async def _beneficiaries(db: Database, project: Any, count: int) -> list[Any]:
    households = [await make_household(db, project.region_code) for _ in range(count)]
    async with db.sessionmaker() as session, session.begin():
        for n, household in enumerate(households):
            session.add(
                ProjectBeneficiary(
                    project_id=project.id,
                    household_id=household.id,
                    region_code=household.region_code,
                    share_weight=n + 1,
                    added_by="user:test",
                    added_at=utcnow(),
                )
            )
    return households


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


async def test_project_matches_rest(gql, client: httpx.AsyncClient, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    entered = await enter_project(client, county, VILLAGE_A1)
    body = await gql(
        county.token,
        f"query ($id: UUID!) {{ project(id: $id) {{ {PROJECT_FIELDS} }} }}",
        {"id": entered["id"]},
    )
    assert "errors" not in body, body
    found = body["data"]["project"]
    rest = (await client.get(f"/api/v1/projects/{entered['id']}", headers=county.headers)).json()
    for name, value in found.items():
        expected = rest[_snake(name)]
        if name.endswith("At") and expected is not None:  # the same instant, however the offset is written
            value, expected = datetime.fromisoformat(value), datetime.fromisoformat(expected)
        assert value == expected, name
    assert found["budget"] == "800000.00"
    assert found["financing"][0] == {"source": "central", "amount": "500000.00"}


async def test_projects_filters_match_rest(gql, client: httpx.AsyncClient, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    await make_project(db, VILLAGE_A1, status="planned")
    await make_project(db, VILLAGE_A2, status="approved")
    await make_project(db, TOWNSHIP_A, status="completed")
    await make_project(db, VILLAGE_B1, status="approved")
    cases = [
        ({}, {}),
        ({"status": "approved"}, {"status": "approved"}),
        ({"region": TOWNSHIP_A}, {"region": TOWNSHIP_A}),
        ({"category": "photovoltaic", "fiscalYear": 2020}, {"category": "photovoltaic", "fiscal_year": 2020}),
        ({"fiscalYear": 2019}, {"fiscal_year": 2019}),
    ]
    for graphql_filter, params in cases:
        body = await gql(county.token, PROJECTS, {"f": graphql_filter, "first": 100})
        assert "errors" not in body, body
        rest = (await client.get("/api/v1/projects", params=params, headers=county.headers)).json()["items"]
        nodes = body["data"]["projects"]["nodes"]
        assert [n["id"] for n in nodes] == [item["id"] for item in rest], graphql_filter
        assert body["data"]["projects"]["totalCount"] == len(rest)
    page = await gql(county.token, PROJECTS, {"f": {}, "first": 3})
    assert page["data"]["projects"]["pageInfo"]["hasNextPage"] is True
    after = page["data"]["projects"]["pageInfo"]["endCursor"]
    rest_page = await gql(county.token, PROJECTS, {"f": {}, "first": 3, "after": after})
    assert len(rest_page["data"]["projects"]["nodes"]) == 1
    bad = await gql(county.token, PROJECTS, {"f": {"status": "dreamt", "fiscalYear": 1800}, "first": 3})
    assert error_codes(bad) == ["validation"]
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    outside = await gql(clerk.token, PROJECTS, {"f": {"region": VILLAGE_A2}, "first": 3})
    assert error_codes(outside) == ["region.not_found"]


async def test_beneficiaries_paged_like_rest(
    gql, client: httpx.AsyncClient, tree, account_factory, db
) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    project = await make_project(db, VILLAGE_A1)
    await _beneficiaries(db, project, 7)
    query = """query ($id: UUID!, $after: String) { project(id: $id) {
      beneficiaries(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node {
          householdId householdNumber regionCode householdStatus shareWeight addedAt } } } } }"""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        body = await gql(county.token, query, {"id": str(project.id), "after": after})
        connection = body["data"]["project"]["beneficiaries"]
        assert connection["totalCount"] == 7
        seen += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    rest = (
        await client.get(
            f"/api/v1/projects/{project.id}/beneficiaries", params={"limit": 100}, headers=county.headers
        )
    ).json()["items"]
    assert [(n["householdId"], n["shareWeight"], n["householdNumber"]) for n in seen] == [
        (i["household_id"], i["share_weight"], i["household_number"]) for i in rest
    ]


async def test_project_statements_do_not_grow(gql, app, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    first = await make_project(db, VILLAGE_A1)
    await _beneficiaries(db, first, 2)
    with StatementCounter(app.state.database) as one:
        body = await gql(county.token, PROJECTS, {"f": {}, "first": 100})
    assert len(body["data"]["projects"]["nodes"]) == 1
    for n in range(29):
        project = await make_project(db, (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1)[n % 3])
        await _beneficiaries(db, project, 1 + n % 3)
    with StatementCounter(app.state.database) as many:
        body = await gql(county.token, PROJECTS, {"f": {}, "first": 100})
    nodes = body["data"]["projects"]["nodes"]
    assert len(nodes) == 30
    assert all(n["beneficiaries"]["totalCount"] == len(n["beneficiaries"]["nodes"]) >= 1 for n in nodes)
    assert all(b["household"]["id"] == b["householdId"] for n in nodes for b in n["beneficiaries"]["nodes"])
    assert one.count > 3, one.statements  # the counter sees the app's statements
    assert many.count == one.count, (one.statements, many.statements)


async def test_household_projects_and_accounts(gql, tree, account_factory, db) -> None:
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    project = await make_project(db, VILLAGE_A1)
    (household,) = await _beneficiaries(db, project, 1)
    body = await gql(
        clerk.token,
        "query ($id: UUID!) { household(id: $id) { projects { id regionCode } fundAccounts { id } } }",
        {"id": str(household.id)},
    )
    assert body["data"]["household"] == {
        "projects": [{"id": str(project.id), "regionCode": VILLAGE_A1}],
        "fundAccounts": [],
    }
