"""The pure rules of measures: status transitions and date rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain.plans import rules

TODAY = date(2020, 6, 15)


def values(**fields: Any) -> dict[str, Any]:
    base = {
        name: None
        for name in ("planned_start", "planned_end", "actual_start", "actual_end", "actual_benefit")
    }
    return {"status": "planned", **base, **fields}


def codes(
    new: dict[str, Any], current: dict[str, Any] | None = None, changed: set[str] | None = None
) -> set[str]:
    problems = rules.measure_problems(
        new, current=current, changed=changed if changed is not None else set(new), today=TODAY
    )
    return {problem.code for problem in problems}


@pytest.mark.parametrize(
    ("before", "after", "allowed"),
    [
        ("planned", "in_progress", True),
        ("planned", "done", True),
        ("planned", "cancelled", True),
        ("in_progress", "done", True),
        ("in_progress", "cancelled", True),
        ("in_progress", "planned", False),
        ("done", "in_progress", False),
        ("done", "cancelled", False),
        ("cancelled", "planned", False),
        ("cancelled", "in_progress", False),
    ],
)
def test_status_transitions(before: str, after: str, allowed: bool) -> None:
    assert (rules.transition_problem(before, after) is None) is allowed


def test_a_new_measure_cannot_start_cancelled() -> None:
    assert rules.transition_problem(None, "cancelled") is not None
    assert rules.transition_problem(None, "done") is None


def test_starting_and_finishing_settle_the_actual_dates() -> None:
    started = values(status="in_progress")
    rules.settle_dates(started, today=TODAY)
    assert started["actual_start"] == TODAY
    assert started["actual_end"] is None
    done = values(status="done", actual_start=date(2020, 3, 1))
    rules.settle_dates(done, today=TODAY)
    assert done["actual_end"] == TODAY
    assert done["actual_start"] == date(2020, 3, 1)
    one_off = values(status="done", actual_end=date(2020, 5, 1))
    rules.settle_dates(one_off, today=TODAY)
    assert one_off["actual_start"] == date(2020, 5, 1)


def test_date_rules() -> None:
    assert codes(values(planned_start=date(2020, 5, 1), planned_end=date(2020, 4, 1))) == {
        "measure.planned_dates"
    }
    assert codes(values(actual_end=date(2020, 5, 1))) >= {"measure.actual_end_requires_done"}
    assert codes(values(actual_start=date(2020, 5, 1))) == {"measure.actual_start_requires_started"}
    assert codes(values(status="done", actual_start=date(2020, 5, 2), actual_end=date(2020, 5, 1))) == {
        "measure.actual_dates"
    }
    assert codes(values(status="in_progress", actual_start=date(2020, 6, 16))) == {"measure.future_date"}
    assert codes(values(actual_benefit=100)) == {"measure.actual_benefit_requires_started"}
    assert codes(values(status="done", actual_start=TODAY, actual_end=TODAY, actual_benefit=100)) == set()


def test_cancelled_is_final_and_done_keeps_its_dates() -> None:
    cancelled = values(status="cancelled")
    assert codes({**cancelled, "description": "x"}, cancelled, {"description"}) == {"measure.cancelled"}
    done = values(status="done", actual_start=date(2020, 3, 1), actual_end=date(2020, 4, 1))
    assert codes({**done, "actual_benefit": 800}, done, {"actual_benefit"}) == set()
    assert codes({**done, "actual_end": date(2020, 5, 1)}, done, {"actual_end"}) == {"measure.done"}


def test_a_cancelled_measure_that_had_started_keeps_its_start() -> None:
    running = values(status="in_progress", actual_start=date(2020, 3, 1))
    assert codes({**running, "status": "cancelled"}, running, {"status"}) == set()


def test_every_category_has_a_label() -> None:
    assert set(rules.CATEGORY_LABELS) == set(rules.MEASURE_CATEGORIES)
    assert len(rules.MEASURE_CATEGORIES) == 12
