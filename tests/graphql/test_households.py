"""The household registry over GraphQL: the REST list's filters and order, paging, masking with its audit,
and DataLoaders: the statements of a request do not grow with the number of households."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from app.db.base import utcnow
from app.db.models import AuditEntry, HouseholdEvent, Objection, Publicity
from app.db.session import Database
from app.domain.principal import Role
from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, VILLAGE_B2
from tests.factories import add_income, make_household, verify_indicators
from tests.graphql.conftest import StatementCounter, error_codes

WIDE = """
query($first: Int!) {
  households(first: $first) {
    totalCount
    nodes {
      id regionCode householdNumber phone bankAccount
      region {
        code name parent { name } children { code } ancestors { code } stats(year: 2020) { households }
      }
      members { name idNumber }
      incomes { year netIncome }
      indicators { indicator holds }
      history { action }
    }
  }
}
"""


async def _households(db: Database, count: int) -> list[Any]:
    villages = (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, VILLAGE_B2)
    made = []
    for n in range(count):
        household = await make_household(db, villages[n % len(villages)], members=1 + n % 3)
        await add_income(db, household, 2020, "4100")
        await verify_indicators(db, household)
        made.append(household)
    return made


async def test_statements_do_not_grow_with_households(gql, app, tree, account_factory, db: Database) -> None:  # type: ignore[no-untyped-def]
    await _households(db, 100)
    for account in (
        await account_factory(COUNTY, Role.COUNTY_OFFICER),
        await account_factory(COUNTY, Role.INSPECTOR),  # unmasked: its audit rows too
    ):
        counts = {}
        for first in (1, 100):
            with StatementCounter(app.state.database) as sql:
                body = await gql(account.token, WIDE, {"first": first})
            assert "errors" not in body, body
            nodes = body["data"]["households"]["nodes"]
            assert len(nodes) == first
            assert all(node["members"] and node["incomes"] and len(node["indicators"]) == 6 for node in nodes)
            counts[first] = sql.count
            assert sql.count > 5, sql.statements  # the counter sees the app's statements
        assert counts[1] == counts[100], (account.principal.roles, counts)


async def test_masked_without_the_grant_and_audited_with_it(gql, tree, account_factory, db: Database) -> None:  # type: ignore[no-untyped-def]
    household = await make_household(db, VILLAGE_A1)
    query = "{ households { nodes { id phone bankAccount members { idNumber } } } }"
    officer = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    node = (await gql(officer.token, query))["data"]["households"]["nodes"][0]
    assert node["phone"] == "138****1234"
    assert "*" in node["bankAccount"]
    assert all("*" in member["idNumber"] for member in node["members"])
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(AuditEntry))).all() == []

    for inspector in (
        await account_factory(COUNTY, Role.INSPECTOR),
        await account_factory(COUNTY, Role.COUNTY_OFFICER, has_personal_data_grant=True),
    ):
        node = (await gql(inspector.token, query))["data"]["households"]["nodes"][0]
        assert node["phone"] == "13800001234"
        assert all("*" not in member["idNumber"] for member in node["members"])
        async with db.sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.actor_subject == inspector.principal.subject)
                )
            ).all()
        assert {(row.record_type, tuple(row.fields)) for row in rows} == {
            ("household", ("household.phone",)),
            ("household", ("household.bank_account",)),
            ("member", ("member.id_number",)),
        }
        assert {row.record_id for row in rows if row.record_type == "household"} == {str(household.id)}
        assert all(row.action == "read_personal_data" and row.region_code == VILLAGE_A1 for row in rows)


async def test_no_audit_when_personal_data_is_not_selected(gql, tree, account_factory, db: Database) -> None:  # type: ignore[no-untyped-def]
    await make_household(db, VILLAGE_A1)
    inspector = await account_factory(COUNTY, Role.INSPECTOR)
    body = await gql(inspector.token, "{ households { nodes { id headName members { name } } } }")
    assert "errors" not in body
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(AuditEntry))).all() == []


async def test_filters_and_paging_follow_the_rest_list(
    gql, client, tree, account_factory, db: Database
) -> None:  # type: ignore[no-untyped-def]
    await _households(db, 5)
    await make_household(db, VILLAGE_B1, status="exited", exited_year=2019, head_name="张三丰")
    officer = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    for filters, params in (
        ({"status": "exited"}, {"status": "exited"}),
        ({"region": VILLAGE_A1}, {"region": VILLAGE_A1}),
        ({"q": "张三"}, {"q": "张三"}),
        ({"exitedYear": 2019}, {"exited_year": 2019}),
        ({"cause": "illness", "status": "registered"}, {"cause": "illness", "status": "registered"}),
    ):
        body = await gql(
            officer.token,
            "query($f: HouseholdFilterInput) { households(filter: $f, sort: NUMBER, first: 100) "
            "{ totalCount nodes { id } } }",
            {"f": filters},
        )
        rest = await client.get(
            "/api/v1/households", params={**params, "sort": "number", "limit": 100}, headers=officer.headers
        )
        assert [n["id"] for n in body["data"]["households"]["nodes"]] == [
            i["id"] for i in rest.json()["items"]
        ]
        assert body["data"]["households"]["totalCount"] == len(rest.json()["items"])

    seen: list[str] = []
    after = None
    while True:
        page = (
            await gql(
                officer.token,
                "query($after: String) { households(first: 2, after: $after) "
                "{ pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
                {"after": after},
            )
        )["data"]["households"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if page["edges"]:
            assert page["edges"][-1]["cursor"] == page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    rest = await client.get("/api/v1/households", params={"limit": 100}, headers=officer.headers)
    assert seen == [item["id"] for item in rest.json()["items"]]


async def test_invalid_filters_are_refused_with_field_errors(gql, tree, account_factory) -> None:  # type: ignore[no-untyped-def]
    officer = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    body = await gql(
        officer.token, '{ households(filter: {region: "62x", registeredYear: 1800}) { totalCount } }'
    )
    assert error_codes(body) == ["validation"]
    locs = {tuple(e["loc"]) for e in body["errors"][0]["extensions"]["errors"]}
    assert locs == {("args", "filter", "region"), ("args", "filter", "registered_year")}
    body = await gql(officer.token, "{ households(first: 101) { totalCount } }")
    assert error_codes(body) == ["pagination.invalid_first"]
    body = await gql(officer.token, '{ households(after: "bogus") { totalCount } }')
    assert error_codes(body) == ["pagination.invalid_cursor"]


async def test_household_by_id(gql, tree, account_factory, db: Database) -> None:  # type: ignore[no-untyped-def]
    household = await make_household(db, VILLAGE_A1, members=3)
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    other = await account_factory(VILLAGE_B1, Role.VILLAGE_CLERK)
    query = "query($id: UUID!) { household(id: $id) { headName members { relation } } }"
    body = await gql(clerk.token, query, {"id": str(household.id)})
    assert body["data"]["household"]["headName"] == "王建国"
    assert body["data"]["household"]["members"][0]["relation"] == "head"
    body = await gql(other.token, query, {"id": str(household.id)})
    assert body["data"] is None
    assert error_codes(body) == ["household.not_found"]
    assert body["errors"][0]["message"] == "The household does not exist."


async def test_history_with_publicity_and_objections(gql, tree, account_factory, db: Database) -> None:  # type: ignore[no-untyped-def]
    household = await make_household(db, VILLAGE_A1)
    publicity_id = uuid.uuid4()
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Publicity(
                id=publicity_id,
                household_id=household.id,
                region_code=VILLAGE_A1,
                procedure="exit",
                step="village_publicity",
                level="village",
                starts_on=date(2020, 10, 1),
                ends_on=date(2020, 10, 7),
                created_at=utcnow(),
            )
        )
        await session.flush()
        for n, action in enumerate(("exit_proposed", "exit_publicized")):
            session.add(
                HouseholdEvent(
                    household_id=household.id,
                    region_code=VILLAGE_A1,
                    procedure="exit",
                    action=action,
                    actor_name="村干部",
                    at=datetime(2020, 9, 29 + n, tzinfo=UTC),
                    publicity_id=publicity_id if n else None,
                )
            )
        session.add(
            Objection(
                household_id=household.id,
                publicity_id=publicity_id,
                region_code=VILLAGE_A1,
                raised_on=date(2020, 10, 3),
                content="收入未核实",
                created_at=utcnow(),
            )
        )
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    body = await gql(
        clerk.token,
        "query($id: UUID!) { household(id: $id) { history { action publicity { step endsOn "
        "objections { content status } } } } }",
        {"id": str(household.id)},
    )
    assert body["data"]["household"]["history"] == [
        {"action": "exit_proposed", "publicity": None},
        {
            "action": "exit_publicized",
            "publicity": {
                "step": "village_publicity",
                "endsOn": "2020-10-07",
                "objections": [{"content": "收入未核实", "status": "open"}],
            },
        },
    ]
