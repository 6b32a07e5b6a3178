"""The funds ledger (扶贫资金): accounts, balances and entries; transfers, their approval and reversal."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import PageDep, PrincipalDep, SessionDep, SessionmakerDep
from app.api.schemas.common import Page, RegionCodeStr
from app.api.schemas.funds import (
    AccountDetail,
    AccountKind,
    AccountRead,
    AccountRef,
    EntryRead,
    TransferCreate,
    TransferDecision,
    TransferKind,
    TransferRead,
    TransferReverse,
    TransferStatus,
    fen_to_yuan,
    yuan_to_fen,
)
from app.domain.access import require
from app.domain.funds import accounts, idempotency, ledger, queries
from app.domain.principal import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["funds"])

AccountId = Annotated[uuid.UUID, Path(description="Account id")]
TransferId = Annotated[uuid.UUID, Path(description="Transfer id")]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required: a fresh value per transfer (e.g. a UUID). The same key with the same body "
        "returns the first response and moves nothing; with another body it is refused (422).",
    ),
]
MONEY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "No or malformed Idempotency-Key (`idempotency.key_required`)"},
    409: {"description": "Not enough money available (`transfer.insufficient_funds`), or not pending"},
    422: {"description": "Invalid, against a rule, or a key reused with another body"},
}


# Rows to schemas ------------------------------------------------------------------------------------------


def _money(row: dict[str, Any], *names: str) -> dict[str, Any]:
    out = dict(row)
    for name in names:
        out[name.removesuffix("_fen")] = fen_to_yuan(out.pop(name))
    return out


def transfer_body(row: dict[str, Any]) -> dict[str, Any]:
    out = _money(row, "amount_fen")
    out["sources"] = [{"source": s["source"], "amount": fen_to_yuan(s["amount_fen"])} for s in row["sources"]]
    return TransferRead.model_validate(out).model_dump(mode="json")


def account_body(row: dict[str, Any]) -> dict[str, Any]:
    out = _money(row, "balance_fen", "reserved_fen")
    out["available"] = fen_to_yuan(row["balance_fen"] - row["reserved_fen"])
    return out


def _json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body, default=str, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


async def _resolve(session: AsyncSession, principal: Principal, ref: AccountRef) -> uuid.UUID:
    """The id of the account a reference names, creating it on first use."""
    if ref.account_id is not None:
        return ref.account_id
    if ref.pool is not None:
        return (await accounts.pool_in_reach(session, principal, ref.pool)).id
    if ref.project_id is not None:
        return (await accounts.account_for_project(session, principal, ref.project_id)).id
    if ref.household_id is not None:
        return (await accounts.account_for_household(session, principal, ref.household_id)).id
    if ref.source is not None and ref.county is not None:
        return (await accounts.source_account(session, principal, ref.county, ref.source)).id
    assert ref.contractor is not None
    c = ref.contractor
    return (
        await accounts.account_for_contractor(session, principal, c.region_code, c.name, c.credit_code)
    ).id


# Accounts -------------------------------------------------------------------------------------------------


@router.get(
    "/fund-accounts",
    summary="Fund accounts in scope",
    description="Pools, projects, sources and payees, ordered by region and id. Filters: `region` (a "
    "subtree), `kind`, `project_id`, `household_id`.",
    response_model=Page[AccountRead],
)
async def list_accounts(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    region: Annotated[RegionCodeStr | None, Query(description="Only this region's subtree")] = None,
    kind: Annotated[AccountKind | None, Query()] = None,
    project_id: Annotated[uuid.UUID | None, Query()] = None,
    household_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    f = queries.AccountFilter(region=region, kind=kind, project_id=project_id, household_id=household_id)
    result = await queries.list_accounts(session, principal, f, page)
    return _json({"items": [account_body(row) for row in result.items], "next_cursor": result.next_cursor})


@router.get(
    "/fund-accounts/{account_id}",
    summary="An account: balance, reserved, available, and the balance split by source",
    response_model=AccountDetail,
)
async def get_account(account_id: AccountId, principal: PrincipalDep, session: SessionDep) -> Response:
    account = await ledger.get_account(session, principal, account_id)
    row = {column.key: getattr(account, column.key) for column in queries.ACCOUNT_COLUMNS}
    body = account_body(row)
    body["sources"] = [
        {
            "source": split.source,
            "balance": fen_to_yuan(split.balance_fen),
            "reserved": fen_to_yuan(split.reserved_fen),
            "available": fen_to_yuan(split.available_fen),
        }
        for split in await ledger.source_split(session, principal, account.id)
    ]
    return _json(body)


@router.get(
    "/fund-accounts/{account_id}/entries",
    summary="An account's entries (明细账), in posting order",
    response_model=Page[EntryRead],
)
async def list_entries(
    account_id: AccountId,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    result = await queries.list_entries(session, principal, account_id, page, fiscal_year)
    items = [_money(row, "amount_fen") for row in result.items]
    return _json({"items": items, "next_cursor": result.next_cursor})


# Transfers ------------------------------------------------------------------------------------------------


@router.get(
    "/fund-transfers",
    summary="Transfers in scope",
    description="Ordered by creation time. Filters: `kind`, `status`, `fiscal_year`, `region` (transfers "
    "reaching into that subtree), `account_id` (either side), `document_number` (exact).",
    response_model=Page[TransferRead],
)
async def list_transfers(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[TransferKind | None, Query()] = None,
    status_: Annotated[TransferStatus | None, Query(alias="status")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    region: Annotated[RegionCodeStr | None, Query()] = None,
    account_id: Annotated[uuid.UUID | None, Query()] = None,
    document_number: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    f = queries.TransferFilter(
        kind=kind,
        status=status_,
        fiscal_year=fiscal_year,
        region=region,
        account_id=account_id,
        document_number=document_number,
    )
    result = await queries.list_transfers(session, principal, f, page)
    return _json({"items": [transfer_body(row) for row in result.items], "next_cursor": result.next_cursor})


@router.get("/fund-transfers/{transfer_id}", summary="A transfer", response_model=TransferRead)
async def get_transfer(transfer_id: TransferId, principal: PrincipalDep, session: SessionDep) -> Response:
    await ledger.get_transfer(session, principal, transfer_id)
    return _json(transfer_body(await queries.transfer_row(session, principal, transfer_id)))


async def _respond(outcome: idempotency.Outcome, response_status: int = status.HTTP_201_CREATED) -> Response:
    headers = {"Location": f"/api/v1/fund-transfers/{outcome.body['id']}"}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(outcome.body, outcome.status_code, headers)


@router.post(
    "/fund-transfers",
    status_code=status.HTTP_201_CREATED,
    summary="Make a transfer (needs an Idempotency-Key)",
    description="Posted at once (`posted`) up to the approval threshold of the debit account's region "
    "(setting `fund_approval_threshold_yuan`, default 500,000); above it created `pending` with the amount "
    "reserved until a second person approves or rejects it. A retry with the same `Idempotency-Key` and "
    "body returns the first response (header `Idempotent-Replayed: true`).",
    response_model=TransferRead,
    responses=MONEY_PROBLEMS,
)
async def create_transfer(
    body: TransferCreate,
    principal: PrincipalDep,
    sessionmaker: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    require(principal, Permission.FUNDS_WRITE)
    key = idempotency.check_key(idempotency_key)
    request_hash = idempotency.fingerprint("POST", "/fund-transfers", body.model_dump(mode="json"))

    async def work(session: AsyncSession) -> idempotency.Outcome:
        request = ledger.TransferRequest(
            kind=body.kind,
            debit_account_id=await _resolve(session, principal, body.debit),
            credit_account_id=await _resolve(session, principal, body.credit),
            amount_fen=yuan_to_fen(body.amount),
            fiscal_year=body.fiscal_year,
            document_number=body.document_number,
            purpose=body.purpose,
            category=body.category,
            source=body.source,
            idempotency_key=f"{principal.subject}:{key}",
        )
        made, split = await ledger.make_transfer(session, principal, request)
        if split is None:  # made before, under the same key
            row = await queries.transfer_row(session, principal, made.id)
        else:  # built from what was just written: no query while the accounts are locked
            row = {column.key: getattr(made, column.key) for column in queries.TRANSFER_COLUMNS}
            row["sources"] = [{"source": s, "amount_fen": amount} for s, amount in split.items()]
        return idempotency.Outcome(status.HTTP_201_CREATED, transfer_body(row), replayed=False)

    return await _respond(await idempotency.run_once(sessionmaker, principal, key, request_hash, work))


@router.post(
    "/fund-transfers/{transfer_id}/reverse",
    status_code=status.HTTP_201_CREATED,
    summary="Reverse a posted transfer (needs an Idempotency-Key)",
    description="Makes a new transfer of kind `reversal` moving the same amount, with the same split by "
    "source, back; posted at once. Needs both accounts of the original in your scope.",
    response_model=TransferRead,
    responses=MONEY_PROBLEMS,
)
async def reverse_transfer(
    transfer_id: TransferId,
    body: TransferReverse,
    principal: PrincipalDep,
    sessionmaker: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    key = idempotency.check_key(idempotency_key)
    request_hash = idempotency.fingerprint(
        "POST", f"/fund-transfers/{transfer_id}/reverse", body.model_dump(mode="json")
    )

    async def work(session: AsyncSession) -> idempotency.Outcome:
        made = await ledger.reverse(
            session,
            principal,
            transfer_id,
            document_number=body.document_number,
            purpose=body.purpose,
            fiscal_year=body.fiscal_year,
            idempotency_key=f"{principal.subject}:{key}",
        )
        row = await queries.transfer_row(session, principal, made.id)
        return idempotency.Outcome(status.HTTP_201_CREATED, transfer_body(row), replayed=False)

    return await _respond(await idempotency.run_once(sessionmaker, principal, key, request_hash, work))


@router.post(
    "/fund-transfers/{transfer_id}/approve",
    summary="Approve (post) a pending transfer",
    description="Needs `funds:approve`, the debit account's region in your scope, and not being the maker "
    "of the transfer (403 `transfer.own_approval`). 409 `transfer.not_pending` once decided.",
    response_model=TransferRead,
)
async def approve_transfer(
    transfer_id: TransferId,
    principal: PrincipalDep,
    session: SessionDep,
    body: TransferDecision | None = None,
) -> Response:
    await ledger.approve(session, principal, transfer_id, body.note if body else None)
    return _json(transfer_body(await queries.transfer_row(session, principal, transfer_id)))


@router.post(
    "/fund-transfers/{transfer_id}/reject",
    summary="Reject a pending transfer, releasing its reservation",
    description="Needs `funds:approve` and the debit account's region in your scope; the maker may withdraw "
    "their own transfer this way.",
    response_model=TransferRead,
)
async def reject_transfer(
    transfer_id: TransferId,
    principal: PrincipalDep,
    session: SessionDep,
    body: TransferDecision | None = None,
) -> Response:
    await ledger.reject(session, principal, transfer_id, body.note if body else None)
    return _json(transfer_body(await queries.transfer_row(session, principal, transfer_id)))
