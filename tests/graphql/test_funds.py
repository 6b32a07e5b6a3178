"""GraphQL over the funds ledger: accounts, transfers, entries and the fund report — the same amounts
(decimal strings in yuan), filters and order as REST, scoped relations, and DataLoaders whose statement
count does not grow with the number of transfers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.db.session import Database
from app.domain.funds import ledger
from app.domain.principal import Role
from app.settings import Settings
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2
from tests.funds.test_projects_helpers import build_ledger
from tests.graphql.conftest import StatementCounter, error_codes

TRANSFERS = """
query ($f: FundTransferFilterInput, $first: Int!, $after: String) {
  fundTransfers(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      id kind status amount regionCode debitRegionCode creditRegionCode documentNumber reversesId reversedById
      sources { source amount }
      debitAccount { id regionCode name balance }
      creditAccount { id regionCode kind sources { source balance } }
      reverses { id }
    }
  }
}
"""


def _rest_transfer(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "kind": item["kind"],
        "status": item["status"],
        "amount": item["amount"],
        "regionCode": item["region_code"],
        "documentNumber": item["document_number"],
        "sources": [{"source": s["source"], "amount": s["amount"]} for s in item["sources"]],
    }


async def test_transfers_match_rest(
    gql, client: httpx.AsyncClient, tree, account_factory, db: Database, settings: Settings
) -> None:
    built = await build_ledger(db, settings)
    county = await account_factory(COUNTY, Role.FINANCE_OFFICER)
    cases = [
        ({}, {}),
        ({"kind": "allocation"}, {"kind": "allocation"}),
        ({"status": "pending"}, {"status": "pending"}),
        ({"region": VILLAGE_A1, "fiscalYear": 2020}, {"region": VILLAGE_A1, "fiscal_year": 2020}),
        ({"documentNumber": "秦财农〔2020〕5号"}, {"document_number": "秦财农〔2020〕5号"}),
    ]
    for graphql_filter, params in cases:
        body = await gql(county.token, TRANSFERS, {"f": graphql_filter, "first": 100})
        assert "errors" not in body, body
        rest = (await client.get("/api/v1/fund-transfers", params=params, headers=county.headers)).json()
        found = body["data"]["fundTransfers"]
        keys = ("id", "kind", "status", "amount", "regionCode", "documentNumber", "sources")
        assert [{k: n[k] for k in keys} for n in found["nodes"]] == [_rest_transfer(i) for i in rest["items"]]
        assert found["totalCount"] == len(rest["items"])
    reversal = str(built.transfers["to_b_reversed"].id)
    original = str(built.transfers["to_b"].id)
    body = await gql(county.token, TRANSFERS, {"f": {"kind": "reversal"}, "first": 10})
    (node,) = body["data"]["fundTransfers"]["nodes"]
    assert node["id"] == reversal
    assert node["reversesId"] == original
    assert node["reverses"] == {"id": original}
    single = await gql(
        county.token,
        "query ($id: UUID!) { fundTransfer(id: $id) { reversedById reversedBy { id } } }",
        {"id": original},
    )
    assert single["data"]["fundTransfer"] == {"reversedById": reversal, "reversedBy": {"id": reversal}}
    rest = (await client.get(f"/api/v1/fund-transfers/{original}", headers=county.headers)).json()
    assert rest["reversed_by_id"] == reversal


async def test_village_sees_its_transfers_not_the_county_pool(
    gql, tree, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    clerk = await account_factory(VILLAGE_A2, Role.VILLAGE_CLERK)
    body = await gql(clerk.token, TRANSFERS, {"f": {}, "first": 100})
    nodes = body["data"]["fundTransfers"]["nodes"]
    assert {n["regionCode"] for n in nodes} == {VILLAGE_A2}
    # to_a2 (township A's pool → A2's pool) and back_a2 (A2 → the county's pool): the pools above are null.
    assert sorted(n["amount"] for n in nodes) == ["100.00", "30.00"]
    for node in nodes:
        above = node["debitAccount"] if node["creditRegionCode"] == VILLAGE_A2 else node["creditAccount"]
        assert above is None
    denied = await gql(
        clerk.token, "query ($id: UUID!) { fundTransfer(id: $id) { id } }", {"id": str(uuid.uuid4())}
    )
    assert error_codes(denied) == ["fund_transfer.not_found"]


async def test_account_with_sources_and_entries(
    gql, client: httpx.AsyncClient, tree, account_factory, db: Database, settings: Settings
) -> None:
    built = await build_ledger(db, settings)
    finance = await account_factory(COUNTY, Role.FINANCE_OFFICER)
    async with db.sessionmaker() as s:
        pool = (await ledger.account_for_region(s, built.finance, VILLAGE_A1)).id
    query = """query ($id: UUID!, $after: String, $year: Int) { fundAccount(id: $id) {
      id kind regionCode name source projectId payeeKind householdId contractorCode balance reserved available
      createdAt sources { source balance reserved available } region { code } project { id } household { id }
      entries(first: 3, after: $after, fiscalYear: $year) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id transferId accountId regionCode source amount fiscalYear postedAt kind documentNumber
          transfer { id } } } } }"""
    body = await gql(finance.token, query, {"id": str(pool)})
    assert "errors" not in body, body
    found = body["data"]["fundAccount"]
    rest = (await client.get(f"/api/v1/fund-accounts/{pool}", headers=finance.headers)).json()
    assert (found["balance"], found["reserved"], found["available"]) == (
        rest["balance"],
        rest["reserved"],
        rest["available"],
    )
    assert found["sources"] == [
        {k: s[k] for k in ("source", "balance", "reserved", "available")} for s in rest["sources"]
    ]
    entries = (await client.get(f"/api/v1/fund-accounts/{pool}/entries", headers=finance.headers)).json()
    assert found["entries"]["totalCount"] == len(entries["items"])
    seen = list(found["entries"]["nodes"])
    after = found["entries"]["pageInfo"]["endCursor"]
    while found["entries"]["pageInfo"]["hasNextPage"]:
        found = (await gql(finance.token, query, {"id": str(pool), "after": after}))["data"]["fundAccount"]
        seen += found["entries"]["nodes"]
        after = found["entries"]["pageInfo"]["endCursor"]
    assert [(e["id"], e["amount"], e["kind"]) for e in seen] == [
        (i["id"], i["amount"], i["kind"]) for i in entries["items"]
    ]
    assert len(seen) > 3  # paged through
    other_year = await gql(finance.token, query, {"id": str(pool), "year": 2019})
    assert other_year["data"]["fundAccount"]["entries"]["totalCount"] == 0
    project = await gql(
        finance.token,
        "query ($id: UUID!) { project(id: $id) { account { kind projectId balance } } }",
        {"id": str(built.project.id)},
    )
    assert project["data"]["project"]["account"] == {
        "kind": "project",
        "projectId": str(built.project.id),
        "balance": "150.00",
    }


async def test_accounts_list_matches_rest(
    gql, client: httpx.AsyncClient, tree, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    township = await account_factory(TOWNSHIP_A, Role.FINANCE_OFFICER)
    query = """query ($f: FundAccountFilterInput) { fundAccounts(filter: $f, first: 100) {
      totalCount nodes { id regionCode balance } } }"""
    for graphql_filter, params in (
        ({}, {}),
        ({"kind": "payee"}, {"kind": "payee"}),
        ({"region": VILLAGE_A2}, {"region": VILLAGE_A2}),
    ):
        body = await gql(township.token, query, {"f": graphql_filter})
        rest = (await client.get("/api/v1/fund-accounts", params=params, headers=township.headers)).json()
        assert [(n["id"], n["balance"]) for n in body["data"]["fundAccounts"]["nodes"]] == [
            (i["id"], i["balance"]) for i in rest["items"]
        ]
        assert body["data"]["fundAccounts"]["totalCount"] == len(rest["items"])
    bad = await gql(township.token, query, {"f": {"kind": "piggy_bank"}})
    assert error_codes(bad) == ["validation"]


async def test_transfer_statements_do_not_grow(
    gql, app, tree, account_factory, db: Database, settings: Settings
) -> None:
    built = await build_ledger(db, settings)
    finance = await account_factory(COUNTY, Role.FINANCE_OFFICER)
    # The reversal: one transfer with every relation (its original included) to load.
    one_filter = {"f": {"kind": "reversal"}, "first": 100}
    with StatementCounter(app.state.database) as one:
        body = await gql(finance.token, TRANSFERS, one_filter)
    assert len(body["data"]["fundTransfers"]["nodes"]) == 1
    with StatementCounter(app.state.database) as many:
        body = await gql(finance.token, TRANSFERS, {"f": {}, "first": 100})
    nodes = body["data"]["fundTransfers"]["nodes"]
    assert len(nodes) == len(built.transfers)
    assert all(n["debitAccount"] and n["creditAccount"] for n in nodes)
    assert one.count > 3, one.statements  # the counter sees the app's statements
    assert many.count == one.count, (one.statements, many.statements)


async def test_fund_report_matches_rest(
    gql, client: httpx.AsyncClient, tree, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    county = await account_factory(COUNTY, Role.DATA_CONSUMER)
    figures = (
        "received allocatedOn disbursed returned sentDown reserved balance balanceRatio disbursementProgress"
    )
    query = f"""query ($code: String!, $year: Int!) {{ fundReport(regionCode: $code, fiscalYear: $year) {{
      regionCode name fiscalYear total {{ {figures} }} ownLevel {{ {figures} }}
      bySource {{ source figures {{ {figures} }} }} byCategory {{ category figures {{ {figures} }} }}
      children {{ regionCode name figures {{ {figures} }} }} }} }}"""
    body = await gql(county.token, query, {"code": TOWNSHIP_A, "year": 2020})
    assert "errors" not in body, body
    found = body["data"]["fundReport"]
    rest = (
        await client.get(
            f"/api/v1/regions/{TOWNSHIP_A}/fund-report", params={"fiscal_year": 2020}, headers=county.headers
        )
    ).json()

    def same(graph: dict[str, Any], document: dict[str, Any]) -> None:
        for name in ("received", "allocated_on", "disbursed", "returned", "sent_down", "reserved", "balance"):
            camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
            assert graph[camel] == document[name], name
        for name, camel in (
            ("balance_ratio", "balanceRatio"),
            ("disbursement_progress", "disbursementProgress"),
        ):
            assert graph[camel] == (None if document[name] is None else float(document[name])), name

    same(found["total"], rest["total"])
    same(found["ownLevel"], rest["own_level"])
    assert [c["regionCode"] for c in found["children"]] == [c["region_code"] for c in rest["children"]]
    for graph, document in zip(found["children"], rest["children"], strict=True):
        same(graph["figures"], document)
    assert [s["source"] for s in found["bySource"]] == [s["source"] for s in rest["by_source"]]
    assert [c["category"] for c in found["byCategory"]] == [c["category"] for c in rest["by_category"]]
    outside = await gql(county.token, query, {"code": "620521000000", "year": 2020})
    assert error_codes(outside) == ["region.not_found"]
    bad = await gql(county.token, query, {"code": "6205", "year": 1990})
    assert error_codes(bad) == ["validation"]
