"""Assignments (包乡, 包村, 第一书记, 驻村工作队, 结对帮扶): make one under the hard rules, end one with a
date and a reason (never delete), list them with their history.

An assignment is active while ``ends_on`` is null. Races on the one-per-village rules are settled by the
partial unique indexes; the pairing limit locks the household, the village team rules lock the village.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Assignment, Cadre, Household, Region, WorkUnit
from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.pagination import Page, PageRequest, fetch_rows
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.responsibility import settings as rule_settings
from app.domain.responsibility.rules import (
    KIND_LEVEL,
    PAIRABLE_STATUSES,
    PAIRING_UNIT_KINDS,
    VILLAGE_TEAM_KINDS,
    max_pairings,
    violation,
)
from app.domain.scope import ensure_in_scope, restrict, scoped, within_prefix

ASSIGNMENT_FIELDS = (
    "id",
    "kind",
    "region_code",
    "cadre_id",
    "unit_id",
    "household_id",
    "is_team_leader",
    "starts_on",
    "ends_on",
    "end_reason",
    "assigned_by",
    "ended_by",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class AssignmentInput:
    kind: str
    region_code: str | None = None
    cadre_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None
    is_team_leader: bool = False
    starts_on: date | None = None


@dataclass(frozen=True)
class AssignmentFilter:
    kind: str | None = None
    region: str | None = None
    cadre_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None
    active: bool | None = None


def _invalid(detail: str, field: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(detail, "assignment.invalid", errors=[FieldError(("body", field), detail, code)])


def assignment_dict(assignment: Assignment) -> dict[str, Any]:
    return {name: getattr(assignment, name) for name in ASSIGNMENT_FIELDS}


# Reading ----------------------------------------------------------------------------------------------


async def get_assignment(session: AsyncSession, principal: Principal, assignment_id: uuid.UUID) -> Assignment:
    assignment = await session.scalar(scoped(Assignment, principal).where(Assignment.id == assignment_id))
    if assignment is None:
        raise NotFound("assignment")
    require(principal, Permission.HOUSEHOLDS_READ)
    return assignment


def assignment_list(principal: Principal, f: AssignmentFilter) -> Select[Any]:
    statement = restrict(
        select(
            *(getattr(Assignment, name) for name in ASSIGNMENT_FIELDS),
            Cadre.name.label("cadre_name"),
            WorkUnit.name.label("unit_name"),
        )
        .outerjoin(Cadre, Cadre.id == Assignment.cadre_id)
        .outerjoin(WorkUnit, WorkUnit.id == Assignment.unit_id),
        Assignment,
        principal,
    )
    if f.region is not None:
        statement = statement.where(within_prefix(Assignment.region_code, codes.region_prefix(f.region)))
    for column, value in (
        (Assignment.kind, f.kind),
        (Assignment.cadre_id, f.cadre_id),
        (Assignment.unit_id, f.unit_id),
        (Assignment.household_id, f.household_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if f.active is True:
        statement = statement.where(Assignment.ends_on.is_(None))
    elif f.active is False:
        statement = statement.where(Assignment.ends_on.is_not(None))
    return statement


async def list_assignments(
    session: AsyncSession, principal: Principal, f: AssignmentFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    """Assignments of regions in scope, active and ended (the history), as plain rows."""
    require(principal, Permission.HOUSEHOLDS_READ)
    return await fetch_rows(
        session, assignment_list(principal, f), (Assignment.region_code, Assignment.id), page
    )


# Rules that read ----------------------------------------------------------------------------------------


async def is_poor_village(session: AsyncSession, principal: Principal, village: str) -> bool:
    """A poor village (贫困村): as the region's ``poor_village`` setting says, or, when it says ``derived``
    (the default), a village where at least one household is registered and not yet out of poverty."""
    marked = await rule_settings.value_for(session, village, rule_settings.POOR_VILLAGE)
    if marked != "derived":
        return bool(marked == "poor")
    registered = await session.scalar(
        scoped(Household, principal)
        .where(Household.status == "registered", Household.region_code == village)
        .limit(1)
    )
    return registered is not None


def _active(principal: Principal) -> Select[Any]:
    return scoped(Assignment, principal).where(Assignment.ends_on.is_(None))


async def _lock_village(session: AsyncSession, principal: Principal, village: str) -> None:
    """Serialise the team rules of one village (a row lock; SQLite serialises writers anyway)."""
    await session.scalar(scoped(Region, principal).where(Region.code == village).with_for_update())


# Creating -----------------------------------------------------------------------------------------------


async def create_assignment(
    session: AsyncSession, principal: Principal, data: AssignmentInput, *, audit_action: str = "assign"
) -> Assignment:
    require(principal, Permission.RESPONSIBILITY_WRITE)
    if data.kind not in KIND_LEVEL:
        raise _invalid(f"Unknown kind {data.kind!r}.", "kind")
    if (data.cadre_id is None) == (data.unit_id is None):
        raise _invalid("Name either a cadre or a work unit, not both.", "cadre_id")
    if data.kind != "pairing" and (data.household_id is not None or data.unit_id is not None):
        raise _invalid("Only a pairing names a household or a work unit.", "household_id")
    if data.kind == "pairing" and data.household_id is None:
        raise _invalid("A pairing names the household.", "household_id", "missing")
    if data.is_team_leader and data.kind != "work_team":
        raise _invalid("Only a work team member can be its leader.", "is_team_leader")
    starts_on = data.starts_on or clock.today()
    if starts_on > clock.today():
        raise _invalid("An assignment starts today or earlier; record it when it starts.", "starts_on")

    household: Household | None = None
    if data.kind == "pairing":
        household = await session.scalar(
            scoped(Household, principal).where(Household.id == data.household_id).with_for_update()
        )
        if household is None:
            raise NotFound("household")
        region_code = household.region_code
        if data.region_code is not None and data.region_code != region_code:
            raise violation(
                "region_level",
                f"The household lives in {region_code}, not {data.region_code}.",
                field="region_code",
            )
    else:
        if data.region_code is None:
            raise _invalid("Name the township or village covered.", "region_code", "missing")
        region_code = data.region_code
        ensure_in_scope(principal, region_code)
        region = await session.scalar(scoped(Region, principal).where(Region.code == region_code))
        if region is None:
            raise NotFound("region")
        if region.level != KIND_LEVEL[data.kind]:
            raise violation(
                "region_level",
                f"A {data.kind} assignment covers a {KIND_LEVEL[data.kind]}; "
                f"{region_code} is a {region.level}.",
                field="region_code",
            )

    cadre: Cadre | None = None
    unit: WorkUnit | None = None
    if data.cadre_id is not None:
        cadre = await session.scalar(scoped(Cadre, principal).where(Cadre.id == data.cadre_id))
        if cadre is None:
            raise NotFound("cadre")
        if not cadre.is_active:
            raise violation("cadre_inactive", f"{cadre.name} is not an active cadre.", field="cadre_id")
        if data.kind == "township_cover" and cadre.rank != "county_leader":
            raise violation("township_cover_rank", f"{cadre.name} is of rank {cadre.rank}.", field="cadre_id")
    else:
        unit = await session.scalar(scoped(WorkUnit, principal).where(WorkUnit.id == data.unit_id))
        if unit is None:
            raise NotFound("work unit")
        if unit.kind not in PAIRING_UNIT_KINDS:
            raise violation("unit_pairing_kind", f"{unit.name} is a {unit.kind}.", field="unit_id")

    if data.kind in VILLAGE_TEAM_KINDS:
        await _lock_village(session, principal, region_code)
    duplicate = _active(principal).where(
        Assignment.kind == data.kind,
        Assignment.region_code == region_code,
        Assignment.cadre_id == data.cadre_id if cadre else Assignment.unit_id == data.unit_id,
    )
    if household is not None:
        duplicate = duplicate.where(Assignment.household_id == household.id)
    if await session.scalar(duplicate.limit(1)) is not None:
        raise violation("duplicate_assignment", f"This {data.kind} assignment is already active.")
    if data.kind == "first_secretary":
        current = await session.scalar(
            _active(principal).where(
                Assignment.kind == "first_secretary", Assignment.region_code == region_code
            )
        )
        if current is not None:
            raise violation(
                "one_first_secretary",
                f"Village {region_code} has an active first secretary; end that assignment "
                "(with this cadre as the successor) instead.",
            )
    if data.is_team_leader and await session.scalar(
        _active(principal).where(
            Assignment.kind == "work_team", Assignment.is_team_leader, Assignment.region_code == region_code
        )
    ):
        raise violation("one_team_leader", f"Village {region_code}'s work team has an active leader.")
    if household is not None:
        await _check_pairing(session, principal, household, counts_towards_limit=cadre is not None)

    assignment = Assignment(
        kind=data.kind,
        region_code=region_code,
        cadre_id=data.cadre_id,
        unit_id=data.unit_id,
        household_id=data.household_id,
        is_team_leader=data.is_team_leader,
        starts_on=starts_on,
        assigned_by=principal.subject,
    )
    try:
        async with session.begin_nested():
            session.add(assignment)
            await session.flush()
    except IntegrityError:  # a concurrent assignment won the race for the one-per-village rules
        rule = "one_first_secretary" if data.kind == "first_secretary" else "one_team_leader"
        raise violation(rule, f"Village {region_code} was given one at the same time.") from None
    await audit.record(
        session,
        principal,
        action=audit_action,
        record_type="assignment",
        record_ids=[str(assignment.id)],
        region_code=region_code,
        fields=[name for name in ("cadre_id", "unit_id", "household_id") if getattr(assignment, name)],
        details={"kind": data.kind, "starts_on": starts_on.isoformat()},
    )
    return assignment


async def _check_pairing(
    session: AsyncSession, principal: Principal, household: Household, *, counts_towards_limit: bool
) -> None:
    if household.status not in PAIRABLE_STATUSES:
        raise violation(
            "pairing_household_status",
            f"Household {household.household_number} is {household.status}.",
            field="household_id",
        )
    if not counts_towards_limit:  # enterprises and social organisations pair on top of the cadres
        return
    limit = max_pairings(
        household.status,
        not_exited=await rule_settings.value_for(
            session, household.region_code, rule_settings.MAX_PAIRINGS_NOT_EXITED
        ),
        exited=await rule_settings.value_for(
            session, household.region_code, rule_settings.MAX_PAIRINGS_EXITED
        ),
    )
    current = await session.scalar(
        restrict(
            select(func.count())
            .select_from(Assignment)
            .where(
                Assignment.household_id == household.id,
                Assignment.cadre_id.is_not(None),
                Assignment.ends_on.is_(None),
            ),
            Assignment,
            principal,
        )
    )
    if (current or 0) >= limit:
        raise violation(
            "pairing_limit",
            f"Household {household.household_number} ({household.status}) already has {current} active cadre "
            f"pairing(s); at most {limit} here.",
            field="household_id",
        )


# Ending -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ended:
    assignment: Assignment
    successor: Assignment | None


async def end_assignment(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    *,
    ends_on: date | None,
    reason: str,
    successor_cadre_id: uuid.UUID | None = None,
) -> Ended:
    """End an assignment on a date, for a reason; with a successor, hand it over in the same step."""
    assignment = await get_assignment(session, principal, assignment_id)
    require(principal, Permission.RESPONSIBILITY_WRITE)
    if assignment.ends_on is not None:
        raise violation("already_ended", f"It ended on {assignment.ends_on.isoformat()}.")
    ends_on = ends_on or clock.today()
    if ends_on > clock.today():
        raise _invalid("An assignment ends today or earlier; record the end when it happens.", "ends_on")
    if ends_on < assignment.starts_on:
        raise _invalid(f"It started on {assignment.starts_on.isoformat()}; it cannot end before.", "ends_on")
    if successor_cadre_id is not None and successor_cadre_id == assignment.cadre_id:
        raise _invalid("The successor is the cadre already assigned.", "successor_cadre_id")
    if assignment.kind in VILLAGE_TEAM_KINDS:
        await _lock_village(session, principal, assignment.region_code)
        if successor_cadre_id is None:
            await _check_withdrawal(session, principal, assignment)

    assignment.ends_on = ends_on
    assignment.end_reason = reason
    assignment.ended_by = principal.subject
    await session.flush()
    await audit.record(
        session,
        principal,
        action="end_assignment",
        record_type="assignment",
        record_ids=[str(assignment.id)],
        region_code=assignment.region_code,
        fields=["ends_on", "end_reason"],
        details={"kind": assignment.kind, "ends_on": ends_on.isoformat(), "reason": reason},
    )
    successor = None
    if successor_cadre_id is not None:
        successor = await create_assignment(
            session,
            principal,
            AssignmentInput(
                kind=assignment.kind,
                region_code=assignment.region_code,
                cadre_id=successor_cadre_id,
                household_id=assignment.household_id,
                is_team_leader=assignment.is_team_leader,
                starts_on=ends_on,
            ),
            audit_action="succeed",
        )
    return Ended(assignment, successor)


async def _check_withdrawal(session: AsyncSession, principal: Principal, assignment: Assignment) -> None:
    """No withdrawal of a poor village's first secretary, nor of its last work team member, unless a
    successor takes over (the region's ``keep_team_until_village_exits``)."""
    village = assignment.region_code
    if not await rule_settings.value_for(session, village, rule_settings.KEEP_TEAM_UNTIL_EXIT):
        return
    if not await is_poor_village(session, principal, village):
        return
    if assignment.kind == "work_team":
        others = await session.scalar(
            _active(principal)
            .where(
                Assignment.kind == "work_team",
                Assignment.region_code == village,
                Assignment.id != assignment.id,
            )
            .limit(1)
        )
        if others is not None:
            return
        what = "the last member of its work team"
    else:
        what = "its first secretary"
    raise violation(
        "no_withdrawal_before_exit",
        f"Village {village} is not out of poverty; {what} can leave only with a successor "
        "(successor_cadre_id).",
        field="successor_cadre_id",
    )
