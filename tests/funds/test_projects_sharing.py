"""Income sharing (分红): a batch of disbursements from a project's account to its beneficiary households
through the ledger, exact to the fen, never paid twice."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.db.models import FundAccount
from app.db.session import Database
from app.settings import Settings
from tests.conftest import COUNTY, TOWNSHIP_A, assert_problem
from tests.funds.test_projects_helpers import PROJECTS, advance, build_ledger

pytestmark = pytest.mark.usefixtures("tree")


async def balances(db: Database) -> dict[str, int]:
    async with db.sessionmaker() as s:
        rows = (await s.scalars(select(FundAccount))).all()  # scope: test
    return {row.natural_key: row.balance_fen for row in rows}


async def test_income_is_shared_out_once_per_key_and_adds_up(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    scenario = await build_ledger(db, settings)
    project_id = str(scenario.project.id)
    county = await account_factory(COUNTY, "county_officer")
    finance = await account_factory(COUNTY, "finance_officer")
    url = f"{PROJECTS}/{project_id}/income-sharing"
    body = {"amount": "100.01", "fiscal_year": 2020, "document_number": "秦扶发〔2020〕30号"}
    headers = {**finance.headers, "Idempotency-Key": "share-2020-1"}
    # Not yet built: no income to share.
    assert_problem(await client.post(url, headers=headers, json=body), 422, "income_sharing.project_status")
    await advance(client, county, project_id, "under_construction", "completed")
    assert_problem(await client.post(url, headers=headers, json=body), 422, "income_sharing.no_beneficiaries")
    added = await client.post(
        f"{PROJECTS}/{project_id}/beneficiaries",
        headers=county.headers,
        json={"households": [{"household_id": str(h.id)} for h in scenario.households]},
    )
    assert added.status_code == 200, added.text
    assert_problem(
        await client.post(url, headers=finance.headers, json=body),
        422,
        "income_sharing.idempotency_key_required",
    )
    assert_problem(await client.post(url, headers={**county.headers, "Idempotency-Key": "k"}, json=body), 403)
    before = await balances(db)
    response = await client.post(url, headers=headers, json=body)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["households"] == 2
    assert sorted(payment["amount"] for payment in result["payments"]) == ["50.00", "50.01"]
    assert {payment["status"] for payment in result["payments"]} == {"posted"}
    after = await balances(db)
    project_key = f"project:{project_id}"
    assert before[project_key] - after[project_key] == 10001
    for household in scenario.households:
        key = f"household:{household.id}"
        assert after[key] - before.get(key, 0) in (5000, 5001)
    assert sum(after.values()) == sum(before.values())  # money moved, none created or lost
    # The same key again: the same payments, nothing moves.
    again = await client.post(url, headers=headers, json=body)
    assert again.status_code == 201, again.text
    assert {p["transfer_id"] for p in again.json()["payments"]} == {
        p["transfer_id"] for p in result["payments"]
    }
    assert await balances(db) == after
    project = (await client.get(f"{PROJECTS}/{project_id}", headers=county.headers)).json()
    assert project["income_shared"] == "100.01"
    # The same key with another amount is refused and moves nothing.
    assert_problem(
        await client.post(url, headers=headers, json={**body, "amount": "80.00"}),
        422,
        "transfer.idempotency_key_reused",
    )
    assert await balances(db) == after
    # More than the project holds: refused, all or nothing.
    too_much = await client.post(
        url,
        headers={**finance.headers, "Idempotency-Key": "share-2020-2"},
        json={**body, "amount": "1000.00"},
    )
    assert_problem(too_much, 409, "transfer.insufficient_funds")
    assert await balances(db) == after


async def test_weights_decide_the_shares(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    scenario = await build_ledger(db, settings)
    project_id = str(scenario.project.id)
    county = await account_factory(COUNTY, "county_officer")
    patched = await client.patch(
        f"{PROJECTS}/{project_id}",
        headers={**county.headers, "If-Match": "*"},
        json={"income_sharing_basis": "by_weight"},
    )
    assert patched.status_code == 200, patched.text
    await advance(client, county, project_id, "under_construction", "completed", "accepted")
    h, h2 = scenario.households
    response = await client.post(
        f"{PROJECTS}/{project_id}/beneficiaries",
        headers=county.headers,
        json={"households": [{"household_id": str(h.id), "share_weight": 3}, {"household_id": str(h2.id)}]},
    )
    assert response.status_code == 200, response.text
    finance = await account_factory(TOWNSHIP_A, "finance_officer")
    result = await client.post(
        f"{PROJECTS}/{project_id}/income-sharing",
        headers={**finance.headers, "Idempotency-Key": "w-1"},
        json={"amount": "40.00", "fiscal_year": 2020, "document_number": "兴政发〔2020〕3号"},
    )
    assert result.status_code == 201, result.text
    amounts = {p["household_id"]: p["amount"] for p in result.json()["payments"]}
    assert amounts == {str(h.id): "30.00", str(h2.id): "10.00"}
