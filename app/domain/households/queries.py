"""Scoped Core statements for household lists and exports: the hot read paths build no ORM objects.

Every statement starts from the caller's scope (an index range on ``region_code``) and orders by an index:
``(region_code, id)`` or ``(county_code, household_number)``, so a page is one index range read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.db.models import Household, Member
from app.domain.pagination import KeysetRead
from app.domain.principal import Principal
from app.domain.regions import codes
from app.domain.scope import restrict, within_prefix

Sort = Literal["region", "number"]
AnySelect = Select[*tuple[Any, ...]]

SUMMARY_COLUMNS = (
    Household.id,
    Household.region_code,
    Household.county_code,
    Household.household_number,
    Household.group_name,
    Household.head_name,
    Household.status,
    Household.attribute,
    Household.category,
    Household.primary_cause,
    Household.other_causes,
    Household.monitoring_kind,
    Household.procedure,
    Household.procedure_step,
    Household.registered_year,
    Household.exited_year,
    Household.version,
    Household.updated_at,
)
SORT_KEYS: dict[Sort, tuple[InstrumentedAttribute[Any], ...]] = {
    "region": (Household.region_code, Household.id),
    "number": (Household.county_code, Household.household_number),
}


@dataclass(frozen=True)
class HouseholdFilter:
    region: str | None = None  # a region code: its subtree, inside the caller's scope
    status: str | None = None
    attribute: str | None = None
    category: str | None = None
    cause: str | None = None  # primary or other cause
    monitoring_kind: str | None = None
    registered_year: int | None = None
    exited_year: int | None = None
    q: str | None = None  # free text on head name and household number
    id_number: str | None = None  # exact, any member (also members who left)
    sort: Sort = "region"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def household_filters(statement: AnySelect, principal: Principal, f: HouseholdFilter) -> AnySelect:
    statement = restrict(statement, Household, principal)
    if f.region is not None:
        statement = statement.where(within_prefix(Household.region_code, codes.region_prefix(f.region)))
    for column, value in (
        (Household.status, f.status),
        (Household.attribute, f.attribute),
        (Household.category, f.category),
        (Household.monitoring_kind, f.monitoring_kind),
        (Household.registered_year, f.registered_year),
        (Household.exited_year, f.exited_year),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if f.cause is not None:
        # other_causes is a JSON array of codes; its text holds each code in quotes on both databases.
        statement = statement.where(
            or_(
                Household.primary_cause == f.cause,
                cast(Household.other_causes, String).like(_like(f'"{f.cause}"'), escape="\\"),
            )
        )
    if f.q:
        pattern = _like(f.q)
        statement = statement.where(
            or_(
                Household.head_name.like(pattern, escape="\\"),
                Household.household_number.like(pattern, escape="\\"),
            )
        )
    if f.id_number is not None:
        holders = restrict(
            select(Member.household_id).where(Member.id_number == f.id_number.upper()), Member, principal
        )
        statement = statement.where(Household.id.in_(holders))
    return statement


@lru_cache(maxsize=4096)
def household_list(principal: Principal, f: HouseholdFilter) -> KeysetRead:
    """The list read for a caller and filters. Statements are immutable, so one is built (and compiled)
    once per principal and filter and reused: building one took a tenth of a list request
    (bench/RESULTS.md)."""
    return KeysetRead(household_filters(select(*SUMMARY_COLUMNS), principal, f), SORT_KEYS[f.sort])
