"""Idempotency-Key: required; the same key and body replay the first response and move nothing; another
body is 422; keys are per caller, kept at least 24 hours, and purged after; the transfer keeps its key
beyond the purge so a late retry still cannot pay twice."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from app.db.base import utcnow
from app.db.models import FundTransfer, IdempotencyKey
from app.db.session import Database
from app.domain.funds import idempotency
from tests.conftest import COUNTY, TOWNSHIP_A, assert_problem
from tests.funds.ledger_support import (
    TRANSFERS,
    Officers,
    assert_consistent,
    body,
    fund_county,
    officers,
    pool,
    pool_account,
    send,
)


@pytest.fixture
async def people(client: httpx.AsyncClient, tree: dict[str, str], account_factory) -> Officers:  # type: ignore[no-untyped-def]
    people = await officers(account_factory)
    await fund_county(client, people.county, "1000.00")
    return people


async def _transfers(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(FundTransfer)) or 0)


async def test_the_same_key_and_body_replay_the_first_response(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    payload = body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.00")
    first = await send(client, people.county, payload, key="k-1")
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    count = await _transfers(db)
    again = await send(client, people.county, payload, key="k-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == f"/api/v1/fund-transfers/{first.json()['id']}"
    assert await _transfers(db) == count
    assert (await pool_account(client, people.county, TOWNSHIP_A))["balance"] == "100.00"
    await assert_consistent(db)


async def test_the_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    await send(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.00"), key="k-2")
    other = await send(
        client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.01"), key="k-2"
    )
    assert_problem(other, 422, "idempotency.key_reused")
    assert (await pool_account(client, people.county, TOWNSHIP_A))["balance"] == "100.00"


async def test_keys_belong_to_their_caller(client: httpx.AsyncClient, db: Database, people: Officers) -> None:
    payload = body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "10.00")
    assert (await send(client, people.county, payload, key="shared")).status_code == 201
    assert (await send(client, people.county2, payload, key="shared")).status_code == 201
    assert (await pool_account(client, people.county, TOWNSHIP_A))["balance"] == "20.00"


async def test_a_refused_request_keeps_no_key(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    payload = body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "2000.00")
    assert_problem(await send(client, people.county, payload, key="k-3"), 409, "transfer.insufficient_funds")
    await fund_county(client, people.county, "1000.00")
    # Judged afresh once the money is there.
    assert (await send(client, people.county, payload, key="k-3")).status_code == 201


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 256])
async def test_a_missing_or_malformed_key_is_refused(
    client: httpx.AsyncClient, db: Database, people: Officers, key: str | None
) -> None:
    headers = dict(people.county.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    response = await client.post(
        TRANSFERS, headers=headers, json=body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "1.00")
    )
    expected = "idempotency.key_required" if key is None else "idempotency.key_invalid"
    assert_problem(response, 400, expected)
    assert (await pool_account(client, people.county, COUNTY))["balance"] == "1000.00"


async def test_keys_are_kept_a_day_then_purged_and_the_transfer_still_refuses_a_second_payment(
    client: httpx.AsyncClient, db: Database, people: Officers
) -> None:
    payload = body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.00")
    first = await send(client, people.county, payload, key="old")
    async with db.sessionmaker() as session, session.begin():
        assert await idempotency.purge(session, timedelta(hours=1)) == 0  # never less than 24 hours
        await session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    async with db.sessionmaker() as session, session.begin():
        assert await idempotency.purge(session) == 2  # this key and the fixture appropriation's
    # The HTTP key is gone; the transfer's own key still makes the retry return the first transfer.
    late = await send(client, people.county, payload, key="old")
    assert late.status_code == 201
    assert late.json()["id"] == first.json()["id"]
    assert (await pool_account(client, people.county, TOWNSHIP_A))["balance"] == "100.00"
    changed = {**payload, "amount": "1.00"}
    assert_problem(await send(client, people.county, changed, key="old"), 422, "idempotency.key_reused")
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        await idempotency.purge(session)
    # Past the purge, the transfer's own key still refuses other terms under the old key.
    assert_problem(
        await send(client, people.county, changed, key="old"), 422, "transfer.idempotency_key_reused"
    )
    await assert_consistent(db)


def test_the_fingerprint_is_the_parsed_body() -> None:
    a = idempotency.fingerprint("POST", "/x", {"a": 1, "b": [1, 2]})
    assert a == idempotency.fingerprint("POST", "/x", {"b": [1, 2], "a": 1})
    assert a != idempotency.fingerprint("POST", "/y", {"a": 1, "b": [1, 2]})
