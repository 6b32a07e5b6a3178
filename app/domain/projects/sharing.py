"""Income sharing (分红): a project's income shared out to its beneficiary households as one batch of
disbursements through the ledger (app/domain/funds/ledger.py), all or nothing.

The split is exact to the fen (:func:`app.domain.projects.rules.split_income`). Each payment carries the
idempotency key ``<caller>:share:<batch key>:<household id>``, so a retried batch pays no household twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import FieldError, InvalidInput, RuleViolation
from app.domain.funds import ledger
from app.domain.principal import Permission, Principal
from app.domain.projects import rules
from app.domain.projects.beneficiaries import beneficiary_weights
from app.domain.projects.service import get_project


@dataclass
class SharingResult:
    project_id: uuid.UUID
    amount_fen: int
    payments: list[tuple[uuid.UUID, int, uuid.UUID, str]] = field(
        default_factory=list
    )  # household, fen, transfer, status

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "amount": f"{self.amount_fen / 100:.2f}",
            "households": len(self.payments),
            "payments": [
                {
                    "household_id": household_id,
                    "amount": f"{share / 100:.2f}",
                    "transfer_id": transfer_id,
                    "status": status,
                }
                for household_id, share, transfer_id, status in self.payments
            ],
        }


def _refuse(detail: str, code: str) -> RuleViolation:
    return RuleViolation(detail, code)


async def share_income(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    amount_fen: int,
    fiscal_year: int,
    document_number: str,
    purpose: str | None,
    idempotency_key: str | None,
) -> SharingResult:
    project = await get_project(session, principal, project_id)
    require(principal, Permission.FUNDS_WRITE)
    if not idempotency_key:
        raise InvalidInput(
            "Send an Idempotency-Key header unique to this sharing out, so that a retry pays no one twice.",
            "income_sharing.idempotency_key_required",
            errors=[FieldError(("header", "Idempotency-Key"), "required", "missing")],
        )
    if amount_fen <= 0:
        raise InvalidInput(
            "Share out a positive amount.",
            "income_sharing.amount",
            errors=[FieldError(("body", "amount"), "must be above zero", "range")],
        )
    if project.income_sharing_basis is None:
        raise _refuse(
            "The project shares no income: set its income_sharing_basis first.", "income_sharing.not_sharing"
        )
    if project.status not in rules.SHARING_STATUSES:
        raise _refuse(
            f"The project is {project.status}: income is shared out only from a completed or accepted "
            "project.",
            "income_sharing.project_status",
        )
    weights = await beneficiary_weights(session, principal, project.id)
    if not weights:
        raise _refuse(
            "The project has no beneficiary households to share with.", "income_sharing.no_beneficiaries"
        )
    if project.income_sharing_basis == "equal":
        weights = dict.fromkeys(weights, 1)
    shares = rules.split_income(amount_fen, weights)
    started = clock.now()
    # Plain values, not ORM attributes: a transfer expires the objects it locks.
    project_id, name, category, region_code = project.id, project.name, project.category, project.region_code
    project_account_id = (await ledger.account_for_project(session, principal, project_id)).id
    result = SharingResult(project_id, amount_fen)
    posted_now = 0
    for household_id in sorted(shares, key=str):
        share = shares[household_id]
        if share == 0:
            continue
        payee_id = (await ledger.account_for_household(session, principal, household_id)).id
        transfer = await ledger.transfer(
            session,
            principal,
            ledger.TransferRequest(
                kind="disbursement",
                debit_account_id=project_account_id,
                credit_account_id=payee_id,
                amount_fen=share,
                fiscal_year=fiscal_year,
                document_number=document_number,
                purpose=purpose or f"{name} 收益分红",
                category=category,
                # Per caller, like the ledger's own keys: another person's key never collides.
                idempotency_key=f"{principal.subject}:share:{idempotency_key}:{household_id}",
            ),
        )
        result.payments.append((household_id, share, transfer.id, transfer.status))
        if transfer.status == "posted" and transfer.created_at >= started:  # not a replay of a retry
            posted_now += share
    if posted_now:
        await session.refresh(project)
        project.income_shared_fen += posted_now
        await session.flush()
        await audit.record(
            session,
            principal,
            action="share_income",
            record_type="project",
            record_ids=[str(project_id)],
            region_code=region_code,
            fields=["income_shared_fen"],
            details={
                "amount_fen": amount_fen,
                "households": len(result.payments),
                "document_number": document_number,
            },
        )
    return result
