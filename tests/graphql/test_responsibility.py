"""GraphQL over the responsibility chain: work units, cadres, assignments and a household's chain — the same
filters, order, masking and audit as REST, and DataLoaders whose statement count does not grow with the
number of assignments."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from app.db.models import AuditEntry
from app.db.session import Database
from app.domain.principal import Role
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.factories import make_household
from tests.graphql.conftest import StatementCounter, error_codes
from tests.responsibility.factories import make_assignment, make_cadre, make_unit

ASSIGNMENTS = """
query ($first: Int!, $after: String, $filter: AssignmentFilterInput) {
  assignments(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id kind regionCode isActive cadreName
      cadre { id name regionCode phone unit { name regionCode } }
      household { id regionCode householdNumber }
    }
  }
}
"""


async def _pairings(db: Database, count: int, region: str = VILLAGE_A1) -> list[Any]:
    unit = await make_unit(db, COUNTY)
    made = []
    for n in range(count):
        cadre = await make_cadre(db, region, name=f"干部{n}", unit_id=unit.id)
        household = await make_household(db, region)
        made.append(
            await make_assignment(db, "pairing", region, cadre_id=cadre.id, household_id=household.id)
        )
    return made


async def test_assignments_list_with_cadres_and_households(gql, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    await _pairings(db, 3)
    await _pairings(db, 1, VILLAGE_B1)
    body = await gql(county.token, ASSIGNMENTS, {"first": 2})
    assert "errors" not in body, body
    page = body["data"]["assignments"]
    assert page["totalCount"] == 4
    assert page["pageInfo"]["hasNextPage"] is True
    nodes = page["nodes"]
    assert [node["regionCode"] for node in nodes] == [VILLAGE_A1, VILLAGE_A1]
    assert all(node["kind"] == "pairing" and node["isActive"] for node in nodes)
    assert nodes[0]["cadre"]["phone"] == "139****1234"
    assert nodes[0]["cadre"]["unit"] == {"name": "县农业农村局", "regionCode": COUNTY}
    assert nodes[0]["household"]["regionCode"] == VILLAGE_A1
    rest = await gql(county.token, ASSIGNMENTS, {"first": 10, "after": page["pageInfo"]["endCursor"]})
    assert [node["regionCode"] for node in rest["data"]["assignments"]["nodes"]] == [VILLAGE_A1, VILLAGE_B1]


async def test_assignment_statements_do_not_grow_with_assignments(
    gql, app, tree, account_factory, db
) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    await _pairings(db, 1)
    with StatementCounter(app.state.database) as one:
        body = await gql(county.token, ASSIGNMENTS, {"first": 100})
    assert len(body["data"]["assignments"]["nodes"]) == 1
    await _pairings(db, 49, VILLAGE_A2)
    with StatementCounter(app.state.database) as fifty:
        body = await gql(county.token, ASSIGNMENTS, {"first": 100})
    assert len(body["data"]["assignments"]["nodes"]) == 50
    assert all(node["cadre"]["unit"] and node["household"] for node in body["data"]["assignments"]["nodes"])
    assert one.count > 3, one.statements  # the counter sees the app's statements
    assert fifty.count == one.count, (one.statements, fifty.statements)


async def test_village_clerk_sees_no_cadre_of_the_county(gql, tree, account_factory, db) -> None:
    """The covering cadre of the county is named on the assignment, not shown as a record."""
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    county_cadre = await make_cadre(db, COUNTY, name="县领导")
    await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=county_cadre.id)
    await make_assignment(db, "village_cover", VILLAGE_A2, cadre_id=county_cadre.id)
    body = await gql(clerk.token, ASSIGNMENTS, {"first": 10})
    nodes = body["data"]["assignments"]["nodes"]
    assert len(nodes) == 1
    assert nodes[0]["cadreName"] == "县领导"
    assert nodes[0]["cadre"] is None
    single = await gql(
        clerk.token, "query ($id: UUID!) { cadre(id: $id) { id } }", {"id": str(county_cadre.id)}
    )
    assert error_codes(single) == ["cadre.not_found"]


async def test_cadre_phone_unmasked_for_inspector_and_audited(gql, tree, account_factory, db) -> None:
    inspector = await account_factory(COUNTY, Role.INSPECTOR)
    cadre = await make_cadre(db, TOWNSHIP_A)
    query = "query ($id: UUID!) { cadre(id: $id) { name phone } }"
    body = await gql(inspector.token, query, {"id": str(cadre.id)})
    assert body["data"]["cadre"] == {"name": "张志强", "phone": "13909381234"}
    async with db.sessionmaker() as session:
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.record_type == "cadre"))).all()
    assert [(e.action, e.record_id, e.fields) for e in entries] == [
        ("read_personal_data", str(cadre.id), ["cadre.phone"])
    ]
    # Not selecting the phone reads nothing personal: nothing more is audited.
    await gql(inspector.token, "query ($id: UUID!) { cadre(id: $id) { name } }", {"id": str(cadre.id)})
    async with db.sessionmaker() as session:
        count = len(
            (await session.scalars(select(AuditEntry).where(AuditEntry.record_type == "cadre"))).all()
        )
    assert count == 1


async def test_filters_match_rest(gql, client: httpx.AsyncClient, tree, account_factory, db) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    unit = await make_unit(db, COUNTY, name="甲企业", kind="enterprise", enterprise_class=2)
    cadre = await make_cadre(db, VILLAGE_A1, rank="section", unit_id=unit.id)
    await make_cadre(db, VILLAGE_A2, rank="general", is_active=False)
    household = await make_household(db, VILLAGE_A1)
    await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=cadre.id, household_id=household.id)
    await make_assignment(db, "pairing", VILLAGE_A1, unit_id=unit.id, household_id=household.id)
    ended = await make_cadre(db, VILLAGE_A1)
    await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=ended.id, ends_on=date(2020, 6, 1))
    cases = [
        ("cadres", "CadreFilterInput", {"rank": "section"}, "/api/v1/cadres", {"rank": "section"}),
        ("cadres", "CadreFilterInput", {"isActive": False}, "/api/v1/cadres", {"is_active": "false"}),
        ("cadres", "CadreFilterInput", {"unitId": str(unit.id)}, "/api/v1/cadres", {"unit_id": str(unit.id)}),
        (
            "workUnits",
            "WorkUnitFilterInput",
            {"kind": "enterprise"},
            "/api/v1/work-units",
            {"kind": "enterprise"},
        ),
        (
            "assignments",
            "AssignmentFilterInput",
            {"active": False},
            "/api/v1/assignments",
            {"active": "false"},
        ),
        (
            "assignments",
            "AssignmentFilterInput",
            {"unit": str(unit.id)},
            "/api/v1/assignments",
            {"unit": str(unit.id)},
        ),
        (
            "assignments",
            "AssignmentFilterInput",
            {"household": str(household.id), "kind": "pairing"},
            "/api/v1/assignments",
            {"household": str(household.id), "kind": "pairing"},
        ),
        (
            "assignments",
            "AssignmentFilterInput",
            {"region": VILLAGE_A2},
            "/api/v1/assignments",
            {"region": VILLAGE_A2},
        ),
    ]
    for field, input_type, graphql_filter, url, params in cases:
        query = (
            f"query ($f: {input_type}) {{ {field}(filter: $f, first: 100) {{ totalCount nodes {{ id }} }} }}"
        )
        body = await gql(county.token, query, {"f": graphql_filter})
        rest = (await client.get(url, params=params, headers=county.headers)).json()["items"]
        assert [node["id"] for node in body["data"][field]["nodes"]] == [item["id"] for item in rest], field
        assert body["data"][field]["totalCount"] == len(rest)


async def test_invalid_filters_are_refused_like_rest(gql, tree, account_factory) -> None:
    county = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    body = await gql(
        county.token,
        '{ assignments(filter: {kind: "boss", region: "6205"}) { nodes { id } } }',
    )
    assert error_codes(body) == ["validation"]
    locs = [error["loc"] for error in body["errors"][0]["extensions"]["errors"]]
    assert sorted(locs) == [["args", "filter", "kind"], ["args", "filter", "region"]]


async def test_responsibility_chain(gql, tree, account_factory, db) -> None:
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    leader = await make_cadre(db, COUNTY, name="县长", rank="county_leader")
    secretary = await make_cadre(db, VILLAGE_A1, name="书记")
    pairing = await make_cadre(db, VILLAGE_A1, name="帮扶人")
    household = await make_household(db, VILLAGE_A1)
    await make_assignment(db, "township_cover", TOWNSHIP_A, cadre_id=leader.id)
    await make_assignment(db, "first_secretary", VILLAGE_A1, cadre_id=secretary.id)
    await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=pairing.id, household_id=household.id)
    query = """query ($id: UUID!) { responsibilityChain(householdId: $id) {
      household { householdNumber } village { code name } township { code name }
      pairings { kind cadre { name phone } } firstSecretary { cadre { name } }
      townshipCover { cadre { name regionCode } } countyLeaders { name regionCode phone }
      hasResponsiblePerson } }"""
    body = await gql(clerk.token, query, {"id": str(household.id)})
    assert "errors" not in body, body
    found = body["data"]["responsibilityChain"]
    assert found["village"] == {"code": VILLAGE_A1, "name": "王家庄村"}
    assert found["pairings"] == [{"kind": "pairing", "cadre": {"name": "帮扶人", "phone": "139****1234"}}]
    assert found["firstSecretary"]["cadre"]["name"] == "书记"
    assert found["townshipCover"][0]["cadre"] == {"name": "县长", "regionCode": COUNTY}
    assert [leader["name"] for leader in found["countyLeaders"]] == ["县长"]
    assert found["hasResponsiblePerson"] is True
    other = await make_household(db, VILLAGE_A2)
    body = await gql(clerk.token, query, {"id": str(other.id)})
    assert error_codes(body) == ["household.not_found"]


async def test_coverage_matches_rest(gql, client: httpx.AsyncClient, tree, account_factory, db) -> None:
    township = await account_factory(TOWNSHIP_A, Role.TOWNSHIP_REVIEWER)
    cadre = await make_cadre(db, VILLAGE_A1, rank="section")
    covered = await make_household(db, VILLAGE_A1)
    await make_household(db, VILLAGE_A1)
    await make_household(db, VILLAGE_A2, status="exited")
    await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=cadre.id, household_id=covered.id)
    counts = (
        "households householdsRegistered householdsExited householdsUncovered villages poorVillages "
        "villagesWithoutFirstSecretary villagesWithoutTeam cadres cadresBelowQuota cadresAboveQuota units "
        "unitsBelowQuota unitsAboveQuota"
    )
    query = f"""query ($code: String!) {{ responsibilityCoverage(regionCode: $code) {{
      regionCode name level totals {{ {counts} }} children {{ regionCode name level counts {{ {counts} }} }}
      rules }} }}"""
    body = await gql(township.token, query, {"code": TOWNSHIP_A})
    assert "errors" not in body, body
    found = body["data"]["responsibilityCoverage"]
    rest = (await client.get(f"/api/v1/regions/{TOWNSHIP_A}/coverage", headers=township.headers)).json()
    assert (found["regionCode"], found["name"], found["level"]) == (
        rest["region"]["code"],
        rest["region"]["name"],
        rest["region"]["level"],
    )
    snake = {name: "".join("_" + c.lower() if c.isupper() else c for c in name) for name in counts.split()}
    assert {snake[k]: v for k, v in found["totals"].items()} == rest["totals"]
    assert found["totals"]["householdsUncovered"] == 2
    assert [(c["regionCode"], {snake[k]: v for k, v in c["counts"].items()}) for c in found["children"]] == [
        (c["region_code"], {key: c[key] for key in snake.values()}) for c in rest["children"]
    ]
    assert found["rules"] == rest["rules"]
    outside = await gql(township.token, query, {"code": VILLAGE_B1})
    assert error_codes(outside) == ["region.not_found"]
