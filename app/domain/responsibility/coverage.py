"""Coverage (覆盖情况) of a region at any level: who is not covered, which villages lack a first secretary
or a work team, which cadres and enterprises are above or below their pairing quota; as counts per
child region and as keyset lists.

Set-based SQL only: one aggregate query per subject (households, villages, cadres, units), grouped by the
child region's code prefix (``substr(region_code, 1, n)``), each reading an index range of the subtree and
the partial indexes of active assignments. The per-region settings that vary inside the subtree become a
``CASE`` over the region code (see :mod:`.settings`); usually they are one constant.

Definitions (documented in the README):

* a household needs a responsible person when it is registered or exited; it is covered when it has at
  least one active pairing with a cadre (an enterprise's pairing comes on top, it is not a person);
* a poor village: as its ``poor_village`` setting says, by default one with a registered household;
* a cadre's quota is the ``pairing_quota_by_rank`` of their rank where they work, an enterprise's the
  ``pairing_quota_by_enterprise_class`` of its class; below means fewer active pairings than the quota,
  above means more (not a fault: it shows who carries more than asked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, and_, case, exists, false, func, literal, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Assignment, Cadre, Household, Region, WorkUnit
from app.domain.access import require
from app.domain.pagination import Page, PageRequest, fetch_rows
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.regions.service import get_region
from app.domain.responsibility import settings as rs
from app.domain.responsibility.rules import PAIRABLE_STATUSES
from app.domain.scope import restrict, scoped, within_prefix

CoverageList = Literal[
    "uncovered_households",
    "villages_without_first_secretary",
    "villages_without_team",
    "cadres_below_quota",
    "cadres_above_quota",
    "units_below_quota",
    "units_above_quota",
]
COUNTS = (
    "households",
    "households_registered",
    "households_exited",
    "households_uncovered",
    "villages",
    "poor_villages",
    "villages_without_first_secretary",
    "villages_without_team",
    "cadres",
    "cadres_below_quota",
    "cadres_above_quota",
    "units",
    "units_below_quota",
    "units_above_quota",
)


def child_prefix_length(prefix: str) -> int:
    """Digits of a child region's prefix: the next group below ``prefix`` (a village is its own child)."""
    longer = [end for _, end in codes.GROUPS if end > len(prefix)]
    return longer[0] if longer else codes.CODE_LENGTH


def _bool(value: Any) -> ColumnElement[bool]:
    return true() if value else false()


@dataclass(frozen=True)
class Rules:
    """The settings that matter in one subtree, ready to become SQL."""

    poor_village: rs.SettingResolver
    first_secretary_required: rs.SettingResolver
    work_team_required: rs.SettingResolver
    quota_by_rank: rs.SettingResolver
    quota_by_class: rs.SettingResolver

    def is_poor(self, village: Any, principal: Principal) -> ColumnElement[Any]:
        has_registered = exists(
            restrict(
                select(Household.id).where(
                    Household.region_code == village, Household.status == "registered"
                ),
                Household,
                principal,
            )
        )

        def render(value: Any) -> ColumnElement[Any]:
            return has_registered if value == "derived" else _bool(value == "poor")

        return self.poor_village.sql(village, render)

    def rank_quota(self, region: Any, rank: Any) -> ColumnElement[Any]:
        def render(quotas: dict[str, int]) -> ColumnElement[Any]:
            return case({key: literal(value) for key, value in quotas.items()}, value=rank, else_=literal(0))

        return self.quota_by_rank.sql(region, render)

    def class_quota(self, region: Any, enterprise_class: Any) -> ColumnElement[Any]:
        def render(quotas: dict[str, int]) -> ColumnElement[Any]:
            return case(
                {int(key): literal(value) for key, value in quotas.items()},
                value=enterprise_class,
                else_=literal(0),
            )

        return self.quota_by_class.sql(region, render)


async def _rules(session: AsyncSession, principal: Principal, code: str) -> Rules:
    async def get(key: str) -> rs.SettingResolver:
        return await rs.resolver(session, principal, code, key)

    return Rules(
        await get(rs.POOR_VILLAGE),
        await get(rs.FIRST_SECRETARY_REQUIRED),
        await get(rs.WORK_TEAM_REQUIRED),
        await get(rs.QUOTA_BY_RANK),
        await get(rs.QUOTA_BY_ENTERPRISE_CLASS),
    )


def _count_if(condition: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _has_active(kind: str, village: Any, principal: Principal) -> ColumnElement[bool]:
    return exists(
        restrict(
            select(Assignment.id).where(
                Assignment.kind == kind, Assignment.region_code == village, Assignment.ends_on.is_(None)
            ),
            Assignment,
            principal,
        )
    )


def _has_responsible_person(principal: Principal) -> ColumnElement[bool]:
    return exists(
        restrict(
            select(Assignment.id).where(
                Assignment.household_id == Household.id,
                Assignment.kind == "pairing",
                Assignment.cadre_id.is_not(None),
                Assignment.ends_on.is_(None),
            ),
            Assignment,
            principal,
        )
    )


def _cadre_pairings() -> Any:
    return (
        select(func.count())  # scope: counts the pairings of a cadre the caller lists, wherever they are
        .select_from(Assignment)
        .where(Assignment.cadre_id == Cadre.id, Assignment.kind == "pairing", Assignment.ends_on.is_(None))
        .scalar_subquery()
    )


def _unit_pairings() -> Any:
    return (
        select(func.count())  # scope: counts the pairings of a unit the caller lists, wherever they are
        .select_from(Assignment)
        .where(Assignment.unit_id == WorkUnit.id, Assignment.kind == "pairing", Assignment.ends_on.is_(None))
        .scalar_subquery()
    )


def _materialized(statement: Any, name: str) -> Any:
    """``statement`` as a CTE computed once (``AS MATERIALIZED``, PostgreSQL 12+ and SQLite 3.35+)."""
    return statement.cte(name).prefix_with("MATERIALIZED")


async def _tune_for_aggregates(session: AsyncSession) -> None:
    """On PostgreSQL, for this transaction: no JIT (its compilation cost 45-120 ms per query of a county
    report, seconds for a province, more than it saved), and work memory enough to hash a province's
    pairings without spilling to disk in every parallel worker (bench/RESULTS.md)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '64MB'"))


# The report ---------------------------------------------------------------------------------------------


async def coverage_report(session: AsyncSession, principal: Principal, code: str) -> dict[str, Any]:
    region = await get_region(session, principal, code)  # in scope and stored, else 404
    require(principal, Permission.HOUSEHOLDS_READ)
    await _tune_for_aggregates(session)
    prefix = codes.region_prefix(code)
    length = child_prefix_length(prefix)
    rules = await _rules(session, principal, code)
    counts: dict[str, dict[str, int]] = {}

    def add(child: str, values: dict[str, Any]) -> None:
        row = counts.setdefault(child.ljust(codes.CODE_LENGTH, "0"), dict.fromkeys(COUNTS, 0))
        for key, value in values.items():
            row[key] += int(value or 0)

    # Households that need a responsible person, and those without one: a hash join of the subtree's
    # households with the set of households that have an active cadre pairing (partial index by kind and
    # region), not a probe per household.
    child = func.substr(Household.region_code, 1, length)
    covered = restrict(
        select(Assignment.household_id)
        .where(
            Assignment.kind == "pairing",
            Assignment.cadre_id.is_not(None),
            Assignment.ends_on.is_(None),
            within_prefix(Assignment.region_code, prefix),
        )
        .group_by(Assignment.household_id),
        Assignment,
        principal,
    ).subquery("covered")
    households = restrict(
        select(
            child.label("child"),
            _count_if(Household.status == "registered").label("registered"),
            _count_if(Household.status == "exited").label("exited"),
            _count_if(covered.c.household_id.is_(None)).label("uncovered"),
        )
        .select_from(Household)
        .outerjoin(covered, covered.c.household_id == Household.id)
        .where(Household.status.in_(PAIRABLE_STATUSES), within_prefix(Household.region_code, prefix))
        .group_by(child),
        Household,
        principal,
    )
    for row in (await session.execute(households)).all():
        add(
            row.child,
            {
                "households": row.registered + row.exited,
                "households_registered": row.registered,
                "households_exited": row.exited,
                "households_uncovered": row.uncovered,
            },
        )

    # Villages: poor ones, and those missing a first secretary or a team where the rules require them.
    child = func.substr(Region.code, 1, length)
    poor = rules.is_poor(Region.code, principal)
    needs_secretary = and_(
        rules.first_secretary_required.sql(Region.code, _bool),
        ~_has_active("first_secretary", Region.code, principal),
    )
    needs_team = and_(
        rules.work_team_required.sql(Region.code, _bool), ~_has_active("work_team", Region.code, principal)
    )
    villages = restrict(
        select(
            child.label("child"),
            func.count().label("villages"),
            _count_if(poor).label("poor"),
            _count_if(and_(poor, needs_secretary)).label("without_secretary"),
            _count_if(and_(poor, needs_team)).label("without_team"),
        )
        .where(Region.level == "village", within_prefix(Region.code, prefix))
        .group_by(child),
        Region,
        principal,
    )
    for row in (await session.execute(villages)).all():
        add(
            row.child,
            {
                "villages": row.villages,
                "poor_villages": row.poor,
                "villages_without_first_secretary": row.without_secretary,
                "villages_without_team": row.without_team,
            },
        )

    # Cadres and classified enterprises against their quotas: active pairings counted per cadre (unit) on
    # the partial index by cadre (unit), then compared with the quota of their rank (class) and region.
    # Materialised: PostgreSQL would otherwise inline the subquery and count each cadre's pairings twice
    # (once for "below", once for "above"; bench/RESULTS.md).
    per_cadre = _materialized(
        restrict(
            select(Cadre.region_code, Cadre.rank, _cadre_pairings().label("pairings")).where(
                Cadre.is_active, within_prefix(Cadre.region_code, prefix)
            ),
            Cadre,
            principal,
        ),
        "per_cadre",
    )
    quota = rules.rank_quota(per_cadre.c.region_code, per_cadre.c.rank)
    child = func.substr(per_cadre.c.region_code, 1, length)
    cadres = (
        select(
            child.label("child"),
            func.count().label("cadres"),
            _count_if(per_cadre.c.pairings < quota).label("below"),
            _count_if(per_cadre.c.pairings > quota).label("above"),
        )
        .select_from(per_cadre)
        .group_by(child)
    )
    for row in (await session.execute(cadres)).all():
        add(
            row.child,
            {"cadres": row.cadres, "cadres_below_quota": row.below, "cadres_above_quota": row.above},
        )

    per_unit = _materialized(
        restrict(
            select(WorkUnit.region_code, WorkUnit.enterprise_class, _unit_pairings().label("pairings")).where(
                WorkUnit.enterprise_class.is_not(None), within_prefix(WorkUnit.region_code, prefix)
            ),
            WorkUnit,
            principal,
        ),
        "per_unit",
    )
    quota = rules.class_quota(per_unit.c.region_code, per_unit.c.enterprise_class)
    child = func.substr(per_unit.c.region_code, 1, length)
    units = (
        select(
            child.label("child"),
            func.count().label("units"),
            _count_if(per_unit.c.pairings < quota).label("below"),
            _count_if(per_unit.c.pairings > quota).label("above"),
        )
        .select_from(per_unit)
        .group_by(child)
    )
    for row in (await session.execute(units)).all():
        add(row.child, {"units": row.units, "units_below_quota": row.below, "units_above_quota": row.above})

    return await _assemble(session, principal, region, length, counts, rules)


async def _assemble(
    session: AsyncSession,
    principal: Principal,
    region: Region,
    length: int,
    counts: dict[str, dict[str, int]],
    rules: Rules,
) -> dict[str, Any]:
    if length == codes.CODE_LENGTH and region.level == "village":
        children = [(region.code, region.name, region.level)]
    else:
        children = [
            (row.code, row.name, row.level)
            for row in (
                await session.execute(
                    scoped(Region, principal).where(Region.parent_code == region.code).order_by(Region.code)
                )
            ).scalars()
        ]
    known = {code for code, _, _ in children}
    # Records of the region itself (a cadre working for the county, not one of its townships) come as a
    # row of the region's own code, after its children.
    extra = sorted(set(counts) - known)
    rows = [
        {"region_code": code, "name": name, "level": level, **counts.get(code, dict.fromkeys(COUNTS, 0))}
        for code, name, level in children
    ] + [
        {
            "region_code": code,
            "name": region.name if code == region.code else None,
            "level": region.level if code == region.code else None,
            **counts[code],
        }
        for code in extra
    ]
    totals = {key: sum(values[key] for values in counts.values()) for key in COUNTS}
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "totals": totals,
        "children": rows,
        "rules": {
            rs.POOR_VILLAGE: rules.poor_village.default,
            rs.FIRST_SECRETARY_REQUIRED: rules.first_secretary_required.default,
            rs.WORK_TEAM_REQUIRED: rules.work_team_required.default,
            rs.QUOTA_BY_RANK: rules.quota_by_rank.default,
            rs.QUOTA_BY_ENTERPRISE_CLASS: rules.quota_by_class.default,
            "varies_inside": sorted(
                resolver.key
                for resolver in (
                    rules.poor_village,
                    rules.first_secretary_required,
                    rules.work_team_required,
                    rules.quota_by_rank,
                    rules.quota_by_class,
                )
                if not resolver.is_uniform
            ),
        },
    }


# The lists ----------------------------------------------------------------------------------------------


async def coverage_list(
    session: AsyncSession, principal: Principal, code: str, which: CoverageList, page: PageRequest
) -> Page[dict[str, Any]]:
    """One of the report's sets as a keyset list, in region-code order."""
    await get_region(session, principal, code)
    require(principal, Permission.HOUSEHOLDS_READ)
    prefix = codes.region_prefix(code)
    rules = await _rules(session, principal, code)
    builders: dict[str, Callable[[], Any]] = {
        "uncovered_households": lambda: _uncovered(principal, prefix),
        "villages_without_first_secretary": lambda: _villages_without(
            principal, prefix, rules, "first_secretary", rules.first_secretary_required
        ),
        "villages_without_team": lambda: _villages_without(
            principal, prefix, rules, "work_team", rules.work_team_required
        ),
        "cadres_below_quota": lambda: _cadres(principal, prefix, rules, below=True),
        "cadres_above_quota": lambda: _cadres(principal, prefix, rules, below=False),
        "units_below_quota": lambda: _units(principal, prefix, rules, below=True),
        "units_above_quota": lambda: _units(principal, prefix, rules, below=False),
    }
    statement, keys = builders[which]()
    result = await fetch_rows(session, statement, keys, page)
    if which.startswith("villages"):
        for row in result.items:
            row["region_code"] = row["code"]
    return result


def _uncovered(principal: Principal, prefix: str) -> tuple[Any, tuple[Any, ...]]:
    statement = restrict(
        cast(Any, select)(
            Household.id,
            Household.region_code,
            Household.household_number,
            Household.head_name,
            Household.status,
        ).where(
            Household.status.in_(PAIRABLE_STATUSES),
            within_prefix(Household.region_code, prefix),
            ~_has_responsible_person(principal),
        ),
        Household,
        principal,
    )
    return statement, (Household.region_code, Household.id)


def _villages_without(
    principal: Principal, prefix: str, rules: Rules, kind: str, required: rs.SettingResolver
) -> tuple[Any, tuple[Any, ...]]:
    statement = restrict(
        cast(Any, select)(Region.code, Region.name).where(
            Region.level == "village",
            within_prefix(Region.code, prefix),
            rules.is_poor(Region.code, principal),
            required.sql(Region.code, _bool),
            ~_has_active(kind, Region.code, principal),
        ),
        Region,
        principal,
    )
    return statement, (Region.code,)


def _cadres(principal: Principal, prefix: str, rules: Rules, *, below: bool) -> tuple[Any, tuple[Any, ...]]:
    pairings = _cadre_pairings()
    quota = rules.rank_quota(Cadre.region_code, Cadre.rank)
    statement = restrict(
        select(
            Cadre.id,
            Cadre.region_code,
            Cadre.name,
            Cadre.rank,
            Cadre.unit_id,
            pairings.label("pairings"),
            quota.label("quota"),
        ).where(
            Cadre.is_active,
            within_prefix(Cadre.region_code, prefix),
            pairings < quota if below else pairings > quota,
        ),
        Cadre,
        principal,
    )
    return statement, (Cadre.region_code, Cadre.id)


def _units(principal: Principal, prefix: str, rules: Rules, *, below: bool) -> tuple[Any, tuple[Any, ...]]:
    pairings = _unit_pairings()
    quota = rules.class_quota(WorkUnit.region_code, WorkUnit.enterprise_class)
    statement = restrict(
        select(
            WorkUnit.id,
            WorkUnit.region_code,
            WorkUnit.name,
            WorkUnit.kind,
            WorkUnit.enterprise_class,
            pairings.label("pairings"),
            quota.label("quota"),
        ).where(
            WorkUnit.enterprise_class.is_not(None),
            within_prefix(WorkUnit.region_code, prefix),
            pairings < quota if below else pairings > quota,
        ),
        WorkUnit,
        principal,
    )
    return statement, (WorkUnit.region_code, WorkUnit.id)
