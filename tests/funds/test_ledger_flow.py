"""The ledger through HTTP: money traced from a central appropriation down to a household's payment and back,
balances split by source, entries, lists and filters; the consistency proof holds after every test."""

from __future__ import annotations

import httpx
import pytest

from app.db.session import Database
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, assert_problem
from tests.factories import make_household
from tests.funds.ledger_support import (
    ACCOUNTS,
    TRANSFERS,
    Officers,
    account,
    assert_consistent,
    body,
    fund_county,
    make_project,
    officers,
    ok,
    pool,
    pool_account,
    source,
)


@pytest.fixture
async def people(tree: dict[str, str], account_factory) -> Officers:  # type: ignore[no-untyped-def]
    return await officers(account_factory)


async def test_money_flows_from_central_to_a_household_and_back(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    appropriation = await ok(
        client,
        people.county,
        body("appropriation", source("central"), pool(COUNTY), "1000.00", category="general"),
    )
    assert appropriation["status"] == "posted"
    assert appropriation["sources"] == [{"source": "central", "amount": "1000.00"}]
    assert appropriation["decided_by_name"] == people.county.user.username  # posted at once: its own approver
    await ok(client, people.county, body("appropriation", source("county"), pool(COUNTY), "500.00"))
    to_township = await ok(
        client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "1200.00")
    )
    # Central money is spent first: 1000 central + 200 county.
    assert to_township["sources"] == [
        {"source": "central", "amount": "1000.00"},
        {"source": "county", "amount": "200.00"},
    ]
    assert to_township["region_code"] == TOWNSHIP_A
    await ok(client, people.township, body("allocation", pool(TOWNSHIP_A), pool(VILLAGE_A1), "300.00"))
    household = await make_household(db, VILLAGE_A1)
    paid = await ok(
        client,
        people.village,
        body(
            "disbursement",
            pool(VILLAGE_A1),
            {"household_id": str(household.id)},
            "120.50",
            category="education",
        ),
    )
    assert paid["amount"] == "120.50"
    assert paid["sources"] == [{"source": "central", "amount": "120.50"}]

    payee = await account(client, people.village, paid["credit_account_id"])
    assert payee["kind"] == "payee"
    assert payee["payee_kind"] == "household"
    assert payee["balance"] == "120.50"
    assert payee["region_code"] == VILLAGE_A1
    village_pool = await pool_account(client, people.village, VILLAGE_A1)
    assert village_pool["balance"] == "179.50"
    county_pool = await account(
        client, people.county, (await pool_account(client, people.county, COUNTY))["id"]
    )
    assert county_pool["balance"] == "300.00"
    assert county_pool["sources"] == [
        {"source": "county", "balance": "300.00", "reserved": "0.00", "available": "300.00"}
    ]

    # Back up: the village returns 79.50 to the township (收回), then the payment is reversed.
    back = await ok(client, people.village, body("recovery", pool(VILLAGE_A1), pool(TOWNSHIP_A), "79.50"))
    assert back["region_code"] == VILLAGE_A1  # seen by the village that made it
    reversal = await client.post(
        f"{TRANSFERS}/{paid['id']}/reverse",
        headers={**people.village.headers, "Idempotency-Key": "undo-1"},
        json={"document_number": "更正〔2020〕1号", "purpose": "错发"},
    )
    assert reversal.status_code == 201, reversal.text
    assert reversal.json()["kind"] == "reversal"
    assert reversal.json()["reverses_id"] == paid["id"]
    original = (await client.get(f"{TRANSFERS}/{paid['id']}", headers=people.village.headers)).json()
    assert original["reversed_by_id"] == reversal.json()["id"]
    assert (await account(client, people.village, paid["credit_account_id"]))["balance"] == "0.00"
    assert (await pool_account(client, people.village, VILLAGE_A1))["balance"] == "220.50"

    # The payment's trail: the entries of the household's account.
    entries = (
        await client.get(f"{ACCOUNTS}/{paid['credit_account_id']}/entries", headers=people.village.headers)
    ).json()
    assert [(e["kind"], e["amount"]) for e in entries["items"]] == [
        ("disbursement", "120.50"),
        ("reversal", "-120.50"),
    ]
    # The source account is the only one below zero: minus what it paid in.
    central = await client.get(ACCOUNTS, headers=people.county.headers, params={"kind": "source"})
    assert sorted(item["balance"] for item in central.json()["items"]) == ["-1000.00", "-500.00"]
    await assert_consistent(db)


async def test_transfers_list_filters(client: httpx.AsyncClient, db: Database, people: Officers) -> None:
    await fund_county(client, people.county, "1000.00")
    await ok(
        client,
        people.county,
        body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.00", document_number="A1"),
    )
    await ok(
        client, people.county, body("allocation", pool(COUNTY), pool(VILLAGE_A2), "50.00", fiscal_year=2021)
    )

    async def ids(who, **params) -> list[str]:  # type: ignore[no-untyped-def]
        response = await client.get(TRANSFERS, headers=who.headers, params=params)
        assert response.status_code == 200, response.text
        return [item["amount"] for item in response.json()["items"]]

    assert await ids(people.county) == ["1000.00", "100.00", "50.00"]
    assert await ids(people.county, kind="allocation") == ["100.00", "50.00"]
    assert await ids(people.county, fiscal_year=2021) == ["50.00"]
    assert await ids(people.county, document_number="A1") == ["100.00"]
    assert await ids(people.county, region=TOWNSHIP_A) == ["100.00", "50.00"]
    assert await ids(people.county, status="pending") == []
    township_pool = await pool_account(client, people.county, TOWNSHIP_A)
    assert await ids(people.county, account_id=township_pool["id"]) == ["100.00"]
    # Scope: the township sees what reaches into it, the village sees nothing of it.
    assert await ids(people.township) == ["100.00", "50.00"]
    assert await ids(people.village) == []
    # Paging by cursor.
    first = (await client.get(TRANSFERS, headers=people.county.headers, params={"limit": 2})).json()
    second = (
        await client.get(
            TRANSFERS, headers=people.county.headers, params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert "items" in second, second
    assert len(first["items"]) == 2
    assert [i["amount"] for i in second["items"]] == ["50.00"]
    assert second["next_cursor"] is None


async def test_accounts_list_filters_and_scope(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    await fund_county(client, people.county, "1000.00")
    await ok(client, people.county, body("allocation", pool(COUNTY), pool(VILLAGE_A1), "10.00"))
    project = await make_project(db, VILLAGE_A1)
    await ok(
        client, people.county, body("allocation", pool(COUNTY), {"project_id": str(project.id)}, "20.00")
    )
    response = await client.get(ACCOUNTS, headers=people.county.headers)
    kinds = sorted((item["kind"], item["region_code"]) for item in response.json()["items"])
    assert kinds == [("pool", COUNTY), ("pool", VILLAGE_A1), ("project", VILLAGE_A1), ("source", COUNTY)]
    by_project = await client.get(
        ACCOUNTS, headers=people.county.headers, params={"project_id": str(project.id)}
    )
    assert [item["balance"] for item in by_project.json()["items"]] == ["20.00"]
    village = await client.get(ACCOUNTS, headers=people.village.headers)
    assert sorted(item["kind"] for item in village.json()["items"]) == ["pool", "project"]
    outside = await client.get(
        f"{ACCOUNTS}/{(await pool_account(client, people.county, COUNTY))['id']}",
        headers=people.village.headers,
    )
    assert_problem(outside, 404, "fund_account.not_found")
    await assert_consistent(db)


async def test_a_named_source_is_spent_only_from_that_source(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    await fund_county(client, people.county, "100.00", "central")
    await fund_county(client, people.county, "100.00", "donation")
    made = await ok(
        client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "60.00", source="donation")
    )
    assert made["source"] == "donation"
    assert made["sources"] == [{"source": "donation", "amount": "60.00"}]
    short = await client.post(
        TRANSFERS,
        headers={**people.county.headers, "Idempotency-Key": "short"},
        json=body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "60.00", source="donation"),
    )
    assert_problem(short, 409, "transfer.insufficient_funds")
    await assert_consistent(db)
