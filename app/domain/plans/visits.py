"""Visits and work logs (走访, 工作日志: "日有台账、周有简报、月有汇报"): recording them, listing them, and
the monthly counts per village or per cadre that the monthly report (月汇报) needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.models import Cadre, Region, Visit
from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import FieldError, InvalidInput
from app.domain.households.service import get_household
from app.domain.pagination import Page, PageRequest, decode_cursor, encode_cursor, fetch_rows
from app.domain.plans.cadres import usable_cadre
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import restrict, scoped, within_prefix

MAX_MONTHS = 36
VISIT_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Visit.id,
    Visit.region_code,
    Visit.household_id,
    Visit.cadre_id,
    Visit.visited_on,
    Visit.kind,
    Visit.content,
    Visit.created_by_name,
    Visit.created_at,
)
VISIT_KEYS = (Visit.region_code, Visit.visited_on, Visit.id)
CountBy = Literal["village", "cadre"]


async def create_visit(
    session: AsyncSession,
    principal: Principal,
    *,
    household_id: uuid.UUID,
    cadre_id: uuid.UUID,
    visited_on: date,
    kind: str,
    content: str,
) -> Visit:
    household = await get_household(session, principal, household_id)
    require(principal, Permission.VISITS_WRITE)
    if visited_on > clock.today():
        raise InvalidInput(
            "A visit cannot be dated in the future.",
            "visit.future_date",
            errors=[FieldError(("body", "visited_on"), "after today", "future")],
        )
    await usable_cadre(session, principal, cadre_id, household.region_code, field="cadre_id")
    visit = Visit(
        cadre_id=cadre_id,
        household_id=household.id,
        region_code=household.region_code,
        visited_on=visited_on,
        kind=kind,
        content=content,
        created_by=principal.subject,
        created_by_name=principal.name,
    )
    session.add(visit)
    await session.flush()
    await audit.record(
        session,
        principal,
        action="create",
        record_type="visit",
        record_ids=[str(visit.id)],
        region_code=visit.region_code,
        fields=["cadre_id", "household_id", "visited_on", "kind", "content"],
        details={"household_id": str(household.id)},
    )
    return visit


@dataclass(frozen=True)
class VisitFilter:
    region: str | None = None
    household_id: uuid.UUID | None = None
    cadre_id: uuid.UUID | None = None
    kind: str | None = None
    start: date | None = None  # inclusive
    end: date | None = None  # inclusive


def visit_filters(statement: Any, principal: Principal, f: VisitFilter) -> Any:
    """The visit list's scope and filters (REST and GraphQL) on a statement over visits."""
    statement = restrict(statement, Visit, principal)
    if f.region is not None:
        statement = statement.where(within_prefix(Visit.region_code, codes.region_prefix(f.region)))
    if f.household_id is not None:
        statement = statement.where(Visit.household_id == f.household_id)
    if f.cadre_id is not None:
        statement = statement.where(Visit.cadre_id == f.cadre_id)
    if f.kind is not None:
        statement = statement.where(Visit.kind == f.kind)
    if f.start is not None:
        statement = statement.where(Visit.visited_on >= f.start)
    if f.end is not None:
        statement = statement.where(Visit.visited_on <= f.end)
    return statement


async def list_visits(
    session: AsyncSession, principal: Principal, f: VisitFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    """Visits in scope, ordered by village, date and id (the index order), as plain rows."""
    require(principal, Permission.HOUSEHOLDS_READ)
    if f.start is not None and f.end is not None and f.end < f.start:
        raise InvalidInput(
            "`to` is before `from`.", "visits.period", errors=[FieldError(("query", "to"), "before from")]
        )
    statement = visit_filters(select(*VISIT_COLUMNS), principal, f)
    return await fetch_rows(session, statement, VISIT_KEYS, page)


async def household_visits(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, *, limit: int = 1000
) -> list[dict[str, Any]]:
    """The latest visits of a household with the cadres' names, newest first (for its book)."""
    columns: Any = (
        Visit.visited_on,
        Visit.kind,
        Visit.content,
        Visit.cadre_id,
        Cadre.name.label("cadre_name"),
    )
    statement = restrict(
        select(*columns)
        .join(Cadre, Cadre.id == Visit.cadre_id)
        .where(Visit.household_id == household_id)
        .order_by(Visit.visited_on.desc(), Visit.id)
        .limit(limit),
        Visit,
        principal,
    )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


# Monthly counts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRange:
    first: tuple[int, int]  # (year, month)
    last: tuple[int, int]

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> MonthRange:
        """``YYYY-MM`` bounds, inclusive; by default January to the current month of this year."""
        today = clock.today()
        first = _month(start, "from") if start else (today.year, 1)
        last = _month(end, "to") if end else (today.year, today.month) if not start else first
        if last < first:
            raise _range_error("`to` is before `from`.", "to")
        if (last[0] - first[0]) * 12 + last[1] - first[1] >= MAX_MONTHS:
            raise _range_error(f"Counts cover at most {MAX_MONTHS} months.", "to")
        return cls(first, last)

    @property
    def start(self) -> date:
        return date(self.first[0], self.first[1], 1)

    @property
    def end_exclusive(self) -> date:
        year, month = self.last
        return date(year + month // 12, month % 12 + 1, 1)


def _month(text: str, name: str) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise _range_error(f"`{name}` is a month, YYYY-MM.", name) from None
    return year, month


def _range_error(detail: str, name: str) -> InvalidInput:
    return InvalidInput(detail, "visit_counts.period", errors=[FieldError(("query", name), detail, "period")])


async def visit_counts(
    session: AsyncSession,
    principal: Principal,
    region_code: str,
    months: MonthRange,
    *,
    by: CountBy,
    page: PageRequest,
) -> Page[dict[str, Any]]:
    """Per village (or per cadre) of a region, the visits and work logs of each month of the range and
    the households they reached; a page of villages (cadres) at a time, each with all its months."""
    await ensure_region_exists(session, principal, region_code)
    require(principal, Permission.HOUSEHOLDS_READ)
    key = Visit.region_code if by == "village" else Visit.cadre_id
    where = and_(
        within_prefix(Visit.region_code, codes.region_prefix(region_code)),
        Visit.visited_on >= months.start,
        Visit.visited_on < months.end_exclusive,
    )
    keys_statement = restrict(select(key).where(where).distinct(), Visit, principal)
    if page.cursor is not None:
        (after,) = decode_cursor(page.cursor, (key,))
        keys_statement = keys_statement.where(key > after)
    page_keys = list((await session.scalars(keys_statement.order_by(key).limit(page.limit + 1))).all())
    next_cursor = None
    if len(page_keys) > page.limit:
        page_keys = page_keys[: page.limit]
        next_cursor = encode_cursor([page_keys[-1]])
    if not page_keys:
        return Page([], None)
    year, month = extract("year", Visit.visited_on), extract("month", Visit.visited_on)
    columns: Any = (
        key.label("key"),
        year.label("year"),
        month.label("month"),
        func.sum(case((Visit.kind == "visit", 1), else_=0)).label("visits"),
        func.sum(case((Visit.kind == "work_log", 1), else_=0)).label("work_logs"),
        func.count(func.distinct(Visit.household_id)).label("households"),
    )
    counts = restrict(
        select(*columns).where(where, key.in_(page_keys)).group_by(key, year, month),
        Visit,
        principal,
    )
    per_key: dict[Any, list[dict[str, Any]]] = {}
    for row in (await session.execute(counts)).mappings():
        per_key.setdefault(row["key"], []).append(
            {
                "month": f"{int(row['year']):04d}-{int(row['month']):02d}",
                "visits": int(row["visits"]),
                "work_logs": int(row["work_logs"]),
                "households": row["households"],
            }
        )
    names = await _names(session, principal, by, page_keys)
    items = []
    for value in page_keys:
        rows = sorted(per_key.get(value, []), key=lambda item: item["month"])
        item: dict[str, Any] = {
            "months": rows,
            "visits": sum(row["visits"] for row in rows),
            "work_logs": sum(row["work_logs"] for row in rows),
        }
        if by == "village":
            item |= {"region_code": value, "village_name": names.get(value)}
        else:
            item |= {"cadre_id": value, "cadre_name": names.get(value)}
        items.append(item)
    return Page(items, next_cursor)


async def _names(session: AsyncSession, principal: Principal, by: CountBy, keys: list[Any]) -> dict[Any, str]:
    if by == "village":
        rows = await session.execute(
            scoped(Region, principal).with_only_columns(Region.code, Region.name).where(Region.code.in_(keys))
        )
    else:
        # The cadres who visited households in scope are part of those households' records, wherever the
        # cadres work (a county leader visits villages): their names, never their phones.
        rows = await session.execute(
            select(Cadre.id, Cadre.name).where(Cadre.id.in_(keys))  # scope: cadres of visits in scope
        )
    return {key: name for key, name in rows}
