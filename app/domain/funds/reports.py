"""The fund report (资金报表) of a region and fiscal year: received, allocated on, disbursed, returned,
reserved, balance, balance ratio (结余率) and disbursement progress (支出进度), split by source, by category
and per child region.

Set-based SQL over the ledger's transfers (helper L's ``fund_transfers`` and ``fund_transfer_sources``): a
transfer touching a subtree always has its ``region_code`` (the deeper account's region) inside it, so one
index range of the year's transfers under the region's prefix holds everything the report needs
(``ix_fund_transfers_fiscal_year_region_code``). Each transfer counts from both sides:

* the money a *unit* (the subtree, or one child region's subtree, or the region's own level 本级) holds is
  in its pools and project accounts ("held" accounts; source and payee accounts are never held);
* **received**: posted money into a held account of the unit from outside the unit (a source, a pool above
  or, for the region's own level, nothing else), not from a payee;
* **allocated on** (下拨): allocations out of the pool at the unit's top region (to regions or projects
  below); **disbursed**: paid from a held account to households and contractors, less what was recovered
  from payees; **returned**: recovered (收回) out of the unit to a pool above; **sent down**: allocated out
  of the unit (only the region's own level sends money to its children);
* **balance** = received − sent down − returned − disbursed (what the unit's accounts hold of that year's
  money); **reserved**: held by pending transfers out of the unit's accounts (part of the balance);
* **balance ratio** = balance / received and **disbursement progress** = disbursed / received, decimals with
  4 places, null when nothing was received.

A reversal counts as its original with the opposite sign, so a corrected mistake leaves no trace in the
figures. Amounts are integer fen here; the API shows yuan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import FundAccount, FundTransfer, FundTransferSource, Region
from app.db.models.funds import SOURCES
from app.domain.access import require
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.regions.service import get_region
from app.domain.scope import restrict, within_prefix

FIGURES = ("received", "allocated_on", "disbursed", "returned", "sent_down", "reserved")
ZEROS = "0" * codes.CODE_LENGTH


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """A share as a decimal with 4 places (0.0399 is 3.99%), None when the denominator is zero."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


@dataclass
class Figures:
    received: int = 0
    allocated_on: int = 0
    disbursed: int = 0
    returned: int = 0
    sent_down: int = 0
    reserved: int = 0

    @property
    def balance(self) -> int:
        return self.received - self.sent_down - self.returned - self.disbursed

    @property
    def balance_ratio(self) -> Decimal | None:
        return ratio(self.balance, self.received)

    @property
    def disbursement_progress(self) -> Decimal | None:
        return ratio(self.disbursed, self.received)

    def add(self, row: Any) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + int(getattr(row, name) or 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in FIGURES},
            "balance": self.balance,
            "balance_ratio": self.balance_ratio,
            "disbursement_progress": self.disbursement_progress,
        }


@dataclass
class FundReport:
    region_code: str
    region_name: str
    fiscal_year: int
    total: Figures = field(default_factory=Figures)
    by_source: dict[str, Figures] = field(default_factory=dict)
    by_category: dict[str, Figures] = field(default_factory=dict)
    own_level: Figures | None = None  # 本级: the region's own pool and projects, when it has children
    children: list[tuple[str, str, Figures]] = field(default_factory=list)  # (code, name, figures)


def _unit_total(prefix: str, region_code: str) -> Any:
    """Everything in the subtree is one unit, keyed by the region's code."""
    return lambda column: case((within_prefix(column, prefix), literal(region_code)), else_=None)


def _unit_children(prefix: str, region_code: str, child_length: int) -> Any:
    """The region's own level is a unit (its code); each child region's subtree is one (the child's code)."""
    padding = literal(ZEROS[child_length:]) if child_length < codes.CODE_LENGTH else literal("")

    def unit(column: Any) -> Any:
        return case(
            (column == region_code, literal(region_code)),
            (within_prefix(column, prefix), func.substr(column, 1, child_length).concat(padding)),
            else_=None,
        )

    return unit


def _flows(principal: Principal, prefix: str, fiscal_year: int, split: str | None) -> Any:
    """The year's transfers under the prefix as *flows*: effective kind (a reversal counts as its original,
    negated and turned round), debit and credit region, whether the debit side is a payee, category (and
    source), summed. Twenty payments from a project to its contractor are one row, so what follows works on
    thousands of rows, not hundreds of thousands."""
    original = aliased(FundTransfer)
    is_reversal = FundTransfer.kind == "reversal"
    original_kind = (
        select(original.kind)
        .where(original.id == FundTransfer.reverses_id)
        .scalar_subquery()  # scope: same accounts
    )
    amount: Any = FundTransfer.amount_fen
    columns: list[Any] = []
    if split == "source":
        amount = FundTransferSource.amount_fen
        columns.append(FundTransferSource.source.label("source"))
    statement = select(
        FundTransfer.status.label("status"),
        case((is_reversal, original_kind), else_=FundTransfer.kind).label("k"),
        case((is_reversal, -amount), else_=amount).label("amount"),
        case((is_reversal, FundTransfer.credit_region_code), else_=FundTransfer.debit_region_code).label(
            "dr"
        ),
        case((is_reversal, FundTransfer.debit_region_code), else_=FundTransfer.credit_region_code).label(
            "cr"
        ),
        case((is_reversal, FundTransfer.credit_account_id), else_=FundTransfer.debit_account_id).label("da"),
        FundTransfer.category.label("category"),
        *columns,
    ).where(
        FundTransfer.fiscal_year == fiscal_year,
        FundTransfer.status.in_(("posted", "pending")),
        within_prefix(FundTransfer.region_code, prefix),
    )
    if split == "source":
        statement = statement.join(FundTransferSource, FundTransferSource.transfer_id == FundTransfer.id)
    transfers = restrict(statement, FundTransfer, principal).subquery("t")
    t = transfers.c
    # Only a recovery can debit a payee (money back from a household or contractor): look the account up for
    # those rows alone (a CASE evaluates its branches lazily).
    payee_account = restrict(
        select(FundAccount.id).where(FundAccount.id == t.da, FundAccount.kind == "payee"),
        FundAccount,
        principal,
    )
    debit_is_payee = case((t.k == "recovery", case((exists(payee_account), 1), else_=0)), else_=0)
    keyed = select(
        t.status,
        t.k,
        t.dr,
        t.cr,
        debit_is_payee.label("dp"),
        t.category,
        *([t.source] if split else []),
        t.amount,
    ).subquery("keyed")
    k = keyed.c
    keys = [k.status, k.k, k.dr, k.cr, k.dp, k.category, *([k.source] if split else [])]
    return select(*keys, func.sum(k.amount).label("amount")).group_by(*keys).cte("flows")


def _sides(principal: Principal, prefix: str, fiscal_year: int, unit: Any, split: str | None) -> Any:
    """One row per flow side inside the subtree: the unit of this side and the flow from its point of view."""
    flows = _flows(principal, prefix, fiscal_year, split)
    flagged = select(flows, unit(flows.c.dr).label("du"), unit(flows.c.cr).label("cu")).subquery("f")
    f = flagged.c
    debit_held = case((f.k == "appropriation", 0), (f.k == "recovery", 1 - f.dp), else_=1)
    credit_held = case((f.k == "disbursement", 0), else_=1)
    # Whether the other side of the flow is a held account of the same unit (then nothing crosses).
    other_in_unit_debit = and_(f.cu.is_not(None), f.du == f.cu, credit_held == 1)  # seen from the debit side
    other_in_unit_credit = and_(f.du.is_not(None), f.du == f.cu, debit_held == 1)  # seen from the credit side
    amount = f.amount
    source_column: ColumnElement[Any] = f.source if split == "source" else literal(None)
    posted = f.status == "posted"
    pending = f.status == "pending"
    debit_side = select(
        f.du.label("unit"),
        source_column.label("source"),
        f.category.label("category"),
        case((and_(posted, f.k == "disbursement"), amount), else_=0).label("disbursed"),
        literal(0).label("received"),
        case((and_(posted, f.k == "allocation", f.dr == f.du), amount), else_=0).label("allocated_on"),
        case((and_(posted, f.k == "recovery", ~other_in_unit_debit), amount), else_=0).label("returned"),
        case((and_(posted, f.k == "allocation", ~other_in_unit_debit), amount), else_=0).label("sent_down"),
        case((pending, amount), else_=0).label("reserved"),
    ).where(f.du.is_not(None), debit_held == 1)
    credit_side = select(
        f.cu.label("unit"),
        source_column.label("source"),
        f.category.label("category"),
        case((and_(posted, f.dp == 1), -amount), else_=0).label("disbursed"),
        case((and_(posted, f.dp == 0, ~other_in_unit_credit), amount), else_=0).label("received"),
        literal(0).label("allocated_on"),
        literal(0).label("returned"),
        literal(0).label("sent_down"),
        literal(0).label("reserved"),
    ).where(f.cu.is_not(None), credit_held == 1)
    return union_all(debit_side, credit_side).subquery("sides")


async def _aggregate(
    session: AsyncSession,
    principal: Principal,
    prefix: str,
    fiscal_year: int,
    unit: Any,
    *,
    split: str | None,
    by: str | None,
) -> list[Any]:
    if session.get_bind().dialect.name == "postgresql":
        # Compiling this plan with JIT took longer (2.8 s) than running it: see bench/RESULTS.md.
        await session.execute(text("SET LOCAL jit = off"))
    sides = _sides(principal, prefix, fiscal_year, unit, split)
    keys = [sides.c.unit] + ([sides.c[by]] if by else [])
    statement = select(*keys, *(func.sum(sides.c[name]).label(name) for name in FIGURES)).group_by(*keys)
    return list((await session.execute(statement)).all())


async def fund_report(
    session: AsyncSession, principal: Principal, region_code: str, fiscal_year: int
) -> FundReport:
    """The report of a region in the caller's scope (404 otherwise) for a fiscal year."""
    region = await get_region(session, principal, region_code)
    require(principal, Permission.FUNDS_READ)
    prefix = codes.region_prefix(region.code)
    report = FundReport(region.code, region.name, fiscal_year)
    total_unit = _unit_total(prefix, region.code)
    for row in await _aggregate(
        session, principal, prefix, fiscal_year, total_unit, split=None, by="category"
    ):
        report.total.add(row)
        report.by_category.setdefault(row.category, Figures()).add(row)
    for row in await _aggregate(
        session, principal, prefix, fiscal_year, total_unit, split="source", by="source"
    ):
        report.by_source.setdefault(row.source, Figures()).add(row)
    if codes.level_of(region.code) == "village":
        return report
    child_length = _child_length(prefix)
    units = {
        row.unit: row
        for row in await _aggregate(
            session,
            principal,
            prefix,
            fiscal_year,
            _unit_children(prefix, region.code, child_length),
            split=None,
            by=None,
        )
    }
    report.own_level = Figures()
    if region.code in units:
        report.own_level.add(units.pop(region.code))
    names = await _child_names(session, principal, region.code)
    for code in sorted(set(names) | set(units)):
        figures = Figures()
        if code in units:
            figures.add(units[code])
        report.children.append((code, names.get(code, ""), figures))
    return report


def _child_length(prefix: str) -> int:
    longer = [end for _, end in codes.GROUPS if end > len(prefix)]
    return longer[0] if longer else codes.CODE_LENGTH


async def _child_names(session: AsyncSession, principal: Principal, region_code: str) -> dict[str, str]:
    rows = await session.execute(
        restrict(select(Region.code, Region.name).where(Region.parent_code == region_code), Region, principal)  # type: ignore[arg-type]
    )
    return {row.code: row.name for row in rows}


def source_order(source: str) -> int:
    """Sources in the ledger's order (central first)."""
    return SOURCES.index(source) if source in SOURCES else len(SOURCES)
