"""The fund report (资金报表) of a region and fiscal year: received, allocated on, disbursed, returned,
reserved, balance, balance ratio (结余率) and disbursement progress (支出进度), split by source, by category
and per child region.

Set-based SQL over the ledger's transfers (helper L's ``fund_transfers`` and ``fund_transfer_sources``): a
transfer touching a subtree always has its ``region_code`` (the deeper account's region) inside it, so one
range of the year's transfers under the region's prefix holds everything (index ``(fiscal_year,
region_code)``). One grouped query turns them into *flows* (per effective kind, debit and credit region,
category and source, summed: thousands of rows, not hundreds of thousands); each flow then counts from both
sides for every *unit* it touches:

* the money a *unit* (the subtree, or one child region's subtree, or the region's own level 本级) holds is
  in its pools and project accounts ("held" accounts; source and payee accounts are never held);
* **received**: posted money into a held account of the unit from outside the unit (a source or a pool
  above; for a child region also its parent's pool), not from a payee;
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

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, text, true
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


def flow_query(
    principal: Principal, prefix: str, fiscal_year: int, split: str | None, *, lateral: bool = False
) -> Any:
    """The year's transfers under the prefix as *flows*: effective kind (a reversal counts as its original,
    negated and turned round), debit and credit region, whether the debit side is a payee, category (and
    source), summed. Twenty payments from a project to its contractor are one row, so what follows works on
    thousands of rows, not hundreds of thousands.

    First a plain GROUP BY on the stored columns (a hash aggregate over one index range); only the rare
    reversals and recoveries keep their own rows, to be looked at one by one afterwards."""
    rare = FundTransfer.kind.in_(("reversal", "recovery"))
    amount: Any = FundTransfer.amount_fen
    extra: list[Any] = []
    sources: Any = None
    if split == "source":
        # PostgreSQL: LATERAL makes the split one primary-key lookup per transfer of the range (the planner
        # otherwise hashes the whole split table even for a county). SQLite has no LATERAL: a plain join.
        sources = (
            select(FundTransferSource.source, FundTransferSource.amount_fen)
            .where(FundTransferSource.transfer_id == FundTransfer.id)
            .offset(0)  # keeps the planner from pulling the subquery up into a hash join
            .lateral("s")
            if lateral
            else FundTransferSource.__table__
        )
        amount = sources.c.amount_fen
        extra.append(sources.c.source.label("source"))
    keys: list[Any] = [
        FundTransfer.status.label("status"),
        FundTransfer.kind.label("kind"),
        case((rare, FundTransfer.reverses_id), else_=None).label("reverses_id"),
        case((rare, FundTransfer.debit_account_id), else_=None).label("debit_account_id"),
        case((rare, FundTransfer.credit_account_id), else_=None).label("credit_account_id"),
        FundTransfer.debit_region_code.label("debit_region_code"),
        FundTransfer.credit_region_code.label("credit_region_code"),
        FundTransfer.category.label("category"),
        *extra,
    ]
    statement = select(*keys, func.sum(amount).label("amount")).where(
        FundTransfer.fiscal_year == fiscal_year,
        FundTransfer.status.in_(("posted", "pending")),
        within_prefix(FundTransfer.region_code, prefix),
    )
    if split == "source":
        statement = statement.join(sources, true() if lateral else sources.c.transfer_id == FundTransfer.id)
    grouped = restrict(statement.group_by(*keys), FundTransfer, principal).subquery("g")
    g = grouped.c
    original = aliased(FundTransfer)
    is_reversal = g.kind == "reversal"
    original_kind = (
        select(original.kind).where(original.id == g.reverses_id).scalar_subquery()  # scope: same accounts
    )
    k = case((is_reversal, original_kind), else_=g.kind)
    da = case((is_reversal, g.credit_account_id), else_=g.debit_account_id)
    # Only a recovery can debit a payee (money back from a household or contractor).
    debit_kind = restrict(select(FundAccount.kind).where(FundAccount.id == da), FundAccount, principal)
    return select(
        g.status,
        k.label("k"),
        case((is_reversal, -g.amount), else_=g.amount).label("amount"),
        case((is_reversal, g.credit_region_code), else_=g.debit_region_code).label("dr"),
        case((is_reversal, g.debit_region_code), else_=g.credit_region_code).label("cr"),
        case((k == "recovery", case((debit_kind.scalar_subquery() == "payee", 1), else_=0)), else_=0).label(
            "dp"
        ),
        g.category,
        *([g.source] if split else []),
    ).cte("flows")


class FlowAccumulator:
    """Adds each flow to the figures of the units it touches (the SQL does the heavy grouping; a flow here
    stands for every transfer between two regions of one kind, category and source)."""

    def __init__(self, region_code: str, prefix: str, child_length: int | None) -> None:
        self.region_code, self.prefix, self.child_length = region_code, prefix, child_length

    def unit(self, code: str, *, children: bool) -> str | None:
        if not code.startswith(self.prefix):
            return None
        if not children or code == self.region_code or self.child_length is None:
            return self.region_code
        return code[: self.child_length].ljust(codes.CODE_LENGTH, "0")

    @staticmethod
    def add(figures: Figures, flow: Any, du: str | None, cu: str | None) -> None:
        posted, k, amount, dp = flow.status == "posted", flow.k, int(flow.amount), flow.dp
        debit_held = k != "appropriation" and not (k == "recovery" and dp)
        credit_held = k != "disbursement"
        if du is not None and debit_held:
            other_in_unit = cu is not None and du == cu and credit_held
            if posted:
                if k == "disbursement":
                    figures.disbursed += amount
                elif k == "allocation":
                    figures.allocated_on += amount if flow.dr == du else 0
                    figures.sent_down += 0 if other_in_unit else amount
                elif k == "recovery" and not other_in_unit:
                    figures.returned += amount
            else:
                figures.reserved += amount
        if cu is not None and credit_held and posted:
            other_in_unit = du is not None and du == cu and debit_held
            if dp:
                figures.disbursed -= amount
            elif not other_in_unit:
                figures.received += amount


async def _read_flows(
    session: AsyncSession, principal: Principal, prefix: str, fiscal_year: int
) -> list[Any]:
    if session.get_bind().dialect.name == "postgresql":
        # Compiling this plan with JIT took longer (2.8 s) than running it; hashing 100k+ keys wants memory.
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
    # A county or below: the split by primary key per transfer; a prefecture or province reads half the
    # ledger, where hashing the split table once is cheaper.
    lateral = session.get_bind().dialect.name == "postgresql" and len(prefix) >= len("620522")
    flows = flow_query(principal, prefix, fiscal_year, "source", lateral=lateral)
    return list((await session.execute(select(flows))).all())


async def fund_report(
    session: AsyncSession, principal: Principal, region_code: str, fiscal_year: int
) -> FundReport:
    """The report of a region in the caller's scope (404 otherwise) for a fiscal year: one grouped query
    (the flows, per source), then the figures of every unit from those few thousand rows."""
    region = await get_region(session, principal, region_code)
    require(principal, Permission.FUNDS_READ)
    prefix = codes.region_prefix(region.code)
    report = FundReport(region.code, region.name, fiscal_year)
    is_village = codes.level_of(region.code) == "village"
    units = FlowAccumulator(region.code, prefix, None if is_village else _child_length(prefix))
    children: dict[str, Figures] = defaultdict(Figures)
    for flow in await _read_flows(session, principal, prefix, fiscal_year):
        du, cu = units.unit(flow.dr, children=False), units.unit(flow.cr, children=False)
        for figures in (
            report.total,
            report.by_source.setdefault(flow.source, Figures()),
            report.by_category.setdefault(flow.category, Figures()),
        ):
            units.add(figures, flow, du, cu)
        if not is_village:
            cdu, ccu = units.unit(flow.dr, children=True), units.unit(flow.cr, children=True)
            for unit in {cdu, ccu} - {None}:
                units.add(children[unit], flow, cdu if cdu == unit else None, ccu if ccu == unit else None)  # type: ignore[index]
    if is_village:
        return report
    report.own_level = children.pop(region.code, Figures())
    names = await _child_names(session, principal, region.code)
    for code in sorted(set(names) | set(children)):
        report.children.append((code, names.get(code, ""), children.get(code, Figures())))
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
