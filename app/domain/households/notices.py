"""Public notice lists (公示名单): the households under publicity in a village or township over a period,
as posted on the notice board. They never show ID numbers, phones, bank accounts or health."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.models import Household, Member, Publicity, Region
from app.domain import clock
from app.domain.access import require
from app.domain.errors import FieldError, InvalidInput
from app.domain.households.lifecycle_rules import LEVEL_LABELS, PROCEDURE_LABELS
from app.domain.principal import Permission, Principal
from app.domain.reference.service import CodeBook, code_book
from app.domain.regions import codes
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import restrict, scoped, within_prefix

MAX_PERIOD_DAYS = 366
NOTICE_SOURCE: tuple[InstrumentedAttribute[Any], ...] = (
    Publicity.region_code,
    Publicity.procedure,
    Publicity.level,
    Publicity.starts_on,
    Publicity.ends_on,
    Household.household_number,
    Household.head_name,
    Household.group_name,
    Household.attribute,
    Household.primary_cause,
)
# The columns of a notice, in order, with their headings on the printed list. Nothing else is shown.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("household_number", "户编号"),
    ("head_name", "户主姓名"),
    ("village_name", "村"),
    ("group_name", "村民小组"),
    ("member_count", "家庭人口"),
    ("attribute", "贫困户属性"),
    ("primary_cause", "主要致贫原因"),
    ("procedure_label", "公示事项"),
    ("level_label", "公示级别"),
    ("starts_on", "公示开始日期"),
    ("ends_on", "公示结束日期"),
)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def of(cls, on: date | None, start: date | None, end: date | None) -> Period:
        """``on`` one day (default today), or ``start``–``end``; never both."""
        if on is not None and (start is not None or end is not None):
            raise _period_error("Give either `on` or `from`/`to`, not both.", "on")
        if start is None and end is None:
            day = on or clock.today()
            return cls(day, day)
        start = start or end
        end = end or start
        if start is None or end is None:  # pragma: no cover - one of them is set
            raise _period_error("Give `from` or `to`.", "from")
        if end < start:
            raise _period_error("`to` is before `from`.", "to")
        if (end - start) > timedelta(days=MAX_PERIOD_DAYS):
            raise _period_error(f"A notice list covers at most {MAX_PERIOD_DAYS} days.", "to")
        return cls(start, end)


def _period_error(detail: str, name: str) -> InvalidInput:
    return InvalidInput(detail, "publicity_list.period", [FieldError(("query", name), detail, "period")])


async def publicity_list(
    session: AsyncSession, principal: Principal, region_code: str, period: Period
) -> list[dict[str, Any]]:
    """The households whose publicity overlaps the period in a village or township in scope, ordered by
    village, start of the publicity and household number."""
    region = await ensure_region_exists(session, principal, region_code)
    require(principal, Permission.HOUSEHOLDS_READ)
    if region.level not in ("village", "township"):
        raise InvalidInput(
            "A notice list is posted in a village or a township.",
            "publicity_list.region_level",
            [FieldError(("query", "region"), f"{region_code} is a {region.level}", "level")],
        )
    members = restrict(
        select(func.count(Member.id)).where(Member.household_id == Household.id, Member.is_active),
        Member,
        principal,
    ).scalar_subquery()
    statement = restrict(
        select(*NOTICE_SOURCE, members.label("member_count"))
        .join(Household, Household.id == Publicity.household_id)
        .where(
            within_prefix(Publicity.region_code, codes.region_prefix(region_code)),
            Publicity.starts_on <= period.end,
            Publicity.ends_on >= period.start,
        )
        .order_by(Publicity.region_code, Publicity.starts_on, Household.household_number),
        Publicity,
        principal,
    )
    rows = (await session.execute(statement)).mappings().all()
    villages = {row["region_code"] for row in rows}
    names = {
        region.code: region.name
        for region in (
            await session.scalars(scoped(Region, principal).where(Region.code.in_(villages)))
        ).all()
    }
    books: dict[str, CodeBook] = {}
    items = []
    for row in rows:
        village = row["region_code"]
        if village not in books:
            books[village] = await code_book(session, village, period.end.year)
        book = books[village]
        items.append(
            {
                "household_number": row["household_number"],
                "head_name": row["head_name"],
                "village_code": village,
                "village_name": names.get(village, village),
                "group_name": row["group_name"],
                "member_count": row["member_count"],
                "attribute": book.label("attribute", row["attribute"]) or row["attribute"],
                "primary_cause": book.label("cause", row["primary_cause"]) or row["primary_cause"],
                "procedure": row["procedure"],
                "procedure_label": PROCEDURE_LABELS.get(row["procedure"], row["procedure"]),
                "level": row["level"],
                "level_label": LEVEL_LABELS.get(row["level"], row["level"]),
                "starts_on": row["starts_on"],
                "ends_on": row["ends_on"],
            }
        )
    return items


def notice_csv(items: list[dict[str, Any]]) -> bytes:
    """The list as CSV with Chinese headings, UTF-8 with a byte order mark so that Excel reads it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([heading for _, heading in COLUMNS])
    for item in items:
        writer.writerow([_cell(item[key]) for key, _ in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run as one in a spreadsheet: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
