"""The ledger's use cases and its Python API (what the project library, income sharing and demo data call):
make a transfer, approve or reject a pending one, reverse a posted one; find or create accounts.

Every function takes the caller's session and principal, checks permission and scope as the HTTP API does,
``flush``es and never commits (the caller's transaction decides). Amounts are integer fen.

Rules, in one place for callers:
- a finance officer moves money only *from* an account in scope (``FUNDS_WRITE``), and only along the
  region chain (:func:`app.domain.funds.rules.check_route`); appropriations need a county-level caller;
- a transfer above the debit region's threshold (setting ``fund_approval_threshold_yuan``, default
  500,000 yuan) is created ``pending`` with its amount reserved, and posted by a second person holding
  ``FUNDS_APPROVE`` (never its creator), or rejected (anyone with ``FUNDS_APPROVE``, the creator too:
  withdrawing it); at or below the threshold it is posted at once, its creator recorded as its approver;
- a debit consumes the named ``source`` only, else the account's sources in ``SOURCES`` order;
- a reversal moves the same amount with the same source split back, posted at once; it needs both accounts
  of the original in the caller's scope; a transfer is reversed at most once, a reversal never.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FundAccount, FundTransfer
from app.db.models.funds import SOURCES
from app.domain import audit
from app.domain.access import require
from app.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, RuleViolation
from app.domain.funds import posting, rules
from app.domain.funds.accounts import (
    account_by_id,
    account_for_contractor,
    account_for_household,
    account_for_project,
    account_for_region,
    get_account,
    side_of,
    source_account,
    source_balances,
)
from app.domain.funds.settings import approval_threshold_fen
from app.domain.principal import Permission, Principal
from app.domain.scope import is_in_scope, scoped

__all__ = [
    "SourceBalance",
    "TransferRequest",
    "account_for_contractor",
    "account_for_household",
    "account_for_project",
    "account_for_region",
    "approve",
    "get_account",
    "get_transfer",
    "make_transfer",
    "reject",
    "reverse",
    "source_account",
    "source_split",
    "transfer",
]

MAX_AMOUNT_FEN = 10**15  # ten trillion yuan: anything above is a typing mistake


@dataclass(frozen=True)
class TransferRequest:
    """One transfer to make.

    ``kind``: appropriation (source → county pool), allocation (pool → descendant pool or project in the
    library), disbursement (pool or project in the library → household or contractor payee), recovery
    (收回: pool, project or payee → a pool up the chain). Reversals have their own function.
    ``source``: consume only this source of the debit account (else the sources in ``SOURCES`` order).
    ``idempotency_key``: a transfer with this key is made once; asking again with the same terms returns
    the first transfer, with other terms is refused (``transfer.idempotency_key_reused``).
    """

    kind: str
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount_fen: int
    fiscal_year: int
    document_number: str  # 文号
    purpose: str
    category: str  # a plan-measure category (app.db.models.plans.MEASURE_CATEGORIES) or "general"
    source: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class SourceBalance:
    source: str
    balance_fen: int
    reserved_fen: int

    @property
    def available_fen(self) -> int:
        return self.balance_fen - self.reserved_fen


MOVING_KINDS = ("appropriation", "allocation", "disbursement", "recovery")


def _validate(request: TransferRequest) -> None:
    errors = []
    if request.kind not in MOVING_KINDS:
        errors.append(FieldError(("body", "kind"), f"one of {', '.join(MOVING_KINDS)}"))
    if not 0 < request.amount_fen <= MAX_AMOUNT_FEN:
        errors.append(FieldError(("body", "amount"), "more than 0 and at most 10,000,000,000,000 yuan"))
    if not 2000 <= request.fiscal_year <= 2100:
        errors.append(FieldError(("body", "fiscal_year"), "a year from 2000 to 2100"))
    if not request.document_number.strip() or len(request.document_number) > 100:
        errors.append(FieldError(("body", "document_number"), "1 to 100 characters"))
    if not request.purpose.strip():
        errors.append(FieldError(("body", "purpose"), "say what the money is for"))
    if request.category not in rules.FUND_CATEGORIES:
        errors.append(FieldError(("body", "category"), f"one of {', '.join(rules.FUND_CATEGORIES)}"))
    if request.source is not None and request.source not in SOURCES:
        errors.append(FieldError(("body", "source"), f"one of {', '.join(SOURCES)}"))
    if errors:
        raise InvalidInput(f"{len(errors)} field(s) failed validation.", "validation", errors=errors)


def _same_terms(existing: FundTransfer, request: TransferRequest) -> bool:
    return (
        existing.kind,
        existing.debit_account_id,
        existing.credit_account_id,
        existing.amount_fen,
        existing.fiscal_year,
        existing.document_number,
        existing.purpose,
        existing.category,
        existing.source,
    ) == (
        request.kind,
        request.debit_account_id,
        request.credit_account_id,
        request.amount_fen,
        request.fiscal_year,
        request.document_number,
        request.purpose,
        request.category,
        request.source,
    )


async def _by_idempotency_key(session: AsyncSession, key: str) -> FundTransfer | None:
    return await session.scalar(
        select(FundTransfer).where(FundTransfer.idempotency_key == key)  # scope: the caller's own key
    )


def _key_reused() -> RuleViolation:
    return RuleViolation(
        "This idempotency key was used for a different transfer; use a new key for a new transfer.",
        "transfer.idempotency_key_reused",
    )


async def get_transfer(session: AsyncSession, principal: Principal, transfer_id: uuid.UUID) -> FundTransfer:
    transfer = await session.scalar(scoped(FundTransfer, principal).where(FundTransfer.id == transfer_id))
    if transfer is None:
        raise NotFound("fund transfer")
    require(principal, Permission.FUNDS_READ)
    return transfer


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    transfer: FundTransfer,
    status: str | None = None,
) -> None:
    await audit.record(
        session,
        principal,
        action=action,
        record_type="fund_transfer",
        record_ids=[str(transfer.id)],
        region_code=transfer.region_code,
        fields=["status"] if action in ("approve", "reject") else ["amount_fen"],
        details={
            "kind": transfer.kind,
            "status": status or transfer.status,
            "amount_fen": transfer.amount_fen,
            "document_number": transfer.document_number,
        },
    )


async def transfer(session: AsyncSession, principal: Principal, request: TransferRequest) -> FundTransfer:
    """Make a transfer: posted at once up to the debit region's approval threshold, else pending with the
    amount reserved. Raises NotFound (404) / Forbidden (403) / RuleViolation, InvalidInput (422) /
    Conflict ``transfer.insufficient_funds`` (409)."""
    return (await make_transfer(session, principal, request))[0]


async def make_transfer(
    session: AsyncSession, principal: Principal, request: TransferRequest
) -> tuple[FundTransfer, dict[str, int] | None]:
    """:func:`transfer`, also returning the split by source it made (None when an idempotency key found
    the transfer made before)."""
    require(principal, Permission.FUNDS_WRITE)
    _validate(request)
    if request.idempotency_key is not None:
        existing = await _by_idempotency_key(session, request.idempotency_key)
        if existing is not None:
            if not _same_terms(existing, request):
                raise _key_reused()
            return existing, None
    debit = await get_account(session, principal, request.debit_account_id)
    credit = await account_by_id(session, request.credit_account_id)
    if credit is None or credit.id == debit.id:
        raise NotFound("fund account")
    try:
        rules.check_route(request.kind, await side_of(session, debit), await side_of(session, credit))
    except RuleViolation:
        if not is_in_scope(principal, credit.region_code):
            raise NotFound("fund account") from None  # off the caller's chain: as if it did not exist
        raise
    if request.kind == "appropriation":
        if not rules.may_appropriate(principal.region_code):
            raise Forbidden(
                "Appropriations are made by finance officers of a county or above.",
                "transfer.appropriation_level",
            )
        if request.source not in (None, debit.source):
            raise RuleViolation(
                f"The source account is {debit.source}, not {request.source}.", "transfer.source_mismatch"
            )
    pending = request.amount_fen > await approval_threshold_fen(session, debit.region_code)
    # The transfer row and its audit row go in before the accounts are locked: they depend on no balance,
    # and the lock (FOR NO KEY UPDATE) does not block their foreign keys. Under the lock only what must be.
    record = FundTransfer(
        id=uuid.uuid4(),
        kind=request.kind,
        status="pending",
        debit_account_id=debit.id,
        credit_account_id=credit.id,
        amount_fen=request.amount_fen,
        region_code=rules.deeper_region(debit.region_code, credit.region_code),
        debit_region_code=debit.region_code,
        credit_region_code=credit.region_code,
        fiscal_year=request.fiscal_year,
        document_number=request.document_number.strip(),
        purpose=request.purpose.strip(),
        category=request.category,
        source=request.source if request.kind != "appropriation" else debit.source,
        idempotency_key=request.idempotency_key,
        created_by=principal.subject,
        created_by_name=principal.name,
    )
    session.add(record)
    await session.flush()
    await _audit(session, principal, "create", record, status="pending" if pending else "posted")
    accounts = await posting.lock_accounts(session, (debit.id, credit.id))
    debit = accounts[debit.id]
    if debit.kind == "source":
        split = {debit.source or "": request.amount_fen}
    else:
        split = rules.split_by_source(
            await posting.available_by_source(session, debit), request.amount_fen, request.source
        )
    await posting.record_split(session, record.id, split)
    if pending:
        await posting.reserve(session, debit, split)
    else:
        await posting.post(session, principal, record, accounts, split, was_reserved=False)
    return record, split


async def _pending_for_decision(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID
) -> tuple[FundTransfer, dict[uuid.UUID, FundAccount]]:
    found = await get_transfer(session, principal, transfer_id)
    require(principal, Permission.FUNDS_APPROVE)
    if not is_in_scope(principal, found.debit_region_code):
        raise Forbidden(
            "Only the level whose money moves (or one above it) approves or rejects this transfer.",
            "transfer.decision_scope",
        )
    accounts = await posting.lock_accounts(session, (found.debit_account_id, found.credit_account_id))
    current = await posting.lock_transfer(session, found.id)
    if current.status != "pending":
        raise Conflict(f"The transfer is {current.status}, no longer pending.", "transfer.not_pending")
    return current, accounts


async def approve(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID, note: str | None = None
) -> FundTransfer:
    """Post a pending transfer: ``FUNDS_APPROVE``, in scope, and not the person who made it."""
    found = await get_transfer(session, principal, transfer_id)
    require(principal, Permission.FUNDS_APPROVE)
    if found.created_by == principal.subject:
        raise Forbidden("A transfer is approved by someone other than its maker.", "transfer.own_approval")
    current, accounts = await _pending_for_decision(session, principal, transfer_id)
    split = await posting.split_of(session, current.id)
    await posting.post(session, principal, current, accounts, split, was_reserved=True, note=note)
    await _audit(session, principal, "approve", current)
    return current


async def reject(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID, note: str | None = None
) -> FundTransfer:
    """Reject a pending transfer, releasing what it reserved (its maker may withdraw it this way)."""
    current, accounts = await _pending_for_decision(session, principal, transfer_id)
    split = await posting.split_of(session, current.id)
    await posting.release(session, accounts[current.debit_account_id], split)
    posting.decide(current, principal, "rejected", note)
    await session.flush()
    await _audit(session, principal, "reject", current)
    return current


async def reverse(
    session: AsyncSession,
    principal: Principal,
    transfer_id: uuid.UUID,
    *,
    document_number: str,
    purpose: str,
    fiscal_year: int | None = None,
    idempotency_key: str | None = None,
) -> FundTransfer:
    """Undo a posted transfer by a new, opposite one (same amount, same source split), posted at once."""
    original = await get_transfer(session, principal, transfer_id)
    require(principal, Permission.FUNDS_WRITE)
    year = fiscal_year if fiscal_year is not None else original.fiscal_year
    errors = []
    if not document_number.strip() or len(document_number) > 100:
        errors.append(FieldError(("body", "document_number"), "1 to 100 characters"))
    if not purpose.strip():
        errors.append(FieldError(("body", "purpose"), "say why the transfer is undone"))
    if not 2000 <= year <= 2100:
        errors.append(FieldError(("body", "fiscal_year"), "a year from 2000 to 2100"))
    if errors:
        raise InvalidInput(f"{len(errors)} field(s) failed validation.", "validation", errors=errors)
    if idempotency_key is not None:
        existing = await _by_idempotency_key(session, idempotency_key)
        if existing is not None:
            if existing.reverses_id != original.id or existing.document_number != document_number.strip():
                raise _key_reused()
            return existing
    if original.kind == "reversal":
        raise RuleViolation(
            "A reversal is not reversed; make a new transfer instead.", "transfer.reversal_of_reversal"
        )
    if not (
        is_in_scope(principal, original.debit_region_code)
        and is_in_scope(principal, original.credit_region_code)
    ):
        raise Forbidden(
            "A transfer is reversed by the level that made it (both its accounts in your scope).",
            "transfer.reversal_scope",
        )
    accounts = await posting.lock_accounts(session, (original.debit_account_id, original.credit_account_id))
    current = await posting.lock_transfer(session, original.id)
    if current.status != "posted":
        raise Conflict(
            f"Only a posted transfer is reversed; this one is {current.status}.", "transfer.not_posted"
        )
    already = await session.scalar(
        select(FundTransfer.id).where(FundTransfer.reverses_id == current.id)  # scope: of a transfer in scope
    )
    if already is not None:
        raise Conflict("The transfer was reversed already.", "transfer.already_reversed")
    split = await posting.split_of(session, current.id)
    giver = accounts[current.credit_account_id]
    if giver.kind != "source":
        available = await posting.available_by_source(session, giver)
        short = [s for s, amount in split.items() if available.get(s, 0) < amount]
        if short:
            raise Conflict(
                f"The account {giver.name} no longer holds what it received from {', '.join(short)}; "
                "recover what is left instead.",
                "transfer.insufficient_funds",
            )
    record = FundTransfer(
        id=uuid.uuid4(),
        kind="reversal",
        status="pending",
        debit_account_id=current.credit_account_id,
        credit_account_id=current.debit_account_id,
        amount_fen=current.amount_fen,
        region_code=current.region_code,
        debit_region_code=current.credit_region_code,
        credit_region_code=current.debit_region_code,
        fiscal_year=year,
        document_number=document_number.strip(),
        purpose=purpose.strip(),
        category=current.category,
        source=current.source,
        reverses_id=current.id,
        idempotency_key=idempotency_key,
        created_by=principal.subject,
        created_by_name=principal.name,
    )
    session.add(record)
    await session.flush()
    await posting.record_split(session, record.id, split)
    await posting.post(session, principal, record, accounts, split, was_reserved=False)
    await _audit(session, principal, "reverse", record)
    return record


async def source_split(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID
) -> list[SourceBalance]:
    """An account's balance and reserved amount per source (``SOURCES`` order; sources it holds nothing of
    are left out)."""
    account = await get_account(session, principal, account_id)
    return [
        SourceBalance(row.source, row.balance_fen, row.reserved_fen)
        for row in await source_balances(session, account.id)
        if row.balance_fen or row.reserved_fen
    ]
