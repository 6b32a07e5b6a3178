"""Pure rules of assistance plans: measure categories, status transitions and the date rules of measures.

A measure moves ``planned → in_progress → done``; it may be done straight from planned (a one-off subsidy),
and cancelled from planned or in progress. ``done`` and ``cancelled`` are terminal. Actual dates follow the
status: ``actual_start`` only once started, ``actual_end`` only when done, never in the future, and never
before the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.db.models.plans import MEASURE_CATEGORIES, MEASURE_STATUSES, VISIT_KINDS
from app.domain.errors import FieldError

__all__ = [
    "CATEGORY_LABELS",
    "MEASURE_CATEGORIES",
    "MEASURE_STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "VISIT_KINDS",
    "VISIT_KIND_LABELS",
    "MeasureProblem",
    "measure_problems",
]

CATEGORY_LABELS = {
    "industry": "产业扶贫",
    "employment": "就业扶贫",
    "education": "教育扶贫",
    "health": "健康扶贫",
    "social_security": "社会保障兜底",
    "house_renovation": "危房改造",
    "relocation": "易地扶贫搬迁",
    "ecology": "生态扶贫 (公益岗位)",
    "infrastructure": "基础设施",
    "village_renovation": "村庄整治",
    "photovoltaic": "光伏扶贫",
    "microcredit": "金融扶贫 (小额信贷)",
}
STATUS_LABELS = {"planned": "计划", "in_progress": "实施中", "done": "已完成", "cancelled": "已取消"}
VISIT_KIND_LABELS = {"visit": "走访", "work_log": "工作日志"}

TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"in_progress", "done", "cancelled"}),
    "in_progress": frozenset({"done", "cancelled"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}
# What may still change on a measure that is done: what it brought and where the money came from.
CHANGEABLE_WHEN_DONE = frozenset({"actual_benefit", "description", "project_ref", "fund_transfer_ref"})
STARTED = frozenset({"in_progress", "done"})


@dataclass(frozen=True)
class MeasureProblem:
    """A refused measure change: the rule's code (``measure.<rule>``) and the field it concerns."""

    code: str
    field: str
    detail: str

    def error(self) -> FieldError:
        return FieldError(("body", self.field), self.detail, self.code.removeprefix("measure."))


def transition_problem(current: str | None, target: str) -> MeasureProblem | None:
    """``current`` None: a new measure, which starts as planned, in progress or done (recording one)."""
    if current is None:
        if target == "cancelled":
            return MeasureProblem("measure.status_transition", "status", "a new measure cannot be cancelled")
        return None
    if target == current:
        return None
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: it is final"
        return MeasureProblem(
            "measure.status_transition",
            "status",
            f"a {current} measure cannot become {target} (allowed: {allowed})",
        )
    return None


def settle_dates(values: dict[str, Any], *, today: date) -> None:
    """Fill the actual dates a status change implies when they are not given: starting dates the start
    today, finishing dates the end today (and the start too, if it never had one)."""
    status = values["status"]
    if status in STARTED and values.get("actual_start") is None:
        values["actual_start"] = values.get("actual_end") or today
    if status == "done" and values.get("actual_end") is None:
        values["actual_end"] = today


def measure_problems(
    values: dict[str, Any], *, current: dict[str, Any] | None, changed: set[str], today: date
) -> list[MeasureProblem]:
    """Problems of a measure as it would be after a change. ``values``: every field after the change
    (with dates already settled); ``current``: the stored measure before it (None when creating);
    ``changed``: the fields the caller sent."""
    problems: list[MeasureProblem] = []
    before = None if current is None else current["status"]
    status = values["status"]
    if before == "cancelled":
        return [MeasureProblem("measure.cancelled", "status", "a cancelled measure no longer changes")]
    if before == "done":
        frozen = sorted(changed - CHANGEABLE_WHEN_DONE)
        if frozen:
            return [
                MeasureProblem(
                    "measure.done",
                    frozen[0],
                    "a measure that is done keeps its dates, category and status; only "
                    f"{', '.join(sorted(CHANGEABLE_WHEN_DONE))} may change (not {', '.join(frozen)})",
                )
            ]
    if (problem := transition_problem(before, status)) is not None:
        return [problem]  # the dates of a refused status are beside the point
    planned_start, planned_end = values.get("planned_start"), values.get("planned_end")
    if planned_start is not None and planned_end is not None and planned_end < planned_start:
        problems.append(
            MeasureProblem(
                "measure.planned_dates", "planned_end", "the planned end is before the planned start"
            )
        )
    actual_start, actual_end = values.get("actual_start"), values.get("actual_end")
    if actual_end is not None and status != "done":
        problems.append(
            MeasureProblem(
                "measure.actual_end_requires_done", "actual_end", "only a measure that is done ends"
            )
        )
    if (
        actual_start is not None
        and status not in STARTED
        and not (status == "cancelled" and before in STARTED)
    ):
        problems.append(
            MeasureProblem(
                "measure.actual_start_requires_started",
                "actual_start",
                "only a measure in progress or done has an actual start",
            )
        )
    if actual_start is not None and actual_end is not None and actual_end < actual_start:
        problems.append(
            MeasureProblem("measure.actual_dates", "actual_end", "the actual end is before the actual start")
        )
    for name in ("actual_start", "actual_end"):
        value = values.get(name)
        if (
            value is not None
            and value > today
            and (current is None or name in changed or value != current[name])
        ):
            problems.append(
                MeasureProblem("measure.future_date", name, "an actual date cannot be in the future")
            )
    benefit: Decimal | None = values.get("actual_benefit")
    if benefit is not None and status not in STARTED and "actual_benefit" in changed:
        problems.append(
            MeasureProblem(
                "measure.actual_benefit_requires_started",
                "actual_benefit",
                "a measure brings an actual benefit only once started",
            )
        )
    return problems
