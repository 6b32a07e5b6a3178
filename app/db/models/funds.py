"""The funds ledger (扶贫资金): accounts, their balances per source, transfers, their entries, and the
idempotency keys of transfer requests.

Amounts are integer fen (分) everywhere. The database itself refuses a balance below zero (CHECK), a
posted transfer whose entries do not sum to zero (triggers, see migration 0006) and any change to an entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JsonDocument, RegionCode, TimestampMixin

# Where money comes from (资金来源). Order matters: a debit that names no source consumes them in this
# order (higher-level budget funds first: they carry the strictest spending deadlines).
SOURCES = (
    "central",  # 中央财政
    "provincial",  # 省级财政
    "prefecture",  # 市级财政
    "county",  # 县级财政
    "integrated",  # 统筹整合涉农资金
    "donation",  # 社会捐赠
    "enterprise_repayment",  # 企业还款 (e.g. the 0.72 million a year of seed 004)
)
ACCOUNT_KINDS = ("source", "pool", "project", "payee")
PAYEE_KINDS = ("household", "contractor")
TRANSFER_KINDS = ("appropriation", "allocation", "disbursement", "recovery", "reversal")
TRANSFER_STATUSES = ("pending", "posted", "rejected")

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class FundAccount(TimestampMixin, Base):
    """An account: a region's pool (资金池), a project's account, an external source (the budget of one
    level of government as seen by one county) or a payee (a household or a contractor).

    ``natural_key`` names what the account is for (``pool:<region>``, ``source:<county>:<source>``,
    ``project:<id>``, ``household:<id>``, ``contractor:<region>:<credit code>``), so there is exactly one
    of each. Source accounts model external budgets: they are the only accounts allowed below zero (their
    balance is minus what they have paid into the county)."""

    __tablename__ = "fund_accounts"
    __table_args__ = (
        Index("ix_fund_accounts_region_code_id", "region_code", "id"),
        Index("ix_fund_accounts_project_id", "project_id"),
        Index("ix_fund_accounts_household_id", "household_id"),
        CheckConstraint(_known("kind", ACCOUNT_KINDS), name="kind_known"),
        CheckConstraint(f"source IS NULL OR {_known('source', SOURCES)}", name="source_known"),
        CheckConstraint(
            f"payee_kind IS NULL OR {_known('payee_kind', PAYEE_KINDS)}", name="payee_kind_known"
        ),
        CheckConstraint("(kind = 'source') = (source IS NOT NULL)", name="source_only_on_source_accounts"),
        CheckConstraint("(kind = 'project') = (project_id IS NOT NULL)", name="project_only_on_project"),
        CheckConstraint("(kind = 'payee') = (payee_kind IS NOT NULL)", name="payee_kind_only_on_payees"),
        CheckConstraint("reserved_fen >= 0", name="reserved_not_negative"),
        CheckConstraint("kind = 'source' OR balance_fen >= reserved_fen", name="available_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    natural_key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(32))  # source accounts: which budget
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("projects.id"))
    payee_kind: Mapped[str | None] = mapped_column(String(16))
    household_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("households.id"))
    contractor_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # held by pending transfers


class FundAccountSource(Base):
    """An account's balance from one source: any balance splits by where the money came from.

    The account's own ``balance_fen``/``reserved_fen`` are the sums of these rows; both change in the same
    transaction, under the account's row lock."""

    __tablename__ = "fund_account_sources"
    __table_args__ = (
        CheckConstraint(_known("source", SOURCES), name="source_known"),
        CheckConstraint("reserved_fen >= 0", name="reserved_not_negative"),
        CheckConstraint("is_external OR balance_fen >= reserved_fen", name="available_not_negative"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fund_accounts.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    is_external: Mapped[bool] = mapped_column(Boolean, default=False)  # a source account's row
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class FundTransfer(TimestampMixin, Base):
    """A movement of money from one account to another, immutable once posted (a mistake is undone by a
    reversal, a new transfer). Pending transfers hold their amount as ``reserved`` on the debit account
    until approved (posted) or rejected (released).

    ``region_code`` is the deeper of the two accounts' regions (one always lies within the other), so a
    transfer is seen by the region it reaches and by everyone above."""

    __tablename__ = "fund_transfers"
    __table_args__ = (
        Index("ix_fund_transfers_region_code_created_at", "region_code", "created_at"),
        Index("ix_fund_transfers_created_at_id", "created_at", "id"),
        Index("ix_fund_transfers_fiscal_year_region_code", "fiscal_year", "region_code"),  # the fund report
        Index("ix_fund_transfers_debit_account_id", "debit_account_id"),
        Index("ix_fund_transfers_credit_account_id", "credit_account_id"),
        Index("ix_fund_transfers_document_number", "document_number"),
        CheckConstraint(_known("kind", TRANSFER_KINDS), name="kind_known"),
        CheckConstraint(_known("status", TRANSFER_STATUSES), name="status_known"),
        CheckConstraint(f"source IS NULL OR {_known('source', SOURCES)}", name="source_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_names_original"),
        CheckConstraint("status = 'pending' OR decided_at IS NOT NULL", name="decided_when_not_pending"),
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    debit_account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fund_accounts.id"))
    credit_account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fund_accounts.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    region_code: Mapped[str] = mapped_column(RegionCode)  # the deeper account's region (scope)
    debit_region_code: Mapped[str] = mapped_column(RegionCode)
    credit_region_code: Mapped[str] = mapped_column(RegionCode)
    fiscal_year: Mapped[int]
    document_number: Mapped[str] = mapped_column(String(100))  # 文号
    purpose: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(32))  # the one source asked for, if any
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("fund_transfers.id"), unique=True
    )  # a transfer is reversed at most once
    idempotency_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))  # subject
    created_by_name: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))  # who posted (approved) or rejected it
    decided_by_name: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)


class FundTransferSource(Base):
    """How a transfer's amount splits by source: decided when it is created (reserved while pending),
    equal to its entries once posted."""

    __tablename__ = "fund_transfer_sources"
    __table_args__ = (
        CheckConstraint(_known("source", SOURCES), name="source_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    transfer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fund_transfers.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class FundEntry(Base):
    """One side of a posted transfer for one source: negative on the debit account, positive on the credit
    account. Append-only; an account's balance is the sum of its entries."""

    __tablename__ = "fund_entries"
    __table_args__ = (
        Index("ix_fund_entries_account_id_id", "account_id", "id"),
        Index("ix_fund_entries_transfer_id", "transfer_id"),
        Index("ix_fund_entries_region_code_fiscal_year", "region_code", "fiscal_year"),
        CheckConstraint(_known("source", SOURCES), name="source_known"),
        CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fund_transfers.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fund_accounts.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)  # the account's region
    source: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fiscal_year: Mapped[int]  # the transfer's, kept here so that reports per year need no join
    posted_at: Mapped[datetime]


class IdempotencyKey(Base):
    """A transfer request's ``Idempotency-Key``, per caller: the hash of the request it came with and the
    response it got, replayed for a retry. Kept at least 24 hours (``fupin funds purge-keys``)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response: Mapped[Any] = mapped_column(JsonDocument, nullable=True)
    created_at: Mapped[datetime]
