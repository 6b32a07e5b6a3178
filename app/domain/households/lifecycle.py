"""The household lifecycle engine: takes a step of a procedure (identification, exit, return, removal,
monitoring, risk clearing) and says which steps a caller could take now. The procedures themselves are
data in :mod:`lifecycle_rules`; everything that decides whether a step may be taken is checked here, in
one place, for taking it and for showing it. History and objections: :mod:`history`, :mod:`objections`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import Household, HouseholdEvent, Income, Indicator, Objection, Publicity
from app.domain import clock
from app.domain.access import require
from app.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from app.domain.households import lifecycle_rules as rules
from app.domain.households import service
from app.domain.households.lifecycle_rules import Transition
from app.domain.households.rules import ExitCondition, exit_conditions_unmet
from app.domain.principal import Permission, Principal
from app.domain.reference import service as reference
from app.domain.scope import scoped


@dataclass(frozen=True)
class TransitionRequest:
    """What the caller asks: the action and the payload some actions need."""

    action: str
    comment: str | None = None
    document_numbers: tuple[str, ...] = ()  # 文号
    year: int | None = None
    monitoring_kind: str | None = None
    lead_source: str | None = None
    include: bool | None = None
    primary_cause: str | None = None

    def given(self) -> set[str]:
        names = {name for name in (*rules.PAYLOAD_FIELDS, "comment") if getattr(self, name) is not None}
        return names | ({"document_numbers"} if self.document_numbers else set())


@dataclass
class Situation:
    """What the checks of a step read about a household, loaded once."""

    household: Household
    today: date
    publicity: Publicity | None = None  # the publicity of the current step, if the step is one
    open_objections: list[Objection] = field(default_factory=list)
    deadline: date | None = None  # the county's monitoring decision


# Loading ------------------------------------------------------------------------------------------------


async def lock_household(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> Household:
    """The household in scope, locked until the transaction ends, as it is now (not as first read).

    PostgreSQL locks the row (SELECT … FOR UPDATE): a concurrent step waits, then sees the new step.
    SQLite has no row locks; an UPDATE that changes nothing takes the database's write lock instead.
    """
    household = await service.get_household(session, principal, household_id)
    require(principal, Permission.HOUSEHOLDS_WRITE)
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(
            update(Household)  # scope: the household just read in scope
            .where(Household.id == household.id)
            .values(version=Household.version, updated_at=Household.updated_at)
            .execution_options(synchronize_session=False)
        )
    locked = await session.scalar(
        scoped(Household, principal)
        .where(Household.id == household.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("household")
    return locked


async def _current_publicity(
    session: AsyncSession, principal: Principal, household: Household
) -> Publicity | None:
    if household.procedure is None or household.procedure_step not in rules.PUBLICITY_STEPS:
        return None
    statement = (
        scoped(Publicity, principal)
        .where(
            Publicity.household_id == household.id,
            Publicity.procedure == household.procedure,
            Publicity.step == household.procedure_step,
        )
        .order_by(Publicity.starts_on.desc(), Publicity.created_at.desc())
        .limit(1)
    )
    publicity: Publicity | None = await session.scalar(statement)
    return publicity


async def _open_objections(
    session: AsyncSession, principal: Principal, household: Household
) -> list[Objection]:
    statement = (
        scoped(Objection, principal)
        .where(Objection.household_id == household.id, Objection.status == "open")
        .order_by(Objection.raised_on, Objection.created_at)
    )
    return list((await session.scalars(statement)).all())


async def _situation(session: AsyncSession, principal: Principal, household: Household) -> Situation:
    situation = Situation(household, clock.today())
    situation.publicity = await _current_publicity(session, principal, household)
    situation.open_objections = await _open_objections(session, principal, household)
    if household.procedure in ("monitoring", "risk_clearing") and household.procedure_started_on:
        days = await reference.setting(session, household.region_code, "monitoring_decision_days")
        situation.deadline = rules.decision_deadline(household.procedure_started_on, days)
    return situation


async def _proposal(
    session: AsyncSession, principal: Principal, household: Household, action: str
) -> HouseholdEvent | None:
    """The event that started the procedure under way (its details carry the year, the kind, …)."""
    statement = (
        scoped(HouseholdEvent, principal)
        .where(HouseholdEvent.household_id == household.id, HouseholdEvent.action == action)
        .order_by(HouseholdEvent.at.desc())
        .limit(1)
    )
    event: HouseholdEvent | None = await session.scalar(statement)
    return event


async def unmet_conditions(
    session: AsyncSession, principal: Principal, household: Household, year: int
) -> list[ExitCondition]:
    """Why the household cannot leave poverty (or have its risk cleared) on ``year``'s figures."""
    income = await session.scalar(
        scoped(Income, principal).where(Income.household_id == household.id, Income.year == year)
    )
    indicators = (
        await session.scalars(scoped(Indicator, principal).where(Indicator.household_id == household.id))
    ).all()
    line = await reference.poverty_line(
        session, household.region_code, year, household.identification_standard
    )
    return exit_conditions_unmet(
        year=year,
        per_capita_income=income.per_capita_net_income if income is not None else None,
        poverty_line=line,
        indicators={row.indicator: row.holds for row in indicators},
    )


def _condition_loc(condition: ExitCondition, year: int) -> tuple[str | int, ...]:
    if condition.code.startswith("income"):
        return ("household", "incomes", year)
    if condition.code.startswith("poverty_line"):
        return ("poverty_lines", year)
    return ("household", "indicators", condition.code.rsplit("_", 1)[0].removesuffix("_not"))


# Checks ---------------------------------------------------------------------------------------------


def _payload_refusals(
    transition: Transition, request: TransitionRequest, household: Household
) -> list[DomainError]:
    given = request.given()
    refusals: list[DomainError] = []
    unexpected = rules.unexpected_payload(transition, given)
    if unexpected:
        refusals.append(
            InvalidInput(
                f"{transition.action} does not take {', '.join(unexpected)}.",
                "household.transition.invalid",
                [
                    FieldError(("body", name), f"not used by {transition.action}", "unexpected")
                    for name in unexpected
                ],
            )
        )
    missing = rules.missing_payload(transition, given)
    if "document_numbers" in missing:
        refusals.append(
            RuleViolation(
                f"{transition.action} ({transition.label}) needs the document number (文号) "
                "it was issued under.",
                "household.document_number_required",
                [FieldError(("body", "document_numbers"), "at least one document number", "required")],
            )
        )
    if "comment" in missing:
        refusals.append(
            RuleViolation(
                f"{transition.action} ({transition.label}) needs the reason in the comment.",
                "household.comment_required",
                [FieldError(("body", "comment"), "the reason is required", "required")],
            )
        )
    others = [name for name in missing if name not in ("comment", "document_numbers")]
    if others:
        refusals.append(
            InvalidInput(
                f"{transition.action} needs {', '.join(others)}.",
                "household.transition.invalid",
                [FieldError(("body", name), "required", "required") for name in others],
            )
        )
    if request.monitoring_kind is not None and "monitoring_kind" in transition.requires:
        reason = rules.monitoring_kind_refusal(request.monitoring_kind, household.status)
        if reason is not None:
            refusals.append(
                RuleViolation(
                    f"The kind does not fit: {reason}.",
                    "household.monitoring_kind_not_applicable",
                    [FieldError(("body", "monitoring_kind"), reason, "not_applicable")],
                )
            )
    return refusals


async def _code_refusals(
    session: AsyncSession, transition: Transition, request: TransitionRequest, household: Household
) -> list[DomainError]:
    book = await reference.code_book(session, household.region_code, clock.today().year)
    errors = [
        error
        for name, list_name in (("monitoring_kind", "monitoring_kind"), ("primary_cause", "cause"))
        if (error := book.check(list_name, getattr(request, name), ("body", name))) is not None
    ]
    return (
        [InvalidInput(f"{len(errors)} problem(s) in the request.", "household.transition.invalid", errors)]
        if errors
        else []
    )


def _publicity_refusal(transition: Transition, situation: Situation) -> DomainError | None:
    household = situation.household
    # Refusing or abandoning does not wait for the publicity; going ahead does.
    if household.procedure_step not in rules.PUBLICITY_STEPS or transition.action in ("reject", rules.CANCEL):
        return None
    publicity = situation.publicity
    if publicity is None:
        return Conflict(
            f"No publicity is recorded for the step {household.procedure_step}; it cannot be approved.",
            "household.publicity_missing",
        )
    if not rules.publicity_has_ended(publicity.ends_on, situation.today):
        return Conflict(
            f"The {publicity.level} publicity runs until {publicity.ends_on.isoformat()} inclusive; "
            f"{transition.action} is possible from the day after.",
            "household.publicity_not_ended",
            extra={"publicity_id": str(publicity.id), "ends_on": publicity.ends_on.isoformat()},
        )
    return None


def _objection_refusal(transition: Transition, situation: Situation) -> DomainError | None:
    if not transition.is_approval or not situation.open_objections:
        return None
    described = "; ".join(
        f"objection {objection.id} raised on {objection.raised_on.isoformat()}: {objection.content[:60]}"
        for objection in situation.open_objections
    )
    return Conflict(
        f"{len(situation.open_objections)} objection(s) are not resolved ({described}); resolve them first.",
        "household.objection_open",
        extra={"objection_ids": [str(objection.id) for objection in situation.open_objections]},
    )


def _conditions_refusal(
    transition: Transition, year: int, unmet: Sequence[ExitCondition]
) -> DomainError | None:
    if not unmet:
        return None
    what = "leave poverty" if transition.procedure == "exit" else "have its risk cleared"
    code = (
        "household.exit.conditions_unmet"
        if transition.procedure == "exit"
        else "household.risk_clearing.conditions_unmet"
    )
    return RuleViolation(
        f"The household cannot {what} on {year}'s figures: "
        + "; ".join(condition.message for condition in unmet)
        + ".",
        code,
        [
            FieldError(_condition_loc(condition, year), condition.message, condition.code)
            for condition in unmet
        ],
    )


def _condition_year(
    transition: Transition, request: TransitionRequest, proposal: HouseholdEvent | None, today: date
) -> int:
    if request.year is not None:
        return request.year
    if not transition.starts and proposal is not None and isinstance(proposal.details.get("year"), int):
        return int(proposal.details["year"])
    return rules.default_exit_year(today)


async def _refusals(
    session: AsyncSession,
    principal: Principal,
    transition: Transition,
    request: TransitionRequest,
    situation: Situation,
    *,
    with_payload: bool,
) -> list[DomainError]:
    """Every reason the step is refused, most fundamental first (none: it may be taken)."""
    household = situation.household
    refusals: list[DomainError] = []
    if not transition.authority.permits(principal):
        refusals.append(
            not_allowed_here(
                transition.authority,
                f"{transition.action} ({transition.label}) is taken by a {transition.authority.describe()}.",
            )
        )
    if with_payload:
        refusals += _payload_refusals(transition, request, household)
        refusals += await _code_refusals(session, transition, request, household)
    for refusal in (_publicity_refusal(transition, situation), _objection_refusal(transition, situation)):
        if refusal is not None:
            refusals.append(refusal)
    checks_conditions = transition.checks_exit_conditions and (
        transition.action != "county_decide" or request.include is True
    )
    if checks_conditions:
        proposal = None
        if not transition.starts:
            proposal = await _proposal(
                session, principal, household, rules.STARTING_ACTIONS[transition.procedure]
            )
        year = _condition_year(transition, request, proposal, situation.today)
        unmet = await unmet_conditions(session, principal, household, year)
        if (refusal := _conditions_refusal(transition, year, unmet)) is not None:
            refusals.append(refusal)
    return refusals


def not_allowed_here(authority: rules.Authority, detail: str) -> Forbidden:
    """In scope, but not this caller's role or region level (403)."""
    return Forbidden(
        detail,
        "household.transition.not_allowed_here",
        extra={"role": str(authority.role), "levels": list(authority.levels)},
    )


# Taking a step ----------------------------------------------------------------------------------------


async def take_transition(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    request: TransitionRequest,
    *,
    if_match: str | None = None,
) -> Household:
    """Take one step of the household's procedure, or refuse it changing nothing. Concurrent steps on the
    same household are serialised by the lock, and the second one is checked against the first's result."""
    household = await lock_household(session, principal, household_id)
    if if_match is not None:
        service.ensure_version(household, if_match)
    state = rules.State(
        household.status, household.procedure, household.procedure_step, household.monitoring_kind
    )
    transition = rules.resolve(state, request.action)
    if isinstance(transition, rules.Mismatch):
        raise Conflict(
            transition.detail,
            transition.code,
            extra={
                "status": household.status,
                "procedure": household.procedure,
                "step": household.procedure_step,
            },
        )
    situation = await _situation(session, principal, household)
    refusals = await _refusals(session, principal, transition, request, situation, with_payload=True)
    if refusals:
        raise refusals[0]
    await _apply(session, principal, transition, request, situation)
    return household


async def _apply(
    session: AsyncSession,
    principal: Principal,
    transition: Transition,
    request: TransitionRequest,
    situation: Situation,
) -> None:
    household, today = situation.household, situation.today
    from_status, from_step, procedure = household.status, household.procedure_step, transition.procedure
    details: dict[str, Any] = {}
    if transition.starts:
        household.procedure, household.procedure_started_on = procedure, today
    proposal = None
    if not transition.starts and transition.ends:
        proposal = await _proposal(session, principal, household, rules.STARTING_ACTIONS[procedure])
    _effects(transition, request, situation, proposal, details)
    if transition.to_status is not None:
        household.status = transition.to_status
    household.procedure_step = transition.to_step
    if transition.ends:
        household.procedure = household.procedure_step = household.procedure_started_on = None
    publicity = None
    if transition.opens is not None:
        days = await reference.setting(session, household.region_code, transition.opens.days_setting)
        publicity = Publicity(
            household_id=household.id,
            region_code=household.region_code,
            procedure=procedure,
            step=transition.to_step,
            level=transition.opens.level,
            starts_on=today,
            ends_on=rules.publicity_ends_on(today, days),
            created_at=clock.now(),
        )
        session.add(publicity)
        details["publicity_days"] = days
    try:
        await session.flush()  # the household first: a stale version fails here, before the event
    except StaleDataError:  # only if the lock was bypassed; the version still lets one of two win
        raise Conflict(
            "The household changed while this step was taken; read it again.",
            "household.changed_concurrently",
        ) from None
    await service.record_event(
        session,
        principal,
        household,
        action=transition.action,
        procedure=procedure,
        from_status=from_status,
        to_status=household.status,
        from_step=from_step,
        to_step=transition.to_step,
        comment=request.comment,
        document_numbers=request.document_numbers,
        publicity_id=publicity.id if publicity is not None else None,
        details=details,
    )


def _effects(
    transition: Transition,
    request: TransitionRequest,
    situation: Situation,
    proposal: HouseholdEvent | None,
    details: dict[str, Any],
) -> None:
    """What a step changes beyond status and step, and what its event records."""
    household, today, action = situation.household, situation.today, transition.action
    proposed: dict[str, Any] = proposal.details if proposal is not None else {}
    if transition.checks_exit_conditions and (action != "county_decide" or request.include):
        details["year"] = _condition_year(transition, request, proposal, today)
    if action == "register":
        household.registered_year = today.year
    elif action == "announce_exit":
        household.exited_year = details["year"]
    elif action == "propose_return" and request.primary_cause is not None:
        details["primary_cause"] = request.primary_cause
    elif action == "county_approve_return":
        household.has_returned_to_poverty = True
        cause = proposed.get("primary_cause")
        if isinstance(cause, str) and cause != household.primary_cause:
            details["primary_cause"] = {"from": household.primary_cause, "to": cause}
            household.other_causes = [other for other in household.other_causes if other != cause]
            household.primary_cause = cause
    elif action == "report_lead":
        details.update(
            monitoring_kind=request.monitoring_kind,
            lead_source=request.lead_source,
            lead_on=today.isoformat(),
        )
    elif action == "county_decide":
        details["include"] = bool(request.include)
        if situation.deadline is not None:
            details["deadline"] = situation.deadline.isoformat()
            details["overdue"] = today > situation.deadline
        if transition.procedure == "monitoring" and request.include:
            if not isinstance(proposed.get("monitoring_kind"), str):
                raise Conflict(
                    "The lead of this monitoring procedure is not recorded; cancel it and report the lead.",
                    "household.lead_missing",
                )
            household.monitoring_kind = proposed["monitoring_kind"]
            household.monitoring_since = today
            details["monitoring_kind"] = household.monitoring_kind
        elif transition.procedure == "risk_clearing" and request.include:
            details["cleared_monitoring_kind"] = household.monitoring_kind
            since = household.monitoring_since
            details["monitoring_since"] = since.isoformat() if since is not None else None
            household.monitoring_kind = household.monitoring_since = None


# What the caller could do now -------------------------------------------------------------------------


@dataclass(frozen=True)
class AvailableAction:
    transition: Transition
    allowed: bool
    reasons: list[DomainError]


@dataclass(frozen=True)
class AvailableTransitions:
    household: Household
    publicity: Publicity | None
    deadline: date | None
    actions: list[AvailableAction]


async def available_transitions(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> AvailableTransitions:
    """The steps that apply to the household now, each allowed for this caller or not, and why not."""
    household = await service.get_household(session, principal, household_id)
    situation = await _situation(session, principal, household)
    state = rules.State(
        household.status, household.procedure, household.procedure_step, household.monitoring_kind
    )
    actions = []
    for transition in rules.applicable(state):
        request = TransitionRequest(transition.action)
        reasons = await _refusals(session, principal, transition, request, situation, with_payload=False)
        actions.append(AvailableAction(transition, not reasons, reasons))
    return AvailableTransitions(household, situation.publicity, situation.deadline, actions)
