"""Two-step approval above a region's threshold (funds reserved while pending, posted by a second person or
released by a rejection), and reversals: who may, what they move, and each refusal's code."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.db.base import utcnow
from app.db.models import RegionSetting
from app.db.session import Database
from app.domain.funds.settings import APPROVAL_THRESHOLD
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, assert_problem
from tests.factories import make_household
from tests.funds.ledger_support import (
    ACCOUNTS,
    TRANSFERS,
    Officers,
    account,
    assert_consistent,
    body,
    fund_county,
    officers,
    ok,
    pool,
    pool_account,
    send,
)


async def set_threshold(db: Database, region: str, yuan: int) -> None:
    async with db.sessionmaker() as session, session.begin():
        session.add(
            RegionSetting(
                region_code=region,
                key=APPROVAL_THRESHOLD,
                value=yuan,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )


@pytest.fixture
async def people(client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory) -> Officers:  # type: ignore[no-untyped-def]
    people = await officers(account_factory)
    await fund_county(client, people.county, "1000.00")
    await set_threshold(db, COUNTY, 100)  # above 100 yuan out of the county's accounts: two people
    return people


async def _decide(
    client: httpx.AsyncClient, who, transfer_id: str, action: str, note: str | None = None
) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await client.post(
        f"{TRANSFERS}/{transfer_id}/{action}", headers=who.headers, json={"note": note} if note else None
    )


async def test_above_the_threshold_a_transfer_waits_with_its_amount_reserved(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    at_threshold = await ok(
        client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.00")
    )
    assert at_threshold["status"] == "posted"
    pending = await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "600.00"))
    assert pending["status"] == "pending"
    assert pending["decided_by_name"] is None
    county = await account(client, people.county, pending["debit_account_id"])
    assert (county["balance"], county["reserved"], county["available"]) == ("900.00", "600.00", "300.00")
    assert county["sources"][0]["reserved"] == "600.00"
    # What is reserved cannot be spent twice.
    short = await send(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "300.01"))
    assert_problem(short, 409, "transfer.insufficient_funds")
    township = await pool_account(client, people.county, TOWNSHIP_A)
    assert township["balance"] == "100.00"
    await assert_consistent(db)

    # The maker cannot approve; a second finance officer does.
    assert_problem(
        await _decide(client, people.county, pending["id"], "approve"), 403, "transfer.own_approval"
    )
    approved = await _decide(client, people.county2, pending["id"], "approve", "同意")
    assert approved.status_code == 200, approved.text
    posted = approved.json()
    assert posted["status"] == "posted"
    assert posted["decided_by_name"] == people.county2.user.username
    assert posted["decision_note"] == "同意"
    county = await account(client, people.county, pending["debit_account_id"])
    assert (county["balance"], county["reserved"]) == ("300.00", "0.00")
    assert (await pool_account(client, people.county, TOWNSHIP_A))["balance"] == "700.00"
    # Decided once: a second decision is a conflict.
    assert_problem(
        await _decide(client, people.county2, pending["id"], "approve"), 409, "transfer.not_pending"
    )
    assert_problem(
        await _decide(client, people.county2, pending["id"], "reject"), 409, "transfer.not_pending"
    )
    await assert_consistent(db)


async def test_a_rejection_releases_the_reservation(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    pending = await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "600.00"))
    rejected = await _decide(client, people.county2, pending["id"], "reject", "材料不全")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    county = await account(client, people.county, pending["debit_account_id"])
    assert (county["balance"], county["reserved"]) == ("1000.00", "0.00")
    assert_problem(
        await _decide(client, people.county2, pending["id"], "approve"), 409, "transfer.not_pending"
    )
    # A maker may withdraw their own pending transfer.
    mine = await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "700.00"))
    assert (await _decide(client, people.county, mine["id"], "reject")).json()["status"] == "rejected"
    entries = await client.get(
        f"{ACCOUNTS}/{pending['debit_account_id']}/entries", headers=people.county.headers
    )
    assert [e["kind"] for e in entries.json()["items"]] == ["appropriation"]
    await assert_consistent(db)


async def test_who_decides_a_pending_transfer(
    client: httpx.AsyncClient, db: Database, people: Officers, account_factory
) -> None:  # type: ignore[no-untyped-def]
    pending = await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "600.00"))
    # The township sees the transfer (it reaches into it) but may not decide on the county's money.
    assert (
        await client.get(f"{TRANSFERS}/{pending['id']}", headers=people.township.headers)
    ).status_code == 200
    assert_problem(
        await _decide(client, people.township, pending["id"], "approve"), 403, "transfer.decision_scope"
    )
    # The village does not see it at all.
    assert_problem(
        await _decide(client, people.village, pending["id"], "approve"), 404, "fund_transfer.not_found"
    )
    # Roles without FUNDS_APPROVE.
    officer = await account_factory(COUNTY, "county_officer")
    assert_problem(await _decide(client, officer, pending["id"], "approve"), 403, "auth.forbidden")
    assert_problem(await _decide(client, officer, pending["id"], "reject"), 403, "auth.forbidden")
    assert_problem(
        await _decide(client, people.county2, str(uuid.uuid4()), "approve"), 404, "fund_transfer.not_found"
    )
    assert (await _decide(client, people.county2, pending["id"], "approve")).status_code == 200


async def test_the_threshold_is_the_debit_regions(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.00"))
    # The township keeps the default (the county's 100 applies below it too) unless it sets its own.
    await set_threshold(db, TOWNSHIP_A, 1000)
    made = await ok(client, people.township, body("allocation", pool(TOWNSHIP_A), pool(VILLAGE_A1), "60.00"))
    assert made["status"] == "posted"
    await set_threshold(db, VILLAGE_A1, 0)  # every transfer from the village waits
    waiting = await ok(client, people.village, body("recovery", pool(VILLAGE_A1), pool(TOWNSHIP_A), "0.01"))
    assert waiting["status"] == "pending"


# Reversals -----------------------------------------------------------------------------------------------


async def _reverse(
    client: httpx.AsyncClient, who, transfer_id: str, key: str | None = None
) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await client.post(
        f"{TRANSFERS}/{transfer_id}/reverse",
        headers={**who.headers, "Idempotency-Key": key or str(uuid.uuid4())},
        json={"document_number": "更正〔2020〕2号", "purpose": "金额有误"},
    )


async def test_a_reversal_moves_the_same_split_back_once(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    await fund_county(client, people.county, "50.00", "donation")
    made = await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "1050.00"))
    assert made["status"] == "pending"
    assert_problem(await _reverse(client, people.county, made["id"]), 409, "transfer.not_posted")
    await _decide(client, people.county2, made["id"], "approve")
    reversal = await _reverse(client, people.county, made["id"], "r-1")
    assert reversal.status_code == 201, reversal.text
    assert reversal.json()["sources"] == made["sources"]
    assert reversal.json()["status"] == "posted"  # a reversal never waits
    county = await account(client, people.county, made["debit_account_id"])
    assert county["sources"] == [
        {"source": "central", "balance": "1000.00", "reserved": "0.00", "available": "1000.00"},
        {"source": "donation", "balance": "50.00", "reserved": "0.00", "available": "50.00"},
    ]
    # The same key replays; another key is refused: reversed once.
    again = await _reverse(client, people.county, made["id"], "r-1")
    assert again.status_code == 201
    assert again.json()["id"] == reversal.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_problem(await _reverse(client, people.county, made["id"]), 409, "transfer.already_reversed")
    assert_problem(
        await _reverse(client, people.county, reversal.json()["id"]), 422, "transfer.reversal_of_reversal"
    )
    await assert_consistent(db)


async def test_a_reversal_needs_the_money_still_there_and_both_accounts_in_scope(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    down = await ok(client, people.county, body("allocation", pool(COUNTY), pool(VILLAGE_A1), "80.00"))
    household = await make_household(db, VILLAGE_A1)
    await ok(
        client,
        people.village,
        body("disbursement", pool(VILLAGE_A1), {"household_id": str(household.id)}, "50.00"),
    )
    assert_problem(await _reverse(client, people.county, down["id"]), 409, "transfer.insufficient_funds")
    # The village sees the county's allocation but cannot undo it (it may only return money: a recovery).
    assert_problem(await _reverse(client, people.village, down["id"]), 403, "transfer.reversal_scope")
    assert_problem(await _reverse(client, people.township, down["id"]), 403, "transfer.reversal_scope")
    officer_reverse = await client.post(
        f"{TRANSFERS}/{down['id']}/reverse",
        headers={**people.village.headers},
        json={"document_number": "x", "purpose": "y"},
    )
    assert_problem(officer_reverse, 400, "idempotency.key_required")
    await assert_consistent(db)


async def test_an_appropriation_is_reversed_by_the_county(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    listed = (
        await client.get(TRANSFERS, headers=people.county.headers, params={"kind": "appropriation"})
    ).json()
    reversal = await _reverse(client, people.county, listed["items"][0]["id"])
    assert reversal.status_code == 201, reversal.text
    sources = (await client.get(ACCOUNTS, headers=people.county.headers, params={"kind": "source"})).json()
    assert [item["balance"] for item in sources["items"]] == ["0.00"]
    assert (await pool_account(client, people.county, COUNTY))["balance"] == "0.00"
    await assert_consistent(db)
