"""Ledger reads for many records at once (GraphQL DataLoaders and lists): accounts by id, by project and by
household with their balances by source, transfers by id with their split and reversal, and the entries of
many accounts in one statement. Scoped and permission-checked like :mod:`queries` and :mod:`ledger`; Core
rows, amounts in integer fen."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FundAccount, FundAccountSource, FundEntry, FundTransfer
from app.db.models.funds import SOURCES
from app.domain.access import require
from app.domain.funds import queries
from app.domain.pagination import Page, PageRequest, fetch_rows_per_parent, rows_by_parent
from app.domain.principal import Permission, Principal
from app.domain.scope import restrict

SOURCE_ORDER = {name: n for n, name in enumerate(SOURCES)}


def _count(statement: Any) -> Any:
    return select(func.count()).select_from(statement.order_by(None).subquery())


# Accounts -----------------------------------------------------------------------------------------------


async def count_accounts(session: AsyncSession, principal: Principal, f: queries.AccountFilter) -> int:
    require(principal, Permission.FUNDS_READ)
    statement = queries.account_filters(select(FundAccount.id), principal, f)  # scope: restricted there
    return int(await session.scalar(_count(statement)) or 0)


async def accounts_by(
    session: AsyncSession, principal: Principal, column: str, keys: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """The accounts in scope whose ``column`` (``id``, ``project_id`` or ``household_id``) is one of
    ``keys``, by region and id. As the single read: out of scope is "not found" whatever the roles (the
    account is missing); in scope without the permission is forbidden."""
    if column not in ("id", "project_id", "household_id"):
        raise ValueError(column)
    if not keys:
        return {}
    key = getattr(FundAccount, column)
    statement = (
        restrict(select(*queries.ACCOUNT_COLUMNS), FundAccount, principal)
        .where(key.in_(set(keys)))
        .order_by(*queries.ACCOUNT_KEYS)
    )
    found = await rows_by_parent(session, statement, column, keys)
    if any(found.values()):
        require(principal, Permission.FUNDS_READ)
    return found


async def account_sources(
    session: AsyncSession, principal: Principal, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    """Each account's balance and reserved amount per source, in ``SOURCES`` order, leaving out the sources
    it holds nothing of (as ``GET /fund-accounts/{id}``)."""
    require(principal, Permission.FUNDS_READ)
    found: dict[uuid.UUID, list[Row[Any]]] = {account_id: [] for account_id in account_ids}
    if not account_ids:
        return found
    columns: Any = (
        FundAccountSource.account_id,
        FundAccountSource.source,
        FundAccountSource.balance_fen,
        FundAccountSource.reserved_fen,
    )
    statement = restrict(
        select(*columns)
        .join(FundAccount, FundAccount.id == FundAccountSource.account_id)
        .where(FundAccountSource.account_id.in_(set(account_ids))),
        FundAccount,
        principal,
    )
    for row in await session.execute(statement):
        if row.balance_fen or row.reserved_fen:
            found[row.account_id].append(row)
    for rows in found.values():
        rows.sort(key=lambda row: SOURCE_ORDER.get(row.source, len(SOURCE_ORDER)))
    return found


# Transfers ----------------------------------------------------------------------------------------------


async def count_transfers(session: AsyncSession, principal: Principal, f: queries.TransferFilter) -> int:
    require(principal, Permission.FUNDS_READ)
    statement = queries.transfer_filters(select(FundTransfer.id), principal, f)  # scope: restricted there
    return int(await session.scalar(_count(statement)) or 0)


async def transfers_by_id(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The transfers among ``ids`` in scope, each with its split by source (two statements for all). As the
    single read: out of scope is "not found" whatever the roles; in scope without the permission is
    forbidden."""
    if not ids:
        return {}
    statement = restrict(select(*queries.TRANSFER_COLUMNS), FundTransfer, principal).where(
        FundTransfer.id.in_(set(ids))
    )
    rows = [dict(row) for row in (await session.execute(statement)).mappings()]
    if rows:
        require(principal, Permission.FUNDS_READ)
    await queries.attach_splits(session, rows)
    return {row["id"]: row for row in rows}


async def reversals_of(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID | None]:
    """The id of the reversal (in scope) of each transfer, if it has one."""
    require(principal, Permission.FUNDS_READ)
    found: dict[uuid.UUID, uuid.UUID | None] = dict.fromkeys(ids)
    if ids:
        columns: Any = (FundTransfer.reverses_id, FundTransfer.id)
        statement = restrict(select(*columns), FundTransfer, principal).where(
            FundTransfer.reverses_id.in_(set(ids))
        )
        for reverses_id, reversal_id in (await session.execute(statement)).all():
            found[reverses_id] = reversal_id
    return found


# Entries ------------------------------------------------------------------------------------------------


async def entry_pages(
    session: AsyncSession,
    principal: Principal,
    account_ids: Sequence[uuid.UUID],
    page: PageRequest,
    fiscal_year: int | None,
) -> dict[uuid.UUID, Page[dict[str, Any]]]:
    """The same page of each account's entries in posting order (``GET /fund-accounts/{id}/entries``)."""
    require(principal, Permission.FUNDS_READ)
    return await fetch_rows_per_parent(
        session,
        queries.entry_list(principal, fiscal_year),
        FundEntry.account_id,
        account_ids,
        queries.ENTRY_KEYS,
        page,
    )


async def count_entries(
    session: AsyncSession, principal: Principal, keys: Sequence[tuple[uuid.UUID, int | None]]
) -> dict[tuple[uuid.UUID, int | None], int]:
    """How many entries each (account, fiscal year or every year) holds: one statement per distinct year."""
    require(principal, Permission.FUNDS_READ)
    found = dict.fromkeys(keys, 0)
    for year in {year for _, year in keys}:
        account_ids = {account_id for account_id, y in keys if y == year}
        columns: Any = (FundEntry.account_id, func.count())
        statement = restrict(
            select(*columns).where(FundEntry.account_id.in_(account_ids)).group_by(FundEntry.account_id),
            FundEntry,
            principal,
        )
        if year is not None:
            statement = statement.where(FundEntry.fiscal_year == year)
        for account_id, count in (await session.execute(statement)).all():
            found[(account_id, year)] = count
    return found
