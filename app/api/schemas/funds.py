"""Schemas of the funds ledger. Amounts are decimal strings in yuan with two places (``"12.34"``); the
database keeps integer fen. Inputs accept a string or a number with at most two decimal places."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.api.schemas.common import InputModel, ReadModel, RegionCodeStr

Source = Literal[
    "central", "provincial", "prefecture", "county", "integrated", "donation", "enterprise_repayment"
]
AccountKind = Literal["source", "pool", "project", "payee"]
TransferKind = Literal["appropriation", "allocation", "disbursement", "recovery", "reversal"]
MovingKind = Literal["appropriation", "allocation", "disbursement", "recovery"]
TransferStatus = Literal["pending", "posted", "rejected"]
Category = Literal[
    "industry",
    "employment",
    "education",
    "health",
    "social_security",
    "house_renovation",
    "relocation",
    "ecology",
    "infrastructure",
    "village_renovation",
    "photovoltaic",
    "microcredit",
    "general",
]
Yuan = Annotated[
    str,
    Field(description="Yuan, a decimal string with two places (stored as integer fen)", examples=["12.34"]),
]
AmountIn = Annotated[
    Decimal,
    Field(
        gt=0,
        max_digits=15,
        decimal_places=2,
        description='Yuan, at most two decimal places: `"12.34"` (a JSON number is accepted too)',
        examples=["5000.00"],
    ),
]
FiscalYear = Annotated[int, Field(ge=2000, le=2100, description="Fiscal year (资金年度)", examples=[2020])]
DocumentNumber = Annotated[
    str,
    Field(
        min_length=1, max_length=100, description="Document number (文号)", examples=["秦财扶发〔2020〕12号"]
    ),
]


def fen_to_yuan(fen: int) -> str:
    return str(Decimal(fen).scaleb(-2))


def yuan_to_fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


class ContractorRef(InputModel):
    region_code: RegionCodeStr = Field(description="Region the contractor is registered in (in your scope)")
    name: str = Field(min_length=1, max_length=200, description="Name of the company (施工单位)")
    credit_code: str = Field(
        min_length=18,
        max_length=18,
        description="统一社会信用代码 (18 characters)",
        examples=["91620522MA7XXXXX1A"],
    )


class AccountRef(InputModel):
    """An account, by id or by what it is for (created on first use). Exactly one of: ``account_id``;
    ``pool`` (a county, township or village code); ``project_id``; ``household_id``; ``source`` with
    ``county``; ``contractor``."""

    account_id: uuid.UUID | None = None
    pool: RegionCodeStr | None = Field(default=None, description="The pool (资金池) of this region")
    project_id: uuid.UUID | None = Field(default=None, description="A project's account")
    household_id: uuid.UUID | None = Field(default=None, description="A household's payee account")
    source: Source | None = Field(default=None, description="An external source's account (with `county`)")
    county: RegionCodeStr | None = Field(default=None, description="The county of a source account")
    contractor: ContractorRef | None = Field(default=None, description="A contractor's payee account")

    @model_validator(mode="after")
    def _exactly_one(self) -> AccountRef:
        named = [
            name
            for name in ("account_id", "pool", "project_id", "household_id", "source", "contractor")
            if getattr(self, name) is not None
        ]
        if len(named) != 1:
            raise ValueError(
                "name the account by exactly one of account_id, pool, project_id, household_id, source, "
                "contractor"
            )
        if (self.source is None) != (self.county is None):
            raise ValueError("`source` and `county` go together")
        return self


class TransferCreate(InputModel):
    kind: MovingKind = Field(
        description="appropriation (source → county pool), allocation (pool → a pool or project below), "
        "disbursement (pool or project → household or contractor), recovery (收回: back to a pool above)"
    )
    debit: AccountRef = Field(description="The account the money leaves")
    credit: AccountRef = Field(description="The account the money goes to")
    amount: AmountIn
    fiscal_year: FiscalYear
    document_number: DocumentNumber
    purpose: str = Field(min_length=1, max_length=2000, description="What the money is for (用途)")
    category: Category = Field(description="A plan-measure category, or `general`")
    source: Source | None = Field(
        default=None,
        description="Spend only money from this source; when omitted the account's sources are spent in the "
        "order central, provincial, prefecture, county, integrated, donation, enterprise_repayment",
    )


class TransferDecision(InputModel):
    note: str | None = Field(default=None, max_length=2000, description="Why (审批意见)")


class TransferReverse(InputModel):
    document_number: DocumentNumber
    purpose: str = Field(min_length=1, max_length=2000, description="Why the transfer is undone")
    fiscal_year: FiscalYear | None = Field(default=None, description="Defaults to the original's")


class SourceAmount(ReadModel):
    source: Source
    amount: Yuan


class TransferRead(ReadModel):
    id: uuid.UUID
    kind: TransferKind
    status: TransferStatus = Field(description="pending (amount reserved), posted, rejected")
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: Yuan
    region_code: RegionCodeStr = Field(description="The deeper of the two accounts' regions")
    debit_region_code: RegionCodeStr
    credit_region_code: RegionCodeStr
    fiscal_year: int
    document_number: str
    purpose: str
    category: str
    source: Source | None = Field(description="The one source asked for, if any")
    sources: list[SourceAmount] = Field(description="How the amount splits by source (资金来源)")
    reverses_id: uuid.UUID | None = Field(description="The transfer this one reverses")
    reversed_by_id: uuid.UUID | None = Field(
        default=None, description="The reversal of this transfer, if any"
    )
    created_by_name: str
    created_at: datetime
    decided_by_name: str | None = Field(description="Who posted (approved) or rejected it")
    decided_at: datetime | None
    decision_note: str | None


class SourceBalanceRead(ReadModel):
    source: Source
    balance: Yuan
    reserved: Yuan
    available: Yuan


class AccountRead(ReadModel):
    id: uuid.UUID
    kind: AccountKind
    region_code: RegionCodeStr
    name: str
    source: Source | None
    project_id: uuid.UUID | None
    payee_kind: Literal["household", "contractor"] | None
    household_id: uuid.UUID | None
    contractor_code: str | None
    balance: Yuan = Field(description="Sum of the account's entries (source accounts: minus what they paid)")
    reserved: Yuan = Field(description="Held by pending transfers")
    available: Yuan = Field(description="balance − reserved")
    created_at: datetime


class AccountDetail(AccountRead):
    sources: list[SourceBalanceRead] = Field(description="The balance split by source")


class EntryRead(ReadModel):
    id: int
    transfer_id: uuid.UUID
    account_id: uuid.UUID
    region_code: RegionCodeStr
    source: Source
    amount: Yuan = Field(description="Negative: money out; positive: money in")
    fiscal_year: int
    posted_at: datetime
    kind: TransferKind
    document_number: str
