"""Scoped reads of the ledger: account, transfer and entry lists as plain rows (keyset pages in index order).

Accounts are ordered by ``(region_code, id)``, transfers by ``(created_at, id)``, an account's entries by
``id`` (posting order).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FundAccount, FundEntry, FundTransfer, FundTransferSource
from app.domain.access import require
from app.domain.funds.accounts import get_account
from app.domain.pagination import Page, PageRequest, fetch_rows
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.scope import restrict, within_prefix

ACCOUNT_COLUMNS: tuple[Any, ...] = (
    FundAccount.id,
    FundAccount.kind,
    FundAccount.region_code,
    FundAccount.name,
    FundAccount.source,
    FundAccount.project_id,
    FundAccount.payee_kind,
    FundAccount.household_id,
    FundAccount.contractor_code,
    FundAccount.balance_fen,
    FundAccount.reserved_fen,
    FundAccount.created_at,
)
TRANSFER_COLUMNS: tuple[Any, ...] = tuple(
    getattr(FundTransfer, name)
    for name in (
        "id",
        "kind",
        "status",
        "debit_account_id",
        "credit_account_id",
        "amount_fen",
        "region_code",
        "debit_region_code",
        "credit_region_code",
        "fiscal_year",
        "document_number",
        "purpose",
        "category",
        "source",
        "reverses_id",
        "created_by_name",
        "created_at",
        "decided_by_name",
        "decided_at",
        "decision_note",
    )
)


ACCOUNT_KEYS = (FundAccount.region_code, FundAccount.id)  # the lists' orders
TRANSFER_KEYS = (FundTransfer.created_at, FundTransfer.id)
ENTRY_KEYS = (FundEntry.id,)


@dataclass(frozen=True)
class AccountFilter:
    region: str | None = None  # a subtree
    kind: str | None = None
    project_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None


async def list_accounts(
    session: AsyncSession, principal: Principal, f: AccountFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    require(principal, Permission.FUNDS_READ)
    statement = account_filters(select(*ACCOUNT_COLUMNS), principal, f)
    return await fetch_rows(session, statement, ACCOUNT_KEYS, page)


def account_filters(statement: Select[Any], principal: Principal, f: AccountFilter) -> Select[Any]:
    """The account list's scope and filters (REST and GraphQL) on a statement over accounts."""
    statement = restrict(statement, FundAccount, principal)
    if f.region is not None:
        statement = statement.where(within_prefix(FundAccount.region_code, codes.region_prefix(f.region)))
    if f.kind is not None:
        statement = statement.where(FundAccount.kind == f.kind)
    if f.project_id is not None:
        statement = statement.where(FundAccount.project_id == f.project_id)
    if f.household_id is not None:
        statement = statement.where(FundAccount.household_id == f.household_id)
    return statement


@dataclass(frozen=True)
class TransferFilter:
    kind: str | None = None
    status: str | None = None
    fiscal_year: int | None = None
    region: str | None = None  # a subtree: transfers reaching into it
    account_id: uuid.UUID | None = None  # either side
    document_number: str | None = None


async def list_transfers(
    session: AsyncSession, principal: Principal, f: TransferFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    require(principal, Permission.FUNDS_READ)
    statement = transfer_filters(select(*TRANSFER_COLUMNS), principal, f)
    result = await fetch_rows(session, statement, TRANSFER_KEYS, page)
    await attach_splits(session, result.items)
    return result


def transfer_filters(statement: Select[Any], principal: Principal, f: TransferFilter) -> Select[Any]:
    """The transfer list's scope and filters (REST and GraphQL) on a statement over transfers."""
    statement = restrict(statement, FundTransfer, principal)
    if f.region is not None:
        statement = statement.where(within_prefix(FundTransfer.region_code, codes.region_prefix(f.region)))
    if f.kind is not None:
        statement = statement.where(FundTransfer.kind == f.kind)
    if f.status is not None:
        statement = statement.where(FundTransfer.status == f.status)
    if f.fiscal_year is not None:
        statement = statement.where(FundTransfer.fiscal_year == f.fiscal_year)
    if f.account_id is not None:
        statement = statement.where(
            or_(FundTransfer.debit_account_id == f.account_id, FundTransfer.credit_account_id == f.account_id)
        )
    if f.document_number is not None:
        statement = statement.where(FundTransfer.document_number == f.document_number)
    return statement


async def attach_splits(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Each transfer's split by source (one query for the page)."""
    if not rows:
        return
    splits: dict[uuid.UUID, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    result = await session.execute(
        select(
            FundTransferSource.transfer_id, FundTransferSource.source, FundTransferSource.amount_fen
        ).where(FundTransferSource.transfer_id.in_(list(splits)))
    )
    for transfer_id, source, amount in result.all():
        splits[transfer_id].append({"source": source, "amount_fen": amount})
    for row in rows:
        row["sources"] = splits[row["id"]]


async def transfer_row(session: AsyncSession, principal: Principal, transfer_id: uuid.UUID) -> dict[str, Any]:
    """One transfer as a row with its split (``get_transfer`` checked scope first)."""
    statement = restrict(select(*TRANSFER_COLUMNS), FundTransfer, principal).where(
        FundTransfer.id == transfer_id
    )
    row = dict((await session.execute(statement)).mappings().one())
    reversed_by = await session.scalar(
        restrict(select(FundTransfer.id), FundTransfer, principal).where(
            FundTransfer.reverses_id == transfer_id
        )
    )
    row["reversed_by_id"] = reversed_by
    await attach_splits(session, [row])
    return row


async def list_entries(
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID,
    page: PageRequest,
    fiscal_year: int | None = None,
) -> Page[dict[str, Any]]:
    """An account's entries in posting order, each with its transfer's kind and document number."""
    account = await get_account(session, principal, account_id)
    statement = entry_list(principal, fiscal_year).where(FundEntry.account_id == account.id)
    return await fetch_rows(session, statement, ENTRY_KEYS, page)


def entry_list(principal: Principal, fiscal_year: int | None = None) -> Select[Any]:
    """Entries in scope with their transfer's kind and document number (REST and GraphQL), unordered."""
    columns: Any = (
        FundEntry.id,
        FundEntry.transfer_id,
        FundEntry.account_id,
        FundEntry.region_code,
        FundEntry.source,
        FundEntry.amount_fen,
        FundEntry.fiscal_year,
        FundEntry.posted_at,
        FundTransfer.kind,
        FundTransfer.document_number,
    )
    statement = restrict(
        select(*columns).join(FundTransfer, FundTransfer.id == FundEntry.transfer_id), FundEntry, principal
    )
    if fiscal_year is not None:
        statement = statement.where(FundEntry.fiscal_year == fiscal_year)
    return statement
