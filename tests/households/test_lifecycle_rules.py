"""The lifecycle's definitions as pure rules: steps, who takes them at which level, dates, payloads."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from app.domain.households import lifecycle_rules as rules
from app.domain.households.lifecycle_rules import Mismatch, State, Transition
from app.domain.households.rules import exit_conditions_unmet
from app.domain.principal import Principal, Role
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1

ALL_HOLD = dict.fromkeys(("food", "clothing", "education", "medical", "housing", "water"), True)


def principal(region: str, *roles: Role) -> Principal:
    return Principal.build(kind="user", id=uuid.uuid4(), name="t", region_code=region, roles=roles)


def names(procedure: str) -> list[tuple[str, tuple[str, ...], str | None]]:
    return [(t.action, t.from_steps, t.to_step) for t in rules.TRANSITIONS if t.procedure == procedure]


def test_action_and_step_names_of_every_procedure_are_as_published() -> None:
    assert names("identification") == [
        ("village_review", ("applied",), "village_reviewed"),
        ("start_village_publicity", ("village_reviewed",), "village_publicity"),
        ("township_review", ("village_publicity",), "township_reviewed"),
        ("start_township_publicity", ("township_reviewed",), "township_publicity"),
        ("county_approve", ("township_publicity",), "county_approved"),
        ("announce", ("county_approved",), "announced"),
        ("register", ("announced",), None),
        ("reject", ("village_publicity", "township_reviewed"), None),
        ("reject", ("township_publicity", "county_approved"), None),
    ]
    assert names("exit") == [
        ("propose_exit", (), "exit_proposed"),
        ("verify_exit", ("exit_proposed",), "exit_verified"),
        ("record_consent", ("exit_verified",), "consented"),
        ("start_village_publicity", ("consented",), "village_publicity"),
        ("start_township_publicity", ("village_publicity",), "township_publicity"),
        ("announce_exit", ("township_publicity",), None),
    ]
    assert names("return") == [
        ("propose_return", (), "return_proposed"),
        ("start_village_publicity", ("return_proposed",), "village_publicity"),
        ("township_review", ("village_publicity",), "township_reviewed"),
        ("county_approve_return", ("township_reviewed",), None),
    ]
    assert names("removal") == [
        ("propose_removal", (), "removal_proposed"),
        ("township_review", ("removal_proposed",), "township_reviewed"),
        ("county_approve_removal", ("township_reviewed",), None),
    ]
    assert names("monitoring") == [
        ("report_lead", (), "lead_reported"),
        ("record_visit_consent", ("lead_reported",), "visited"),
        ("start_village_publicity", ("visited",), "village_publicity"),
        ("township_check", ("village_publicity",), "township_checked"),
        ("county_decide", ("township_checked",), None),
    ]
    assert names("risk_clearing") == [
        ("propose_risk_clearing", (), "proposed"),
        ("start_village_publicity", ("proposed",), "village_publicity"),
        ("township_check", ("village_publicity",), "township_checked"),
        ("county_decide", ("township_checked",), None),
    ]


@pytest.mark.parametrize("procedure", rules.PROCEDURES)
def test_every_step_of_a_procedure_is_reached_and_the_procedure_ends(procedure: str) -> None:
    transitions = [t for t in rules.TRANSITIONS if t.procedure == procedure]
    reached = {t.to_step for t in transitions} | ({"applied"} if procedure == "identification" else set())
    for transition in transitions:
        assert set(transition.from_steps) <= reached, transition.action
    assert any(t.ends for t in transitions)
    assert rules.STARTING_ACTIONS[procedure] in {"apply", *(t.action for t in transitions if t.starts)}


def test_each_publicity_step_opens_a_publicity_and_the_step_after_it_waits_for_the_end() -> None:
    for transition in rules.TRANSITIONS:
        if transition.to_step in rules.PUBLICITY_STEPS and transition.action.startswith("start_"):
            assert transition.opens is not None
    followers = [
        t for t in rules.TRANSITIONS if set(t.from_steps) & rules.PUBLICITY_STEPS and t.action != "reject"
    ]
    assert followers
    assert all(t.is_approval for t in followers)


def test_monitoring_publicities_count_their_own_days() -> None:
    for transition in rules.TRANSITIONS:
        if transition.opens is not None:
            expected = (
                "monitoring_publicity_days"
                if transition.procedure in ("monitoring", "risk_clearing")
                else "publicity_days"
            )
            assert transition.opens.days_setting == expected


@pytest.mark.parametrize(
    ("authority", "region", "role", "permitted"),
    [
        (rules.VILLAGE, VILLAGE_A1, Role.VILLAGE_CLERK, True),
        (rules.VILLAGE, TOWNSHIP_A, Role.VILLAGE_CLERK, True),
        (rules.VILLAGE, TOWNSHIP_A, Role.TOWNSHIP_REVIEWER, True),
        (rules.VILLAGE, COUNTY, Role.COUNTY_OFFICER, False),
        (rules.VILLAGE, VILLAGE_A1, Role.INSPECTOR, False),
        (rules.TOWNSHIP, TOWNSHIP_A, Role.TOWNSHIP_REVIEWER, True),
        (rules.TOWNSHIP, TOWNSHIP_A, Role.VILLAGE_CLERK, False),
        (rules.TOWNSHIP, COUNTY, Role.COUNTY_OFFICER, False),
        (rules.TOWNSHIP, VILLAGE_A1, Role.TOWNSHIP_REVIEWER, False),
        (rules.COUNTY, COUNTY, Role.COUNTY_OFFICER, True),
        (rules.COUNTY, COUNTY, Role.TOWNSHIP_REVIEWER, False),
        (rules.COUNTY, TOWNSHIP_A, Role.COUNTY_OFFICER, False),
        (rules.ANY_LEVEL, COUNTY, Role.COUNTY_OFFICER, True),
        (rules.ANY_LEVEL, VILLAGE_A1, Role.VILLAGE_CLERK, True),
        (rules.ANY_LEVEL, COUNTY, Role.FINANCE_OFFICER, False),
        (rules.TOWNSHIP_OR_COUNTY, COUNTY, Role.COUNTY_OFFICER, True),
        (rules.TOWNSHIP_OR_COUNTY, TOWNSHIP_A, Role.TOWNSHIP_REVIEWER, True),
        (rules.TOWNSHIP_OR_COUNTY, VILLAGE_A1, Role.TOWNSHIP_REVIEWER, False),
    ],
)
def test_a_step_is_taken_by_a_role_at_a_level(
    authority: rules.Authority, region: str, role: Role, permitted: bool
) -> None:
    assert authority.permits(principal(region, role)) is permitted


def _actions(state: State) -> list[str]:
    return [t.action for t in rules.applicable(state)]


def test_applicable_steps_follow_status_procedure_and_monitoring() -> None:
    assert _actions(State("registered", None, None, None)) == [
        "propose_exit",
        "propose_removal",
        "report_lead",
    ]
    assert _actions(State("registered", None, None, "edge")) == [
        "propose_exit",
        "propose_removal",
        "propose_risk_clearing",
    ]
    assert _actions(State("exited", None, None, None)) == ["propose_return", "propose_removal", "report_lead"]
    assert _actions(State("rejected", None, None, None)) == ["report_lead"]
    assert _actions(State("removed", None, None, None)) == []
    assert _actions(State("applicant", "identification", "applied", None)) == ["village_review"]
    assert _actions(State("applicant", "identification", "township_reviewed", None)) == [
        "start_township_publicity",
        "reject",
    ]
    assert _actions(State("registered", "exit", "village_publicity", None)) == [
        "start_township_publicity",
        "cancel",
    ]


def test_a_shared_action_name_resolves_within_the_procedure_under_way() -> None:
    found = rules.resolve(State("exited", "return", "village_publicity", None), "township_review")
    assert isinstance(found, Transition)
    assert (found.procedure, found.to_step) == ("return", "township_reviewed")
    rejecting = rules.resolve(State("applicant", "identification", "county_approved", None), "reject")
    assert isinstance(rejecting, Transition)
    assert rejecting.authority == rules.COUNTY


@pytest.mark.parametrize(
    ("state", "action", "code"),
    [
        (
            State("applicant", "identification", "applied", None),
            "county_approve",
            "household.transition.wrong_step",
        ),
        (State("applicant", "identification", "applied", None), "cancel", "household.transition.wrong_step"),
        (State("registered", "exit", "consented", None), "propose_removal", "household.procedure_under_way"),
        (State("registered", None, None, None), "propose_return", "household.transition.wrong_status"),
        (State("registered", None, None, "edge"), "report_lead", "household.transition.wrong_status"),
        (State("registered", None, None, None), "verify_exit", "household.transition.wrong_step"),
    ],
)
def test_an_action_that_does_not_apply_says_why(state: State, action: str, code: str) -> None:
    found = rules.resolve(state, action)
    assert isinstance(found, Mismatch)
    assert found.code == code


def test_payload_fields_are_required_or_refused_per_action() -> None:
    announce = next(t for t in rules.TRANSITIONS if t.action == "announce")
    assert rules.missing_payload(announce, set()) == ["document_numbers"]
    assert rules.missing_payload(announce, {"document_numbers"}) == []
    lead = next(t for t in rules.TRANSITIONS if t.action == "report_lead")
    assert rules.missing_payload(lead, {"monitoring_kind"}) == ["lead_source"]
    review = next(t for t in rules.TRANSITIONS if t.action == "village_review")
    assert rules.unexpected_payload(review, {"comment", "document_numbers", "year", "include"}) == [
        "year",
        "include",
    ]
    cancel = rules.cancel_transition("exit", "consented")
    assert rules.missing_payload(cancel, set()) == ["comment"]


def test_a_publicity_of_n_days_ends_on_its_nth_day_and_approval_follows_the_day_after() -> None:
    ends = rules.publicity_ends_on(date(2021, 3, 1), 7)
    assert ends == date(2021, 3, 7)
    assert rules.publicity_ends_on(date(2021, 2, 27), 3) == date(2021, 3, 1)
    assert not rules.publicity_has_ended(ends, date(2021, 3, 7))
    assert rules.publicity_has_ended(ends, date(2021, 3, 8))


def test_the_monitoring_decision_is_due_fifteen_days_after_the_lead() -> None:
    assert rules.decision_deadline(date(2021, 3, 1), 15) == date(2021, 3, 16)


def test_exits_default_to_last_years_income() -> None:
    assert rules.default_exit_year(date(2021, 1, 5)) == 2020


def test_unstable_exited_is_only_for_exited_households() -> None:
    assert rules.monitoring_kind_refusal("unstable_exited", "registered") is not None
    assert rules.monitoring_kind_refusal("unstable_exited", "exited") is None
    assert rules.monitoring_kind_refusal("edge", "rejected") is None


def test_income_equal_to_the_line_is_not_above_it() -> None:
    unmet = exit_conditions_unmet(
        year=2020, per_capita_income=Decimal("4000"), poverty_line=Decimal("4000"), indicators=ALL_HOLD
    )
    assert [c.code for c in unmet] == ["income_below_line"]
    assert (
        exit_conditions_unmet(
            year=2020, per_capita_income=Decimal("4000.01"), poverty_line=Decimal("4000"), indicators=ALL_HOLD
        )
        == []
    )


def test_every_action_name_is_known_to_the_api() -> None:
    assert set(rules.ACTIONS) == {t.action for t in rules.TRANSITIONS} | {"cancel"}
    assert len(rules.ACTIONS) == len(set(rules.ACTIONS))
