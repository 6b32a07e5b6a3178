"""The database itself refuses what would break the ledger, whatever the Python code does: balances below
their reservations (CHECK), edited entries, unbalanced or edited postings (triggers); and ``fupin funds
verify`` finds any inconsistency that slips past (here: planted by hand)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from typer.testing import CliRunner

from app.cli import cli
from app.db.session import Database
from app.domain.funds.verify import verify
from app.settings import Settings
from tests.conftest import COUNTY, TEST_SECRET, TOWNSHIP_A
from tests.funds.ledger_support import assert_consistent, body, fund_county, officers, ok, pool, pool_account


@pytest.fixture
async def ledger(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    people = await officers(account_factory)
    await fund_county(client, people.county, "1000.00")
    transfer = await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "100.00"))
    return {
        "transfer": transfer,
        "county": (await pool_account(client, people.county, COUNTY))["id"],
        "township": (await pool_account(client, people.county, TOWNSHIP_A))["id"],
    }


def _id(value: str, db: Database) -> str:
    """A uuid as the database stores it (SQLite: 32 hex digits)."""
    return value if db.engine.dialect.name == "postgresql" else uuid.UUID(value).hex


async def _run(db: Database, statements: tuple[str, ...], params: dict[str, Any]) -> None:
    async with db.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), params)


async def _refused(db: Database, *statements: str, **params: Any) -> None:
    with pytest.raises((IntegrityError, DBAPIError)):
        await _run(db, statements, params)
    await assert_consistent(db)


async def test_no_account_goes_below_what_it_has_reserved(db: Database, ledger: dict[str, Any]) -> None:
    await _refused(
        db, "UPDATE fund_accounts SET balance_fen = -1 WHERE id = :id", id=_id(ledger["township"], db)
    )
    await _refused(
        db,
        "UPDATE fund_accounts SET reserved_fen = balance_fen + 1 WHERE id = :id",
        id=_id(ledger["county"], db),
    )
    await _refused(
        db,
        "UPDATE fund_account_sources SET balance_fen = balance_fen - 10001 WHERE account_id = :id",
        id=_id(ledger["township"], db),
    )
    await _refused(
        db, "UPDATE fund_accounts SET reserved_fen = -1 WHERE id = :id", id=_id(ledger["county"], db)
    )


async def test_entries_are_never_changed(db: Database, ledger: dict[str, Any]) -> None:
    await _refused(db, "UPDATE fund_entries SET amount_fen = amount_fen * 2")
    if db.engine.dialect.name == "postgresql":  # SQLite's test fixtures empty tables with DELETE
        await _refused(db, "DELETE FROM fund_entries")
        await _refused(db, "DELETE FROM fund_transfers")


async def test_a_posted_transfer_never_changes(db: Database, ledger: dict[str, Any]) -> None:
    transfer = _id(ledger["transfer"]["id"], db)
    await _refused(db, "UPDATE fund_transfers SET amount_fen = 1 WHERE id = :id", id=transfer)
    await _refused(db, "UPDATE fund_transfers SET status = 'pending' WHERE id = :id", id=transfer)
    await _refused(db, "UPDATE fund_transfers SET purpose = 'x' WHERE id = :id", id=transfer)
    # Entries join only a transfer being posted.
    await _refused(
        db,
        "INSERT INTO fund_entries (transfer_id, account_id, region_code, source, amount_fen, fiscal_year,"
        " posted_at) VALUES (:t, :a, :r, 'central', 5, 2020, CURRENT_TIMESTAMP)",
        t=transfer,
        a=_id(ledger["township"], db),
        r=TOWNSHIP_A,
    )


PENDING_TRANSFER = (
    "INSERT INTO fund_transfers (id, kind, status, debit_account_id, credit_account_id, amount_fen,"
    " region_code, debit_region_code, credit_region_code, fiscal_year, document_number, purpose, category,"
    " created_by, created_by_name, created_at, updated_at) VALUES (:t, 'allocation', 'pending', :d, :c, 500,"
    " :township, :county, :township, 2020, 'x', 'x', 'general', 'u', 'u',"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
ENTRY = (
    "INSERT INTO fund_entries (transfer_id, account_id, region_code, source, amount_fen, fiscal_year,"
    " posted_at) VALUES (:t, :{account}, '{region}', 'central', {amount}, 2020, CURRENT_TIMESTAMP)"
)


async def test_a_transfer_is_posted_only_with_entries_that_move_exactly_its_amount(
    db: Database, ledger: dict[str, Any]
) -> None:
    params = {
        "t": _id(str(uuid.uuid4()), db),
        "d": _id(ledger["county"], db),
        "c": _id(ledger["township"], db),
        "county": COUNTY,
        "township": TOWNSHIP_A,
    }
    posting = "UPDATE fund_transfers SET status = 'posted', decided_at = CURRENT_TIMESTAMP WHERE id = :t"
    # One-sided: money created from nothing.
    await _refused(
        db,
        PENDING_TRANSFER,
        ENTRY.format(account="c", region=TOWNSHIP_A, amount=500),
        posting,
        **params,
    )
    # Balanced, but not the transfer's amount.
    await _refused(
        db,
        PENDING_TRANSFER,
        ENTRY.format(account="d", region=COUNTY, amount=-400),
        ENTRY.format(account="c", region=TOWNSHIP_A, amount=400),
        posting,
        **params,
    )
    # Rejected with entries.
    await _refused(
        db,
        PENDING_TRANSFER,
        ENTRY.format(account="d", region=COUNTY, amount=-500),
        ENTRY.format(account="c", region=TOWNSHIP_A, amount=500),
        "UPDATE fund_transfers SET status = 'rejected', decided_at = CURRENT_TIMESTAMP WHERE id = :t",
        **params,
    )
    # The control: the same statements with balanced entries of its amount are accepted.
    accepted = (
        PENDING_TRANSFER,
        ENTRY.format(account="d", region=COUNTY, amount=-500),
        ENTRY.format(account="c", region=TOWNSHIP_A, amount=500),
        posting,
    )
    await _run(db, accepted, params)


async def test_postgresql_checks_at_commit_that_every_transfers_entries_sum_to_zero(
    db: Database, ledger: dict[str, Any]
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("deferred constraint triggers are PostgreSQL's; SQLite checks when a transfer is posted")
    params = {
        "t": str(uuid.uuid4()),
        "d": ledger["county"],
        "c": ledger["township"],
        "county": COUNTY,
        "township": TOWNSHIP_A,
    }
    # Never posted, but its entries do not balance: refused at COMMIT by the deferred constraint trigger.
    await _refused(
        db,
        PENDING_TRANSFER,
        ENTRY.format(account="c", region=TOWNSHIP_A, amount=500),
        **params,
    )


async def test_verify_finds_what_was_planted(
    db: Database, ledger: dict[str, Any], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUPIN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FUPIN_JWT_SECRET", TEST_SECRET)
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, cli, ["funds", "verify"])
    assert result.exit_code == 0, result.output
    assert "ledger consistent" in result.output
    # A balance changed behind the ledger's back (allowed by the CHECKs: still above zero).
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE fund_accounts SET balance_fen = balance_fen + 1 WHERE id = :id"),
            {"id": _id(ledger["township"], db)},
        )
    async with db.sessionmaker() as session:
        report = await verify(session)
    assert set(report.failures) == {
        "account_balance_equals_entries",
        "account_equals_its_sources",
        "money_is_conserved",
    }
    result = await asyncio.to_thread(runner.invoke, cli, ["funds", "verify"])
    assert result.exit_code == 1
    assert "FAILED account_balance_equals_entries" in result.output
