"""The only code that changes balances: locks, reservations, postings and their entries.

Concurrency. Every change to an account's money happens while the transaction holds that account's lock:
on PostgreSQL ``SELECT … FOR UPDATE`` of both accounts of a transfer in id order (a fixed order, so two
transfers over the same pair never deadlock), on SQLite the database's write lock, taken by the first write
of the transaction (a no-op UPDATE of the same rows) and waited for with the busy timeout. Balances then
change by guarded relative UPDATEs and upserts (``balance_fen = balance_fen + :delta``); the CHECK
constraints refuse anything that would take an account below what it must hold, whatever Python thought.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import FundAccount, FundAccountSource, FundEntry, FundTransfer, FundTransferSource
from app.domain.errors import Conflict
from app.domain.funds.accounts import insert_for, is_postgresql, source_balances
from app.domain.principal import Principal


async def lock_accounts(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, FundAccount]:
    """Lock the accounts (in id order) and return them as they are now."""
    ordered = sorted(set(ids))
    if not is_postgresql(session):
        await session.execute(
            update(FundAccount)  # scope: the caller checked the accounts; this only takes the write lock
            .where(FundAccount.id.in_(ordered))
            .values(reserved_fen=FundAccount.reserved_fen)
            .execution_options(synchronize_session=False)
        )
    rows = (
        await session.scalars(
            select(FundAccount)  # scope: the caller checked the accounts
            .where(FundAccount.id.in_(ordered))
            .order_by(FundAccount.id)
            # NO KEY UPDATE: excludes every other change of the accounts' money, but not the KEY SHARE locks
            # that inserting transfers and entries referencing them takes.
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    ).all()
    return {row.id: row for row in rows}


async def lock_transfer(session: AsyncSession, transfer_id: uuid.UUID) -> FundTransfer:
    """The transfer as it is now (after its accounts were locked, so any decision on it is visible)."""
    transfer = await session.scalar(
        select(FundTransfer)  # scope: the caller found it in scope
        .where(FundTransfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert transfer is not None
    return transfer


async def available_by_source(session: AsyncSession, account: FundAccount) -> dict[str, int]:
    return {
        row.source: row.balance_fen - row.reserved_fen for row in await source_balances(session, account.id)
    }


async def split_of(session: AsyncSession, transfer_id: uuid.UUID) -> dict[str, int]:
    rows = (
        await session.execute(
            select(FundTransferSource.source, FundTransferSource.amount_fen).where(
                FundTransferSource.transfer_id == transfer_id
            )
        )
    ).all()
    return {source: amount for source, amount in rows}


async def record_split(session: AsyncSession, transfer_id: uuid.UUID, split: Mapping[str, int]) -> None:
    await session.execute(
        insert(FundTransferSource),
        [{"transfer_id": transfer_id, "source": s, "amount_fen": amount} for s, amount in split.items()],
    )


async def _shift(
    session: AsyncSession, account: FundAccount, split: Mapping[str, int], *, balance: int, reserved: int
) -> None:
    """Add ``balance * amount`` to the balance and ``reserved * amount`` to the reserved amount of the
    account and of each of its sources (``balance``/``reserved`` are -1, 0 or 1)."""
    total = sum(split.values())
    table = cast(Table, FundAccount.__table__)
    await session.execute(
        update(table)  # scope: the caller checked and locked the account
        .where(table.c.id == account.id)
        .values(
            balance_fen=table.c.balance_fen + balance * total,
            reserved_fen=table.c.reserved_fen + reserved * total,
            updated_at=utcnow(),
        )
    )
    sources = cast(Table, FundAccountSource.__table__)
    if reserved >= 0 and (account.kind == "source" or balance >= reserved):
        # Money in (or a source's own row, which may go below zero): the row appears on first use. The
        # CHECKs judge the proposed row before ON CONFLICT, so only rows that are valid alone are upserted.
        upsert = insert_for(session)(sources).values(
            [
                {
                    "account_id": account.id,
                    "source": source,
                    "is_external": account.kind == "source",
                    "balance_fen": balance * amount,
                    "reserved_fen": reserved * amount,
                }
                for source, amount in split.items()
            ]
        )
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=["account_id", "source"],
                set_={
                    "balance_fen": sources.c.balance_fen + upsert.excluded.balance_fen,
                    "reserved_fen": sources.c.reserved_fen + upsert.excluded.reserved_fen,
                },
            )
        )
    else:
        for source, amount in split.items():
            result = await session.execute(
                update(sources)
                .where(sources.c.account_id == account.id, sources.c.source == source)
                .values(
                    balance_fen=sources.c.balance_fen + balance * amount,
                    reserved_fen=sources.c.reserved_fen + reserved * amount,
                )
            )
            if getattr(result, "rowcount", 1) != 1:
                raise Conflict(f"The account holds nothing from {source}.", "transfer.insufficient_funds")
    session.expire(account)


async def reserve(session: AsyncSession, debit: FundAccount, split: Mapping[str, int]) -> None:
    await _shift(session, debit, split, balance=0, reserved=1)


async def release(session: AsyncSession, debit: FundAccount, split: Mapping[str, int]) -> None:
    await _shift(session, debit, split, balance=0, reserved=-1)


async def post(
    session: AsyncSession,
    principal: Principal,
    transfer: FundTransfer,
    accounts: Mapping[uuid.UUID, FundAccount],
    split: Mapping[str, int],
    *,
    was_reserved: bool,
    note: str | None = None,
) -> None:
    """Move the money: both balances, their sources, the entries; then mark the transfer posted (which the
    database accepts only if the entries balance)."""
    debit, credit = accounts[transfer.debit_account_id], accounts[transfer.credit_account_id]
    debit_region, credit_region = debit.region_code, credit.region_code
    await _shift(session, debit, split, balance=-1, reserved=-1 if was_reserved else 0)
    await _shift(session, credit, split, balance=1, reserved=0)
    now = utcnow()
    rows = []
    for source, amount in split.items():
        for account_id, region, signed in (
            (transfer.debit_account_id, debit_region, -amount),
            (transfer.credit_account_id, credit_region, amount),
        ):
            rows.append(
                {
                    "transfer_id": transfer.id,
                    "account_id": account_id,
                    "region_code": region,
                    "source": source,
                    "amount_fen": signed,
                    "fiscal_year": transfer.fiscal_year,
                    "posted_at": now,
                }
            )
    await session.execute(insert(FundEntry), rows)  # scope: the entries of a transfer checked by the caller
    decide(transfer, principal, "posted", note, now=now)
    await session.flush()


def decide(
    transfer: FundTransfer, principal: Principal, status: str, note: str | None, *, now: object = None
) -> None:
    transfer.status = status
    transfer.decided_by = principal.subject
    transfer.decided_by_name = principal.name
    transfer.decided_at = now or utcnow()  # type: ignore[assignment]
    transfer.decision_note = note
