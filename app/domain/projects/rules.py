"""Pure rules of the project library: what a project must have to enter it, which fields may change in which
status, the status workflow, who may approve, and how shared income splits between households."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from app.db.models.projects import PROJECT_STATUSES
from app.domain.errors import FieldError, RuleViolation
from app.domain.principal import Principal, Role
from app.domain.regions import codes

# Only forward, one step at a time: 入库 planned → 批复 approved → 开工 under_construction → 完工 completed →
# 验收 accepted. A mistake is not undone by going back (the history is audited).
NEXT_STATUS: dict[str, str] = dict(itertools.pairwise(PROJECT_STATUSES))
# Money is disbursed only to projects in the library that have been approved (立项批复); accepted projects
# still take their final payments (尾款) after acceptance.
FUNDABLE_STATUSES = frozenset({"approved", "under_construction", "completed", "accepted"})
# Income is shared out (分红) only from a project that has been built and yields it.
SHARING_STATUSES = frozenset({"completed", "accepted"})
# Regions that may approve a project: the county (县级扶贫部门 approves the library) or above it.
APPROVING_LEVELS = frozenset({"national", "province", "prefecture", "county"})
# Fields fixed once the project is approved: changing them needs a new project (or, in practice, a new
# approval, which is not modelled).
FIXED_AFTER_APPROVAL = frozenset({"budget_fen", "financing", "category", "construction_type", "fiscal_year"})
PROJECT_LEVELS = frozenset({"township", "village"})


def _refuse(detail: str, code: str, field: str | None = None) -> RuleViolation:
    errors = [FieldError(("body", field), detail, code.rsplit(".", 1)[-1])] if field else []
    return RuleViolation(detail, code, errors=errors)


def check_performance_targets(targets: list[dict[str, Any]] | None) -> None:
    """绩效目标: a project without them cannot enter the library."""
    if not targets:
        raise _refuse(
            "A project without performance targets (绩效目标) cannot enter the project library: give at "
            "least one indicator and its target.",
            "project.performance_targets_required",
            "performance_targets",
        )


def check_project_region(region_code: str) -> None:
    if codes.level_of(region_code) not in PROJECT_LEVELS:
        raise _refuse(
            "A project is built in a village or a township: give that region's code.",
            "project.region_level",
            "region_code",
        )


def check_financing(budget_fen: int, financing: list[dict[str, Any]]) -> None:
    """How the project is financed must add up to its budget (总投资), when it is given."""
    if not financing:
        return
    total = sum(int(part["amount_fen"]) for part in financing)
    if total != budget_fen:
        raise _refuse(
            f"The financing adds up to {total / 100:.2f} yuan but the budget is {budget_fen / 100:.2f} yuan: "
            "they must be equal.",
            "project.financing_mismatch",
            "financing",
        )
    sources = [part["source"] for part in financing]
    if len(set(sources)) != len(sources):
        raise _refuse(
            "Name each source of financing once.", "project.financing_duplicate_source", "financing"
        )


def check_schedule(planned_start: date | None, planned_end: date | None) -> None:
    if planned_start is not None and planned_end is not None and planned_end < planned_start:
        raise _refuse(
            "The planned end cannot be before the planned start.", "project.schedule_order", "planned_end"
        )


def check_changeable(status: str, changed: set[str]) -> None:
    if status == "accepted":
        raise _refuse(
            "An accepted (验收) project is closed: it can no longer be changed.", "project.closed", None
        )
    fixed = sorted(changed & FIXED_AFTER_APPROVAL)
    if status != "planned" and fixed:
        raise RuleViolation(
            f"{', '.join(fixed)} cannot change once the project is approved (立项批复).",
            "project.fixed_after_approval",
            errors=[FieldError(("body", name), "fixed after approval", "fixed") for name in fixed],
        )


def may_approve(principal: Principal) -> bool:
    """A county officer at the county (or above) approves projects into the library."""
    return principal.holds(Role.COUNTY_OFFICER) and codes.level_of(principal.region_code) in APPROVING_LEVELS


def check_transition(
    current: str,
    to: str,
    *,
    on: date,
    today: date,
    actual_start: date | None,
    principal: Principal,
) -> None:
    """The status may only move one step forward; dates are not in the future and stay in order."""
    expected = NEXT_STATUS.get(current)
    if to != expected:
        allowed = f"only to {expected}" if expected else "no further: it is accepted"
        raise _refuse(
            f"A {current} project moves {allowed} (planned → approved → under_construction → completed → "
            "accepted, forward only).",
            "project.status_transition",
            "status",
        )
    if to == "approved" and not may_approve(principal):
        raise _refuse(
            "Only a county officer at the county approves a project into the library (立项批复).",
            "project.approval_requires_county",
            "status",
        )
    if on > today:
        raise _refuse("The date cannot be in the future.", "project.future_date", "on")
    if to == "completed" and actual_start is not None and on < actual_start:
        raise _refuse(
            "A project cannot be completed before it started.", "project.completed_before_start", "on"
        )


def split_income(total_fen: int, weights: dict[Any, int]) -> dict[Any, int]:
    """Share ``total_fen`` between households in proportion to their weights, to the fen: each gets the
    floor of its share and the fen left over go one each to the largest remainders (ties by key order), so
    the parts always add up to the total exactly."""
    if total_fen < 0 or not weights or any(weight <= 0 for weight in weights.values()):
        raise ValueError("a non-negative total and positive weights are needed")
    weight_sum = sum(weights.values())
    keys = sorted(weights, key=str)
    shares = {key: total_fen * weights[key] // weight_sum for key in keys}
    remainders = sorted(keys, key=lambda key: (-(total_fen * weights[key] % weight_sum), str(key)))
    for key in remainders[: total_fen - sum(shares.values())]:
        shares[key] += 1
    return shares
