"""Keeping the statistics rollups current, in one place: a session listener notes on every flush which
villages (and which fiscal years' fund groups) a write touched, and refreshes exactly those before the
transaction commits, in the same transaction; Core bulk paths that bypass the ORM (the import) say which
villages they touched with :func:`touch_villages`.

A refresh recomputes a unit's rows from the registry (or the ledger), it never adds deltas: it first locks
the unit's row in ``rollup_locks`` (created on first use), so of two transactions refreshing one village
the second waits for the first to commit, and its recompute statement, a new snapshot under READ COMMITTED,
then sees the first one's rows as well as its own. Locks are taken in one order (villages, then townships,
then fund groups, each sorted), so two refreshes never wait on each other in a cycle. SQLite serialises
writers anyway.

Units:

* a village's rows in ``village_rollups`` (see app/db/models/stats.py for the dimensions), from its
  households, their active members, active cadre pairings and approved returns;
* a township's rows in ``township_rollups``: the sum of its villages' rows (what every region above a
  village reads: a province sums about a thousand townships, not millions of households);
* a fiscal year's fund flows of one township and its villages (or of one county, prefecture or province's
  own accounts), in ``fund_rollups``: the fund report's own flows (app/domain/funds/reports.py) counted with
  its own rules, once for a region holding both accounts and once for one holding only the deeper one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    case,
    delete,
    event,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.attributes import get_history

from app.db.base import utcnow
from app.db.models import (
    Assignment,
    FundRollup,
    FundTransfer,
    Household,
    HouseholdEvent,
    Member,
    RollupLock,
    TownshipRollup,
    VillageRollup,
)
from app.domain.funds.reports import Figures, FlowAccumulator, flow_query
from app.domain.regions import codes
from app.domain.responsibility.rules import PAIRABLE_STATUSES
from app.domain.scope import within_prefix
from app.domain.system import system_principal

TOUCHED = "stats.touched_villages"
TOUCHED_FUNDS = "stats.touched_funds"
RETURN_ACTION = "county_approve_return"  # 县级审定返贫: the step that makes a household poor again
TOWNSHIP_LENGTH = 9
VILLAGE_ROLLUPS = cast(Table, VillageRollup.__table__)
TOWNSHIP_ROLLUPS = cast(Table, TownshipRollup.__table__)
FUND_ROLLUPS = cast(Table, FundRollup.__table__)


# What a write touched ----------------------------------------------------------------------------------


def touch_villages(session: AsyncSession | Session, villages: Iterable[str]) -> None:
    """Mark villages whose counts a Core statement changed: they are refreshed before the commit."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(TOUCHED, set()).update(villages)


def _touch_funds(session: Session, fiscal_year: int, region_code: str) -> None:
    session.info.setdefault(TOUCHED_FUNDS, set()).add((fiscal_year, fund_group(region_code)))


def _values(instance: Any, name: str) -> list[Any]:
    """The attribute's value now and, if this flush changed it, before."""
    history = get_history(instance, name)
    return [*history.added, *history.unchanged, *history.deleted]


# The attributes whose change alters a count (a phone number's does not).
COUNTED = {
    Household: (
        "region_code",
        "status",
        "attribute",
        "primary_cause",
        "category",
        "monitoring_kind",
        "exited_year",
    ),
    Member: ("region_code", "household_id", "is_active"),
    Assignment: ("region_code", "household_id", "cadre_id", "ends_on", "kind"),
}


def _changes_counts(session: Session, instance: Any) -> bool:
    if instance in session.new or instance in session.deleted:
        return True
    return any(get_history(instance, name).has_changes() for name in COUNTED[type(instance)])


def _collect(session: Session, _context: UOWTransaction) -> None:
    villages: set[str] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Household | Member):
            if _changes_counts(session, instance):
                villages.update(_values(instance, "region_code"))
        elif isinstance(instance, Assignment):
            if instance.kind == "pairing" and _changes_counts(session, instance):
                villages.update(_values(instance, "region_code"))
        elif isinstance(instance, HouseholdEvent):
            if instance.action == RETURN_ACTION:
                villages.add(instance.region_code)
        elif isinstance(instance, FundTransfer):
            _touch_funds(session, instance.fiscal_year, instance.region_code)
    villages.discard(None)  # type: ignore[arg-type, unused-ignore]
    if villages:
        touch_villages(session, villages)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint being released: the refresh waits for the real commit, so that every lock is taken
        # at one moment, in one order, and held for the shortest time.
        return
    session.flush()  # what is still pending reaches _collect first
    villages = session.info.pop(TOUCHED, None)
    funds = session.info.pop(TOUCHED_FUNDS, None)
    if villages:
        refresh_villages(session, villages)
    if funds:
        refresh_funds(session, funds)


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (committed or rolled back)
        session.info.pop(TOUCHED, None)
        session.info.pop(TOUCHED_FUNDS, None)


event.listen(Session, "after_flush", _collect)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_transaction_end", _forget)


# Locks ----------------------------------------------------------------------------------------------------


def _lock(session: Session, keys: Sequence[str]) -> None:
    """Create-or-lock the units' rows in one statement (sorted: one order for everyone)."""
    if not keys:
        return
    dialect = session.get_bind().dialect.name
    upsert: Any = pg_insert(RollupLock) if dialect == "postgresql" else sqlite_insert(RollupLock)
    now = utcnow()
    statement = upsert.values([{"key": key, "refreshed_at": now} for key in sorted(keys)])
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={"refreshed_at": statement.excluded.refreshed_at}
        )
    )


def township_of(village: str) -> str:
    return village[:TOWNSHIP_LENGTH].ljust(codes.CODE_LENGTH, "0")


# Villages and townships -----------------------------------------------------------------------------------


def _village_counts(villages: Sequence[str] | None) -> Any:
    """``(region_code, dimension, key, households, people)`` of the villages (all of them when None)."""

    def only(column: Any) -> ColumnElement[bool]:
        return column.in_(villages) if villages is not None else true()

    people = (
        select(Member.household_id, func.count().label("n"))  # scope: maintenance of the villages' rollups
        .where(Member.is_active, only(Member.region_code))
        .group_by(Member.household_id)
        .subquery("people")
    )
    covered = (
        select(Assignment.household_id)  # scope: maintenance of the villages' rollups
        .where(
            Assignment.kind == "pairing",
            Assignment.cadre_id.is_not(None),
            Assignment.ends_on.is_(None),
            only(Assignment.region_code),
        )
        .group_by(Assignment.household_id)
        .subquery("covered")
    )
    is_register = Household.status.in_(PAIRABLE_STATUSES)
    base = (
        select(  # scope: maintenance of the villages' rollups
            Household.region_code.label("region_code"),
            Household.status.label("status"),
            Household.attribute.label("attribute"),
            Household.primary_cause.label("cause"),
            func.coalesce(Household.category, "").label("category"),
            Household.monitoring_kind.label("monitoring"),
            sql_cast(Household.exited_year, String).label("exit_year"),
            case((covered.c.household_id.is_not(None), 1), else_=0).label("covered"),
            case((is_register, 1), else_=0).label("in_register"),
            func.coalesce(people.c.n, 0).label("people"),
        )
        .outerjoin(people, people.c.household_id == Household.id)
        .outerjoin(covered, covered.c.household_id == Household.id)
        .where(only(Household.region_code))
        .cte("base")
    )
    b = base.c

    def grouped(dimension: str, key: Any, *conditions: ColumnElement[bool]) -> Any:
        return (
            select(
                b.region_code,
                literal(dimension, String).label("dimension"),
                key.label("key"),
                func.count().label("households"),
                func.sum(b.people).label("people"),
            )
            .where(*conditions)
            .group_by(b.region_code, key)
        )

    register = b.in_register == 1
    returned_people = (
        select(Member.household_id, func.count().label("n"))  # scope: maintenance of the villages' rollups
        .where(Member.is_active, only(Member.region_code))
        .group_by(Member.household_id)
        .subquery("returned_people")
    )
    year = sql_cast(sql_cast(extract("year", HouseholdEvent.at), Integer), String)
    returns = (
        select(  # scope: maintenance of the villages' rollups
            HouseholdEvent.region_code,
            literal("return_year", String).label("dimension"),
            year.label("key"),
            func.count().label("households"),
            func.coalesce(func.sum(returned_people.c.n), 0).label("people"),
        )
        .outerjoin(returned_people, returned_people.c.household_id == HouseholdEvent.household_id)
        .where(HouseholdEvent.action == RETURN_ACTION, only(HouseholdEvent.region_code))
        .group_by(HouseholdEvent.region_code, year)
    )
    return union_all(
        grouped("status", b.status),
        grouped("attribute", b.attribute, register),
        grouped("cause", b.cause, register),
        grouped("category", b.category, register),
        grouped("monitoring", b.monitoring, register, b.monitoring.is_not(None)),
        grouped("exit_year", b.exit_year, register, b.exit_year.is_not(None)),
        grouped("coverage", literal("households", String), register),
        grouped("coverage", literal("covered", String), register, b.covered == 1),
        returns,
    )


def _township_sums(townships: Sequence[str] | None) -> Any:
    township = func.substr(VillageRollup.region_code, 1, TOWNSHIP_LENGTH).concat("000")
    statement = select(  # scope: maintenance of the townships' rollups
        township.label("region_code"),
        VillageRollup.dimension,
        VillageRollup.key,
        func.sum(VillageRollup.households).label("households"),
        func.sum(VillageRollup.people).label("people"),
    ).group_by(township, VillageRollup.dimension, VillageRollup.key)
    if townships is not None:
        statement = statement.where(
            or_(*(within_prefix(VillageRollup.region_code, t[:TOWNSHIP_LENGTH]) for t in townships))
        )
    return statement


def refresh_villages(session: Session, villages: Iterable[str]) -> None:
    """Recompute the villages' rows and their townships' sums (after locking each unit's row)."""
    touched = sorted(set(villages))
    if not touched:
        return
    townships = sorted({township_of(village) for village in touched})
    _lock(session, [f"village:{village}" for village in touched])
    session.execute(delete(VillageRollup).where(VillageRollup.region_code.in_(touched)))  # scope: maintenance
    columns = ["region_code", "dimension", "key", "households", "people"]
    session.execute(insert(VILLAGE_ROLLUPS).from_select(columns, _village_counts(touched)))
    _lock(session, [f"township:{township}" for township in townships])
    stale = TownshipRollup.region_code.in_(townships)
    session.execute(delete(TownshipRollup).where(stale))  # scope: maintenance
    session.execute(insert(TOWNSHIP_ROLLUPS).from_select(columns, _township_sums(townships)))


# Funds ----------------------------------------------------------------------------------------------------


def fund_group(region_code: str) -> str:
    """The unit a transfer's rollup rows are kept in: its township (for a township's or a village's
    accounts), else the region itself (a county's, prefecture's or province's own accounts)."""
    if codes.level_of(region_code) in ("township", "village"):
        return township_of(region_code)
    return region_code


def _depth(region_code: str) -> int:
    return len(codes.region_prefix(region_code))


def _fund_rows(fiscal_year: int, flows: Iterable[Any], groups: set[str] | None) -> list[dict[str, Any]]:
    """Rows of ``fund_rollups`` from the report's flows: each flow counted by the report's own rules for a
    region holding both its accounts (inside) and for one holding only the deeper account (outside)."""
    inside: dict[tuple[str, str], Figures] = defaultdict(Figures)
    outside: dict[tuple[str, str], Figures] = defaultdict(Figures)
    for flow in flows:
        # The deeper side is the transfer's own region (the report's scope column); the other is above it.
        deeper, other = (flow.dr, flow.cr) if _depth(flow.dr) > _depth(flow.cr) else (flow.cr, flow.dr)
        if groups is not None and fund_group(deeper) not in groups:
            continue
        pair = (deeper, other)
        FlowAccumulator.add(inside[pair], flow, "unit", "unit")
        FlowAccumulator.add(
            outside[pair], flow, "unit" if flow.dr == deeper else None, "unit" if flow.cr == deeper else None
        )
    rows = []
    for (deeper, other), figures in inside.items():
        out = outside[(deeper, other)]
        rows.append(
            {
                "fiscal_year": fiscal_year,
                "region_code": deeper,
                "other_code": other,
                "received_inside": figures.received,
                "disbursed_inside": figures.disbursed,
                "balance_inside": figures.balance,
                "received_outside": out.received,
                "disbursed_outside": out.disbursed,
                "balance_outside": out.balance,
            }
        )
    return rows


def _group_filter(column: Any, group: str) -> ColumnElement[bool]:
    if codes.level_of(group) == "township":
        return within_prefix(column, group[:TOWNSHIP_LENGTH])
    exact: ColumnElement[bool] = column == group
    return exact


def refresh_funds(session: Session, touched: Iterable[tuple[int, str]]) -> None:
    """Recompute the fund rows of (fiscal year, group) units from the ledger, after locking each unit."""
    units = sorted(set(touched))
    if not units:
        return
    _lock(session, [f"funds:{year}:{group}" for year, group in units])
    principal = system_principal()
    by_year: dict[int, set[str]] = defaultdict(set)
    for year, group in units:
        by_year[year].add(group)
    for year, groups in by_year.items():
        session.execute(
            delete(FundRollup).where(  # scope: maintenance of the fund rollups
                FundRollup.fiscal_year == year,
                or_(*(_group_filter(FundRollup.region_code, group) for group in groups)),
            )
        )
        rows: list[dict[str, Any]] = []
        for group in sorted(groups):
            # A county's range holds its townships' transfers too: each group keeps only its own flows.
            flows = session.execute(
                select(flow_query(principal, codes.region_prefix(group), year, None))
            ).all()
            rows += _fund_rows(year, flows, {group})
        if rows:
            session.execute(insert(FUND_ROLLUPS), rows)


# Rebuild --------------------------------------------------------------------------------------------------


def rebuild(session: Session) -> dict[str, int]:
    """Recompute every rollup from scratch (after a restore, a bulk load, or to check the kept ones)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.set_config("jit", "off", True)))
        session.execute(select(func.set_config("work_mem", "256MB", True)))
    columns = ["region_code", "dimension", "key", "households", "people"]
    session.execute(delete(VillageRollup))  # scope: a full rebuild
    session.execute(insert(VILLAGE_ROLLUPS).from_select(columns, _village_counts(None)))
    session.execute(delete(TownshipRollup))  # scope: a full rebuild
    session.execute(insert(TOWNSHIP_ROLLUPS).from_select(columns, _township_sums(None)))
    session.execute(delete(FundRollup))  # scope: a full rebuild
    principal = system_principal()
    years = session.scalars(select(FundTransfer.fiscal_year).distinct()).all()  # scope: a full rebuild
    fund_rows = 0
    for year in years:
        flows = session.execute(select(flow_query(principal, "", year, None))).all()
        rows = _fund_rows(year, flows, None)
        for start in range(0, len(rows), 5000):
            session.execute(insert(FUND_ROLLUPS), rows[start : start + 5000])
        fund_rows += len(rows)
    count = func.count()
    return {
        "village_rows": session.scalar(select(count).select_from(VillageRollup)) or 0,  # scope: totals
        "township_rows": session.scalar(select(count).select_from(TownshipRollup)) or 0,  # scope: totals
        "fund_rows": fund_rows,
    }


async def rebuild_all(session: AsyncSession) -> dict[str, int]:
    return await session.run_sync(rebuild)
