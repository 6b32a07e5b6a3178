"""Pure rules of responsibility assignments: which level each kind covers, the hard rules' names and
sentences, quotas. Nothing here reads the database.

A refused hard rule is a 422 problem whose ``code`` is ``rule_violation.<rule>``; soft rules (quotas, missing
coverage) never refuse anything and show up in the coverage report instead.
"""

from __future__ import annotations

from typing import Any

from app.domain.errors import FieldError, RuleViolation

KIND_LEVEL = {
    "township_cover": "township",  # 县级领导包乡
    "village_cover": "village",  # 包村干部
    "first_secretary": "village",  # 第一书记
    "work_team": "village",  # 驻村工作队
    "pairing": "village",  # 结对帮扶: the household's village
}
VILLAGE_TEAM_KINDS = ("first_secretary", "work_team")
PAIRABLE_STATUSES = ("registered", "exited")  # households in the register (建档立卡), in poverty or out
PAIRING_UNIT_KINDS = ("enterprise", "social_organisation")  # 万企帮万村, 社会组织结对

# Every hard rule, by the key its problem code carries.
RULES: dict[str, str] = {
    "region_level": "a township cover is of a township; a village cover, first secretary, work team member "
    "or pairing is of a village",
    "township_cover_rank": "a township is covered by a county-level leader (县级领导包乡)",
    "cadre_inactive": "only an active cadre can be assigned",
    "cadre_has_active_assignments": "a cadre with active assignments cannot be deactivated; end them first",
    "unit_pairing_kind": "only an enterprise or a social organisation pairs with a household as a unit",
    "one_first_secretary": "a village has one first secretary at a time",
    "one_team_leader": "a village's work team has one leader at a time",
    "duplicate_assignment": "the same assignment is already active",
    "pairing_household_status": "only registered or exited households are paired",
    "pairing_limit": "a household not out of poverty has at most the region's max_pairings_not_exited (1) "
    "active cadre pairings, an exited one max_pairings_exited (2)",
    "no_withdrawal_before_exit": "a poor village's first secretary and work team stay until the village is "
    "out of poverty, unless a successor takes over",
    "already_ended": "the assignment has already ended",
}


def violation(rule: str, detail: str, *, field: str | None = None) -> RuleViolation:
    """The problem of a refused hard rule; ``detail`` says what happened, the rule's sentence says why."""
    errors = [FieldError(("body", field), RULES[rule], rule)] if field else []
    return RuleViolation(f"{detail} Rule {rule}: {RULES[rule]}.", f"rule_violation.{rule}", errors)


def max_pairings(household_status: str, *, not_exited: int, exited: int) -> int:
    return exited if household_status == "exited" else not_exited


def rank_quota(quotas: dict[str, Any], rank: str) -> int:
    return int(quotas.get(rank, 0))


def enterprise_quota(quotas: dict[str, Any], enterprise_class: int | None) -> int | None:
    if enterprise_class is None:
        return None
    return int(quotas.get(str(enterprise_class), 0))
