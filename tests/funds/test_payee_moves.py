"""A household's payee account follows the household to another village (HOUSEHOLD_ROWS): the new village
sees it, the old one no longer does, its balance and history are untouched, and the ledger stays
consistent. Its entries and the transfers that paid it keep the region they were posted in (history)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from app.db.models import FundEntry, ProjectBeneficiary
from app.db.session import Database
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, Account
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
)
from tests.households.registry_helpers import HOUSEHOLDS, with_etag


@pytest.fixture
async def people(tree: dict[str, str], account_factory) -> Officers:  # type: ignore[no-untyped-def]
    return await officers(account_factory)


@pytest.fixture
async def registrar(tree: dict[str, str], account_factory) -> Account:  # type: ignore[no-untyped-def]
    account: Account = await account_factory(COUNTY, "county_officer")
    return account


async def _move(client: httpx.AsyncClient, who: Account, household_id: str, village: str) -> None:
    response = await client.patch(
        f"{HOUSEHOLDS}/{household_id}", headers=with_etag(who, "*"), json={"region_code": village}
    )
    assert response.status_code == 200, response.text
    assert response.json()["region_code"] == village


async def test_a_households_payee_account_moves_with_it_to_another_village(
    client: httpx.AsyncClient, db: Database, people: Officers, registrar: Account, account_factory
) -> None:  # type: ignore[no-untyped-def]
    await fund_county(client, people.county, "1000.00")
    await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "500.00"))
    await ok(client, people.township, body("allocation", pool(TOWNSHIP_A), pool(VILLAGE_A1), "300.00"))
    household = await make_household(db, VILLAGE_A1)
    paid = await ok(
        client,
        people.village,
        body("disbursement", pool(VILLAGE_A1), {"household_id": str(household.id)}, "120.50"),
    )
    payee_id = paid["credit_account_id"]

    await _move(client, registrar, str(household.id), VILLAGE_A2)

    new_village = await account_factory(VILLAGE_A2, "finance_officer")
    moved = await account(client, new_village, payee_id)
    assert (moved["region_code"], moved["balance"], moved["household_id"]) == (
        VILLAGE_A2,
        "120.50",
        str(household.id),
    )
    # The old village no longer sees the account (out of scope is not found), the township sees both.
    assert (await client.get(f"{ACCOUNTS}/{payee_id}", headers=people.village.headers)).status_code == 404
    assert (await account(client, people.township, payee_id))["region_code"] == VILLAGE_A2
    listed = await client.get(ACCOUNTS, headers=new_village.headers, params={"kind": "payee"})
    assert [item["id"] for item in listed.json()["items"]] == [payee_id]

    # History stays where it was posted: the payment and its entries belong to the old village.
    transfer = await client.get(f"{TRANSFERS}/{paid['id']}", headers=people.township.headers)
    assert transfer.json()["region_code"] == VILLAGE_A1
    async with db.sessionmaker() as session:
        entry_regions = set(
            (
                await session.scalars(
                    select(FundEntry.region_code).where(FundEntry.transfer_id == uuid.UUID(paid["id"]))
                )
            ).all()
        )
    assert entry_regions == {VILLAGE_A1}

    # Money keeps moving from the new village: the payment is reversed by the township above both villages.
    reversal = await client.post(
        f"{TRANSFERS}/{paid['id']}/reverse",
        headers={**people.township.headers, "Idempotency-Key": "undo-after-move"},
        json={"document_number": "更正〔2020〕2号", "purpose": "错发"},
    )
    assert reversal.status_code == 201, reversal.text
    assert (await account(client, new_village, payee_id))["balance"] == "0.00"
    await assert_consistent(db)


async def test_a_households_project_benefits_move_with_it(
    client: httpx.AsyncClient, db: Database, registrar: Account
) -> None:
    household = await make_household(db, VILLAGE_A1)
    project = await make_project(db, TOWNSHIP_A)
    async with db.sessionmaker() as session, session.begin():
        session.add(
            ProjectBeneficiary(
                project_id=project.id,
                household_id=household.id,
                region_code=VILLAGE_A1,
                added_by="user:test",
                added_at=household.created_at,
            )
        )

    await _move(client, registrar, str(household.id), VILLAGE_A2)

    async with db.sessionmaker() as session:
        regions = (await session.scalars(select(ProjectBeneficiary.region_code))).all()
    assert regions == [VILLAGE_A2]
