"""Use cases of assistance plans (帮扶计划, 一户一策): a household's yearly plan and its measures.

Plans are reached through the household: a plan or measure outside the caller's scope is not found. Only a
registered or exited household gets a plan, and only theirs change. Every write is audited.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import AssistancePlan, Household, PlanMeasure
from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound, RuleViolation
from app.domain.households.service import PreconditionFailed, PreconditionRequired, get_household
from app.domain.plans import rules
from app.domain.plans.cadres import usable_cadre
from app.domain.principal import Permission, Principal
from app.domain.scope import scoped

PLANNABLE_STATUSES = ("registered", "exited")
MONEY_FIELDS = ("goal_income", "expected_benefit", "actual_benefit")
CENT = Decimal("0.01")
MEASURE_FIELDS = (
    "category",
    "description",
    "responsible_cadre_id",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "status",
    "expected_benefit",
    "actual_benefit",
    "project_ref",
    "fund_transfer_ref",
)


def etag(record: AssistancePlan | PlanMeasure) -> str:
    return f'"{record.id}.{record.version}"'


def ensure_version(record: AssistancePlan | PlanMeasure, if_match: str | None, what: str) -> None:
    """Optimistic concurrency, as for households: the caller names the version they read."""
    if if_match is None:
        raise PreconditionRequired(
            f"Send If-Match with the ETag of the {what} you read, so that no one else's change is lost.",
            f"{what}.if_match_required",
        )
    accepted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in accepted and etag(record) not in accepted:
        raise PreconditionFailed(
            f"The {what} changed since you read it (now version {record.version}); read it again.",
            f"{what}.version_mismatch",
        )


def _in_cents(fields: dict[str, Any]) -> dict[str, Any]:
    """Amounts as stored (to the fen), so that a response shows what a later read will."""
    return {
        name: value.quantize(CENT) if name in MONEY_FIELDS and isinstance(value, Decimal) else value
        for name, value in fields.items()
    }


def _ensure_plannable(household: Household) -> None:
    if household.status not in PLANNABLE_STATUSES:
        raise RuleViolation(
            f"Only a registered or exited household has an assistance plan; this one is {household.status}.",
            "plan.household_status",
        )


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    record: AssistancePlan | PlanMeasure,
    fields: list[str],
) -> None:
    await audit.record(
        session,
        principal,
        action=action,
        record_type="assistance_plan" if isinstance(record, AssistancePlan) else "plan_measure",
        record_ids=[str(record.id)],
        region_code=record.region_code,
        fields=sorted(fields),
        details={"household_id": str(record.household_id)},
    )


# Plans --------------------------------------------------------------------------------------------------


async def list_plans(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> list[AssistancePlan]:
    household = await get_household(session, principal, household_id)
    statement = (
        scoped(AssistancePlan, principal)
        .where(AssistancePlan.household_id == household.id)
        .order_by(AssistancePlan.year)
    )
    return list((await session.scalars(statement)).all())


async def get_plan(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> AssistancePlan:
    plan = await session.scalar(scoped(AssistancePlan, principal).where(AssistancePlan.id == plan_id))
    if plan is None:
        raise NotFound("plan")
    require(principal, Permission.HOUSEHOLDS_READ)
    return plan


async def create_plan(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, fields: dict[str, Any]
) -> AssistancePlan:
    household = await get_household(session, principal, household_id)
    require(principal, Permission.PLANS_WRITE)
    _ensure_plannable(household)
    fields = _in_cents(fields)
    _check_exit_year(fields["year"], fields.get("planned_exit_year"))
    plan = AssistancePlan(
        household_id=household.id,
        region_code=household.region_code,
        created_by=principal.subject,
        **fields,
    )
    try:
        async with session.begin_nested():
            session.add(plan)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            f"The household already has a plan for {fields['year']}: change that one.",
            "plan.exists",
            errors=[FieldError(("body", "year"), "a plan for this year exists", "taken")],
        ) from None
    await _audit(session, principal, "create", plan, list(fields))
    return plan


async def update_plan(
    session: AsyncSession,
    principal: Principal,
    plan_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    if_match: str | None,
) -> AssistancePlan:
    plan = await get_plan(session, principal, plan_id)
    require(principal, Permission.PLANS_WRITE)
    ensure_version(plan, if_match, "plan")
    changes = _in_cents(changes)
    household = await get_household(session, principal, plan.household_id)
    _ensure_plannable(household)
    _check_exit_year(plan.year, changes.get("planned_exit_year", plan.planned_exit_year))
    for name, value in changes.items():
        setattr(plan, name, value)
    await _flush_versioned(session, "plan")
    await _audit(session, principal, "update", plan, list(changes))
    return plan


def _check_exit_year(year: int, planned_exit_year: int | None) -> None:
    if planned_exit_year is not None and planned_exit_year < year:
        raise InvalidInput(
            "The planned exit year cannot be before the plan's year.",
            "plan.exit_year",
            errors=[FieldError(("body", "planned_exit_year"), f"before {year}", "range")],
        )


async def _flush_versioned(session: AsyncSession, what: str) -> None:
    try:
        await session.flush()
    except StaleDataError:  # a concurrent change passed the same If-Match first
        raise PreconditionFailed(
            f"The {what} changed while your change was being made; read it again.", f"{what}.version_mismatch"
        ) from None


# Measures -----------------------------------------------------------------------------------------------


async def list_measures(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> list[PlanMeasure]:
    plan = await get_plan(session, principal, plan_id)
    statement = (
        scoped(PlanMeasure, principal)
        .where(PlanMeasure.plan_id == plan.id)
        .order_by(PlanMeasure.created_at, PlanMeasure.id)
    )
    return list((await session.scalars(statement)).all())


async def get_measure(session: AsyncSession, principal: Principal, measure_id: uuid.UUID) -> PlanMeasure:
    measure = await session.scalar(scoped(PlanMeasure, principal).where(PlanMeasure.id == measure_id))
    if measure is None:
        raise NotFound("measure")
    require(principal, Permission.HOUSEHOLDS_READ)
    return measure


def _refuse(problems: list[rules.MeasureProblem]) -> DomainError:
    detail = "; ".join(problem.detail for problem in problems)
    errors = [problem.error() for problem in problems]
    codes = {problem.code for problem in problems}
    code = problems[0].code if len(codes) == 1 else "measure.invalid"
    return RuleViolation(f"The measure is refused: {detail}.", code, errors=errors)


async def create_measure(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, fields: dict[str, Any]
) -> PlanMeasure:
    plan = await get_plan(session, principal, plan_id)
    require(principal, Permission.PLANS_WRITE)
    household = await get_household(session, principal, plan.household_id)
    _ensure_plannable(household)
    fields = _in_cents(fields)
    values = {name: fields.get(name) for name in MEASURE_FIELDS}
    values["status"] = fields.get("status") or "planned"
    rules.settle_dates(values, today=clock.today())
    problems = rules.measure_problems(values, current=None, changed=set(fields), today=clock.today())
    if problems:
        raise _refuse(problems)
    if values["responsible_cadre_id"] is not None:
        await usable_cadre(
            session, principal, values["responsible_cadre_id"], plan.region_code, field="responsible_cadre_id"
        )
    measure = PlanMeasure(
        plan_id=plan.id,
        household_id=plan.household_id,
        region_code=plan.region_code,
        year=plan.year,
        created_by=principal.subject,
        **values,
    )
    session.add(measure)
    await session.flush()
    await _audit(
        session, principal, "create", measure, [name for name, value in values.items() if value is not None]
    )
    return measure


async def update_measure(
    session: AsyncSession,
    principal: Principal,
    measure_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    if_match: str | None,
) -> PlanMeasure:
    """Change a measure, its status included (``planned → in_progress → done``, or ``cancelled``)."""
    measure = await get_measure(session, principal, measure_id)
    require(principal, Permission.PLANS_WRITE)
    ensure_version(measure, if_match, "measure")
    changes = _in_cents(changes)
    household = await get_household(session, principal, measure.household_id)
    _ensure_plannable(household)
    current = {name: getattr(measure, name) for name in MEASURE_FIELDS}
    values = {**current, **changes}
    if values["status"] != current["status"]:
        rules.settle_dates(values, today=clock.today())
    problems = rules.measure_problems(values, current=current, changed=set(changes), today=clock.today())
    if problems:
        raise _refuse(problems)
    cadre = changes.get("responsible_cadre_id")
    if cadre is not None and cadre != current["responsible_cadre_id"]:
        await usable_cadre(session, principal, cadre, measure.region_code, field="responsible_cadre_id")
    changed = [name for name in MEASURE_FIELDS if values[name] != current[name]]
    for name in changed:
        setattr(measure, name, values[name])
    await _flush_versioned(session, "measure")
    if changed:
        await _audit(session, principal, "update", measure, changed)
    return measure
