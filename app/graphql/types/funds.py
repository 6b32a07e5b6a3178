"""The funds ledger (扶贫资金) and its reports: ``fundAccounts`` and ``fundTransfers`` (the filters of the
REST lists), each by id, an account's balance by source and its entries (明细账, a connection), a transfer's
accounts, split by source and reversal, and ``fundReport(regionCode, fiscalYear)`` (资金报表: received,
allocated on, disbursed, balance, balance ratio 结余率, …, by source, by category and per child region).

Amounts are yuan as decimal strings with two places (``"1200.00"``), as REST shows them; the ratios of the
report are numbers with 4 places (0.0399 = 3.99%), null when nothing was received."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from pydantic import Field
from sqlalchemy import Row

from app.api.schemas.common import RegionCodeStr
from app.api.schemas.funds import AccountKind, TransferKind, TransferStatus
from app.api.schemas.projects import to_yuan
from app.domain.errors import NotFound
from app.domain.funds import batches, queries, reports
from app.domain.pagination import Page, PageRequest
from app.graphql.connections import (
    AFTER_DESCRIPTION,
    DEFAULT_FIRST,
    FIRST_DESCRIPTION,
    Connection,
    page_request,
)
from app.graphql.context import GraphQLContext, Info
from app.graphql.types.households import Household
from app.graphql.types.projects import Project, project_by_id
from app.graphql.types.regions import Region
from app.graphql.types.responsibility import load_household, load_region
from app.graphql.types.support import attributes, checked

Year = Annotated[int, Field(ge=2000, le=2100)]
First = Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]
SOURCES = "central, provincial, prefecture, county, integrated, donation, enterprise_repayment"


def yuan(fen: int) -> Decimal:
    return to_yuan(fen) or Decimal("0.00")


# DataLoader batch functions ------------------------------------------------------------------------------


async def _accounts_by(
    context: GraphQLContext, column: str, keys: Sequence[uuid.UUID]
) -> list[list[Row[Any]]]:
    found = await batches.accounts_by(context.session, context.principal, column, keys)
    return [found[key] for key in keys]


async def account_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    return [rows[0] if rows else None for rows in await _accounts_by(context, "id", keys)]


async def accounts_of_project(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await _accounts_by(context, "project_id", keys)


async def accounts_of_household(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await _accounts_by(context, "household_id", keys)


async def account_sources(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await batches.account_sources(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def entry_pages(
    context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, int | None, int, str | None]]
) -> list[Page[dict[str, Any]]]:
    """Keyed by (account id, fiscal year, first, after): one statement per distinct page asked for."""
    result: dict[tuple[uuid.UUID, int | None, int, str | None], Page[dict[str, Any]]] = {}
    for year, first, after in {key[1:] for key in keys}:
        ids = [key[0] for key in keys if key[1:] == (year, first, after)]
        found = await batches.entry_pages(
            context.session, context.principal, ids, PageRequest(limit=first, cursor=after), year
        )
        result.update({(account_id, year, first, after): page for account_id, page in found.items()})
    return [result[key] for key in keys]


async def entry_counts(context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, int | None]]) -> list[int]:
    found = await batches.count_entries(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def transfer_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[dict[str, Any] | None]:
    found = await batches.transfers_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def reversal_of(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[uuid.UUID | None]:
    found = await batches.reversals_of(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def load_account(info: Info, account_id: uuid.UUID) -> FundAccount | None:
    row = await info.context.loader(account_by_id).load(account_id)
    return FundAccount.from_row(row) if row is not None else None


async def load_transfer(info: Info, transfer_id: uuid.UUID | None) -> FundTransfer | None:
    if transfer_id is None:
        return None
    row = await info.context.loader(transfer_by_id).load(transfer_id)
    return FundTransfer.from_row(row) if row is not None else None


# Accounts -----------------------------------------------------------------------------------------------


@strawberry.type(description="An account's balance of one source (资金来源)")
class SourceBalance:
    source: str = strawberry.field(description=SOURCES)
    balance: Decimal
    reserved: Decimal = strawberry.field(description="Held by pending transfers")
    available: Decimal = strawberry.field(description="balance − reserved")


@strawberry.type(description="An entry of an account (明细账): money in (positive) or out (negative)")
class FundEntry:
    id: int
    transfer_id: uuid.UUID
    account_id: uuid.UUID
    region_code: str = strawberry.field(description="The account's region")
    source: str = strawberry.field(description=SOURCES)
    amount: Decimal = strawberry.field(description="Yuan; negative: money out, positive: money in")
    fiscal_year: int
    posted_at: datetime
    kind: str = strawberry.field(description="The transfer's kind")
    document_number: str = strawberry.field(description="The transfer's 文号")

    @classmethod
    def from_row(cls, row: Any) -> FundEntry:
        row = attributes(row)
        values = {name: getattr(row, name) for name in cls.__annotations__ if name != "amount"}
        return cls(**values, amount=yuan(row.amount_fen))

    @strawberry.field(description="The transfer that posted it")
    async def transfer(self, info: Info) -> FundTransfer | None:
        return await load_transfer(info, self.transfer_id)


@strawberry.type(description="A fund account: a source, a region's pool (资金池), a project's, or a payee's")
class FundAccount:
    id: uuid.UUID
    kind: str = strawberry.field(description="source, pool, project or payee")
    region_code: str
    name: str
    source: str | None = strawberry.field(description="A source account's budget")
    project_id: uuid.UUID | None
    payee_kind: str | None = strawberry.field(description="household or contractor")
    household_id: uuid.UUID | None
    contractor_code: str | None = strawberry.field(description="统一社会信用代码 of a contractor")
    balance: Decimal = strawberry.field(description="Sum of the account's entries, yuan")
    reserved: Decimal = strawberry.field(description="Held by pending transfers, yuan")
    available: Decimal = strawberry.field(description="balance − reserved, yuan")
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> FundAccount:
        row = attributes(row)
        return cls(
            id=row.id,
            kind=row.kind,
            region_code=row.region_code,
            name=row.name,
            source=row.source,
            project_id=row.project_id,
            payee_kind=row.payee_kind,
            household_id=row.household_id,
            contractor_code=row.contractor_code,
            balance=yuan(row.balance_fen),
            reserved=yuan(row.reserved_fen),
            available=yuan(row.balance_fen - row.reserved_fen),
            created_at=row.created_at,
        )

    @strawberry.field(description="The balance split by source (sources it holds nothing of left out)")
    async def sources(self, info: Info) -> list[SourceBalance]:
        rows = await info.context.loader(account_sources).load(self.id)
        return [
            SourceBalance(
                source=row.source,
                balance=yuan(row.balance_fen),
                reserved=yuan(row.reserved_fen),
                available=yuan(row.balance_fen - row.reserved_fen),
            )
            for row in rows
        ]

    @strawberry.field(description="The account's entries in posting order, of one fiscal year or all")
    async def entries(
        self, info: Info, fiscal_year: int | None = None, first: First = DEFAULT_FIRST, after: After = None
    ) -> Connection[FundEntry]:
        year = checked({"fiscal_year": (Year, fiscal_year)}, "fiscalYear")["fiscal_year"]
        request = page_request(first, after)
        page = await info.context.loader(entry_pages).load((self.id, year, request.limit, request.cursor))

        async def count() -> int:
            return int(await info.context.loader(entry_counts).load((self.id, year)))

        return Connection.of(page, queries.ENTRY_KEYS, FundEntry.from_row, count)

    @strawberry.field(description="The project of a project account")
    async def project(self, info: Info) -> Project | None:
        if self.project_id is None:
            return None
        row = await info.context.loader(project_by_id).load(self.project_id)
        return Project.from_row(row) if row is not None else None

    @strawberry.field(description="The household of a household's payee account")
    async def household(self, info: Info) -> Household | None:
        return await load_household(info, self.household_id)

    @strawberry.field(description="The account's region")
    async def region(self, info: Info) -> Region | None:
        return await load_region(info, self.region_code)


# Transfers ----------------------------------------------------------------------------------------------


@strawberry.type(description="How much of a transfer came from one source")
class SourceAmount:
    source: str = strawberry.field(description=SOURCES)
    amount: Decimal


@strawberry.type(description="A transfer: appropriation, allocation, disbursement, recovery or reversal")
class FundTransfer:
    id: uuid.UUID
    kind: str = strawberry.field(description="appropriation, allocation, disbursement, recovery, reversal")
    status: str = strawberry.field(description="pending (amount reserved), posted, rejected")
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: Decimal = strawberry.field(description="Yuan")
    region_code: str = strawberry.field(description="The deeper of the two accounts' regions")
    debit_region_code: str
    credit_region_code: str
    fiscal_year: int
    document_number: str = strawberry.field(description="文号")
    purpose: str
    category: str
    source: str | None = strawberry.field(description="The one source asked for, if any")
    sources: list[SourceAmount] = strawberry.field(description="How the amount splits by source (资金来源)")
    reverses_id: uuid.UUID | None = strawberry.field(description="The transfer this one reverses")
    created_by_name: str
    created_at: datetime
    decided_by_name: str | None = strawberry.field(description="Who posted (approved) or rejected it")
    decided_at: datetime | None
    decision_note: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FundTransfer:
        values = {name: row[name] for name in cls.__annotations__ if name not in ("amount", "sources")}
        return cls(
            **values,
            amount=yuan(row["amount_fen"]),
            sources=[SourceAmount(source=s["source"], amount=yuan(s["amount_fen"])) for s in row["sources"]],
        )

    @strawberry.field(description="The account the money left, when you can see it")
    async def debit_account(self, info: Info) -> FundAccount | None:
        return await load_account(info, self.debit_account_id)

    @strawberry.field(description="The account the money went to, when you can see it")
    async def credit_account(self, info: Info) -> FundAccount | None:
        return await load_account(info, self.credit_account_id)

    @strawberry.field(description="The transfer this one reverses")
    async def reverses(self, info: Info) -> FundTransfer | None:
        return await load_transfer(info, self.reverses_id)

    @strawberry.field(description="The id of the reversal of this transfer, if any")
    async def reversed_by_id(self, info: Info) -> uuid.UUID | None:
        found: uuid.UUID | None = await info.context.loader(reversal_of).load(self.id)
        return found

    @strawberry.field(description="The reversal of this transfer, if any")
    async def reversed_by(self, info: Info) -> FundTransfer | None:
        return await load_transfer(info, await info.context.loader(reversal_of).load(self.id))


# The fund report ----------------------------------------------------------------------------------------


@strawberry.type(
    description="Figures of a fund report, yuan; ratios with 4 places, null when nothing was received"
)
class FundFigures:
    received: Decimal = strawberry.field(
        description="到位: posted into the unit's pools and projects from outside"
    )
    allocated_on: Decimal = strawberry.field(description="下拨: allocated from the unit's own pool below")
    disbursed: Decimal = strawberry.field(
        description="支出: paid to households and contractors, less recoveries"
    )
    returned: Decimal = strawberry.field(description="收回: recovered out of the unit to a pool above")
    sent_down: Decimal = strawberry.field(description="Allocated out of the unit")
    reserved: Decimal = strawberry.field(description="Held by pending transfers (part of the balance)")
    balance: Decimal = strawberry.field(description="结余 = received − sent_down − returned − disbursed")
    balance_ratio: float | None = strawberry.field(description="结余率 = balance / received")
    disbursement_progress: float | None = strawberry.field(description="支出进度 = disbursed / received")

    @classmethod
    def of(cls, figures: reports.Figures) -> FundFigures:
        values = figures.as_dict()
        return cls(
            **{name: yuan(values[name]) for name in (*reports.FIGURES, "balance")},
            balance_ratio=_ratio(values["balance_ratio"]),
            disbursement_progress=_ratio(values["disbursement_progress"]),
        )


def _ratio(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(description="Figures of one source")
class SourceFigures:
    source: str = strawberry.field(description=SOURCES)
    figures: FundFigures


@strawberry.type(description="Figures of one category")
class CategoryFigures:
    category: str
    figures: FundFigures


@strawberry.type(description="Figures of one child region")
class ChildFigures:
    region_code: str
    name: str
    figures: FundFigures


@strawberry.type(description="The fund report of a region and fiscal year (资金报表)")
class FundReport:
    region_code: str
    name: str
    fiscal_year: int
    total: FundFigures
    by_source: list[SourceFigures]
    by_category: list[CategoryFigures]
    own_level: FundFigures | None = strawberry.field(description="本级: the region's own pool and projects")
    children: list[ChildFigures] = strawberry.field(description="Per child region, zeros included")


# Root fields --------------------------------------------------------------------------------------------


@strawberry.input(description="The account list's filters (the same as GET /api/v1/fund-accounts)")
class FundAccountFilterInput:
    region: str | None = strawberry.field(default=None, description="Only this region's subtree")
    kind: str | None = strawberry.field(default=None, description="source, pool, project or payee")
    project_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None


@strawberry.input(description="The transfer list's filters (the same as GET /api/v1/fund-transfers)")
class FundTransferFilterInput:
    kind: str | None = None
    status: str | None = None
    fiscal_year: int | None = None
    region: str | None = strawberry.field(default=None, description="Transfers reaching into this subtree")
    account_id: uuid.UUID | None = strawberry.field(default=None, description="Either side")
    document_number: str | None = strawberry.field(default=None, description="文号, exact")


def _account_filter(given: FundAccountFilterInput | None) -> queries.AccountFilter:
    given = given or FundAccountFilterInput()
    values = checked({"region": (RegionCodeStr, given.region), "kind": (AccountKind, given.kind)})
    return queries.AccountFilter(**values, project_id=given.project_id, household_id=given.household_id)


def _transfer_filter(given: FundTransferFilterInput | None) -> queries.TransferFilter:
    given = given or FundTransferFilterInput()
    values = checked(
        {
            "kind": (TransferKind, given.kind),
            "status": (TransferStatus, given.status),
            "fiscal_year": (Year, given.fiscal_year),
            "region": (RegionCodeStr, given.region),
            "document_number": (Annotated[str, Field(max_length=100)], given.document_number),
        }
    )
    return queries.TransferFilter(**values, account_id=given.account_id)


@strawberry.type
class FundQuery:
    @strawberry.field(description="Fund accounts in your scope, by region and id")
    async def fund_accounts(
        self,
        info: Info,
        filter: FundAccountFilterInput | None = None,
        first: First = DEFAULT_FIRST,
        after: After = None,
    ) -> Connection[FundAccount]:
        context = info.context
        f = _account_filter(filter)
        page = await queries.list_accounts(context.session, context.principal, f, page_request(first, after))

        async def count() -> int:
            return await batches.count_accounts(context.session, context.principal, f)

        return Connection.of(page, queries.ACCOUNT_KEYS, FundAccount.from_row, count)

    @strawberry.field(
        description="A fund account in your scope (an error `fund_account.not_found` otherwise)"
    )
    async def fund_account(self, info: Info, id: uuid.UUID) -> FundAccount:
        account = await load_account(info, id)
        if account is None:
            raise NotFound("fund account")
        return account

    @strawberry.field(description="Transfers reaching into your scope, by creation time")
    async def fund_transfers(
        self,
        info: Info,
        filter: FundTransferFilterInput | None = None,
        first: First = DEFAULT_FIRST,
        after: After = None,
    ) -> Connection[FundTransfer]:
        context = info.context
        f = _transfer_filter(filter)
        page = await queries.list_transfers(context.session, context.principal, f, page_request(first, after))

        async def count() -> int:
            return await batches.count_transfers(context.session, context.principal, f)

        return Connection.of(page, queries.TRANSFER_KEYS, FundTransfer.from_row, count)

    @strawberry.field(description="A transfer in your scope (an error `fund_transfer.not_found` otherwise)")
    async def fund_transfer(self, info: Info, id: uuid.UUID) -> FundTransfer:
        transfer = await load_transfer(info, id)
        if transfer is None:
            raise NotFound("fund transfer")
        return transfer

    @strawberry.field(
        description="The fund report (资金报表) of a region in your scope for a fiscal year: in total, by "
        "source, by category, for the region's own level and per child region (as GET "
        "/api/v1/regions/{code}/fund-report)"
    )
    async def fund_report(self, info: Info, region_code: str, fiscal_year: int) -> FundReport:
        checked({"regionCode": (RegionCodeStr, region_code), "fiscalYear": (Year, fiscal_year)}, "report")
        context = info.context
        report = await reports.fund_report(context.session, context.principal, region_code, fiscal_year)
        return FundReport(
            region_code=report.region_code,
            name=report.region_name,
            fiscal_year=report.fiscal_year,
            total=FundFigures.of(report.total),
            by_source=[
                SourceFigures(source=source, figures=FundFigures.of(figures))
                for source, figures in sorted(
                    report.by_source.items(), key=lambda item: reports.source_order(item[0])
                )
            ],
            by_category=[
                CategoryFigures(category=category, figures=FundFigures.of(figures))
                for category, figures in sorted(report.by_category.items())
            ],
            own_level=None if report.own_level is None else FundFigures.of(report.own_level),
            children=[
                ChildFigures(region_code=code, name=name, figures=FundFigures.of(figures))
                for code, name, figures in report.children
            ],
        )
