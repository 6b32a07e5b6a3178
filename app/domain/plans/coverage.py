"""The "five full coverages" report (五个全覆盖): which eligible households lack education aid, medical
insurance, dangerous-house renovation, employment support or photovoltaic income.

The population is the registered households (建档立卡, not yet out of poverty) of a region, and with
``include_exited`` the exited ones too. For each coverage (see README "Five full coverages"):

==================  ==================================================  ==================================
coverage            eligible                                            covered ("has it")
==================  ==================================================  ==================================
education           an active member in school (schooling not none)     an education measure
medical_insurance   every household                                     every active member insured
house_renovation    housing safety grade C or D, not relocated          a house_renovation or relocation
                                                                        measure
employment          an active member able to work (ordinary, skilled,   an employment measure
                    weak labour)
photovoltaic        every household                                     a photovoltaic measure
==================  ==================================================  ==================================

A measure covers when it is in progress or done in the household's plan of the report's year. Counts are
one set-based query (members and measures aggregated per household, then summed per child region);
lists are keyset pages of the households lacking one coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, literal_column, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Household, Member, PlanMeasure, Region
from app.domain.access import require
from app.domain.pagination import Page, PageRequest, fetch_rows
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import restrict, scoped, within_prefix

Coverage = Literal["education", "medical_insurance", "house_renovation", "employment", "photovoltaic"]
COVERAGES: tuple[Coverage, ...] = (
    "education",
    "medical_insurance",
    "house_renovation",
    "employment",
    "photovoltaic",
)
COVERAGE_LABELS = {
    "education": "教育资助",
    "medical_insurance": "医疗保险",
    "house_renovation": "危房改造",
    "employment": "就业创业",
    "photovoltaic": "光伏收益",
}
COVERING_STATUSES = ("in_progress", "done")
COVERING_CATEGORIES: dict[Coverage, tuple[str, ...]] = {
    "education": ("education",),
    "house_renovation": ("house_renovation", "relocation"),
    "employment": ("employment",),
    "photovoltaic": ("photovoltaic",),
}
LABOUR_ABLE = ("ordinary", "skilled", "weak")
DANGEROUS_GRADES = ("C", "D")
LIST_COLUMNS = (
    Household.id,
    Household.region_code,
    Household.household_number,
    Household.head_name,
    Household.status,
    Household.housing_safety_grade,
)
LIST_KEYS = (Household.region_code, Household.id)


@dataclass(frozen=True)
class CoverageQuery:
    region_code: str
    year: int
    include_exited: bool = False

    @property
    def prefix(self) -> str:
        return codes.region_prefix(self.region_code)

    @property
    def statuses(self) -> tuple[str, ...]:
        return ("registered", "exited") if self.include_exited else ("registered",)


# The member conditions, per member row.
def _is_student() -> ColumnElement[bool]:
    return and_(Member.schooling.is_not(None), Member.schooling != "none")


def _is_uninsured() -> ColumnElement[bool]:
    return not_(Member.has_medical_insurance)


def _is_able_to_work() -> ColumnElement[bool]:
    return Member.labour_ability.in_(LABOUR_ABLE)


MEMBER_CONDITIONS = {"education": _is_student, "employment": _is_able_to_work}


def _flag(condition: ColumnElement[bool]) -> Any:
    return func.max(case((condition, 1), else_=0))


def _population(statement: Any, principal: Principal, query: CoverageQuery) -> Any:
    return restrict(
        statement.where(
            within_prefix(Household.region_code, query.prefix), Household.status.in_(query.statuses)
        ),
        Household,
        principal,
    )


async def coverage_report(
    session: AsyncSession, principal: Principal, query: CoverageQuery
) -> dict[str, Any]:
    """Counts for the region and each child region: households, and per coverage eligible and lacking."""
    region = await ensure_region_exists(session, principal, query.region_code)
    require(principal, Permission.HOUSEHOLDS_READ)
    members = restrict(
        select(
            Member.household_id.label("household_id"),
            _flag(_is_student()).label("student"),
            _flag(_is_uninsured()).label("uninsured"),
            _flag(_is_able_to_work()).label("able"),
        )
        .where(within_prefix(Member.region_code, query.prefix), Member.is_active)
        .group_by(Member.household_id),
        Member,
        principal,
    ).subquery("m")
    measures = restrict(
        select(
            PlanMeasure.household_id.label("household_id"),
            *(
                _flag(PlanMeasure.category.in_(categories)).label(name)
                for name, categories in COVERING_CATEGORIES.items()
            ),
        )
        .where(
            within_prefix(PlanMeasure.region_code, query.prefix),
            PlanMeasure.year == query.year,
            PlanMeasure.status.in_(COVERING_STATUSES),
        )
        .group_by(PlanMeasure.household_id),
        PlanMeasure,
        principal,
    ).subquery("c")

    def has(column: Any) -> ColumnElement[bool]:
        return func.coalesce(column, 0) == 1

    dangerous = and_(Household.housing_safety_grade.in_(DANGEROUS_GRADES), not_(Household.is_relocated))
    eligible: dict[Coverage, ColumnElement[bool]] = {
        "education": has(members.c.student),
        "medical_insurance": literal(True),
        "house_renovation": dangerous,
        "employment": has(members.c.able),
        "photovoltaic": literal(True),
    }
    lacking: dict[Coverage, ColumnElement[bool]] = {
        "education": and_(eligible["education"], not_(has(measures.c.education))),
        "medical_insurance": has(members.c.uninsured),
        "house_renovation": and_(dangerous, not_(has(measures.c.house_renovation))),
        "employment": and_(eligible["employment"], not_(has(measures.c.employment))),
        "photovoltaic": not_(has(measures.c.photovoltaic)),
    }
    child_length = _child_prefix_length(query.prefix)
    # Literal SQL, not bound values: the same expression must read the same in SELECT and GROUP BY.
    child = (
        func.substr(Household.region_code, literal_column("1"), literal_column(str(child_length)))
        if child_length
        else Household.region_code  # a village: one group, the village itself
    )
    columns = [child.label("child"), func.count().label("households")]
    for name in COVERAGES:
        columns.append(func.sum(case((eligible[name], 1), else_=0)).label(f"{name}_eligible"))
        columns.append(func.sum(case((lacking[name], 1), else_=0)).label(f"{name}_lacking"))
    statement = _population(
        select(*columns)
        .select_from(Household)
        .outerjoin(members, members.c.household_id == Household.id)
        .outerjoin(measures, measures.c.household_id == Household.id),
        principal,
        query,
    ).group_by(child)
    rows = {row["child"]: row for row in (await session.execute(statement)).mappings()}
    children = []
    if child_length:
        statement = scoped(Region, principal).where(Region.parent_code == region.code).order_by(Region.code)
        for child_region in (await session.scalars(statement)).all():
            row = rows.get(child_region.code[:child_length])
            children.append({"region_code": child_region.code, "name": child_region.name, **_counts(row)})
    totals = _sum([_counts(row) for row in rows.values()])
    return {
        "region_code": region.code,
        "name": region.name,
        "year": query.year,
        "include_exited": query.include_exited,
        **totals,
        "children": children,
    }


def _child_prefix_length(prefix: str) -> int:
    """The length of the prefixes of the regions one level below ``prefix`` (0 below a village)."""
    longer = [end for _, end in codes.GROUPS if end > len(prefix)]
    return longer[0] if longer else 0


def _counts(row: Any) -> dict[str, Any]:
    return {
        "households": int(row["households"]) if row else 0,
        "coverages": {
            name: {
                "eligible": int(row[f"{name}_eligible"] or 0) if row else 0,
                "lacking": int(row[f"{name}_lacking"] or 0) if row else 0,
            }
            for name in COVERAGES
        },
    }


def _sum(counts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "households": sum(count["households"] for count in counts),
        "coverages": {
            name: {
                key: sum(count["coverages"][name][key] for count in counts) for key in ("eligible", "lacking")
            }
            for name in COVERAGES
        },
    }


async def lacking_households(
    session: AsyncSession, principal: Principal, query: CoverageQuery, coverage: Coverage, page: PageRequest
) -> Page[dict[str, Any]]:
    """A page of the eligible households of the region that lack ``coverage``, by village and id."""
    await ensure_region_exists(session, principal, query.region_code)
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = _population(select(*LIST_COLUMNS), principal, query)
    if coverage == "medical_insurance":
        statement = statement.where(_member_exists(principal, query, _is_uninsured()))
        return await fetch_rows(session, statement, LIST_KEYS, page)
    if coverage in MEMBER_CONDITIONS:
        statement = statement.where(_member_exists(principal, query, MEMBER_CONDITIONS[coverage]()))
    elif coverage == "house_renovation":
        statement = statement.where(
            Household.housing_safety_grade.in_(DANGEROUS_GRADES), not_(Household.is_relocated)
        )
    covering = restrict(
        select(PlanMeasure.id).where(
            PlanMeasure.household_id == Household.id,
            PlanMeasure.year == query.year,
            PlanMeasure.category.in_(COVERING_CATEGORIES[coverage]),
            PlanMeasure.status.in_(COVERING_STATUSES),
        ),
        PlanMeasure,
        principal,
    )
    statement = statement.where(not_(exists(covering)))
    return await fetch_rows(session, statement, LIST_KEYS, page)


def _member_exists(principal: Principal, query: CoverageQuery, condition: ColumnElement[bool]) -> Any:
    return exists(
        restrict(
            select(Member.id).where(Member.household_id == Household.id, Member.is_active, condition),
            Member,
            principal,
        )
    )
