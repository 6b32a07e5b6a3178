"""The responsibility rules are per-region settings with the seeds' defaults, validated like the others."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import COUNTY, VILLAGE_A1, assert_problem

DEFAULTS = {
    "first_secretary_required": True,
    "work_team_required": True,
    "max_pairings_not_exited": 1,
    "max_pairings_exited": 2,
    "pairing_quota_by_rank": {"county_leader": 10, "section": 8, "general": 6, "village": 2},
    "pairing_quota_by_enterprise_class": {"1": 80, "2": 30, "3": 10, "4": 5},
    "keep_team_until_village_exits": True,
    "poor_village": "derived",
}


async def test_the_rules_show_with_their_defaults(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: Any
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    settings = (await client.get(f"/api/v1/regions/{VILLAGE_A1}/settings", headers=clerk.headers)).json()
    assert {key: settings[key] for key in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("first_secretary_required", "yes"),
        ("max_pairings_not_exited", 0),
        ("max_pairings_exited", True),
        ("pairing_quota_by_rank", {"county_leader": 10}),
        ("pairing_quota_by_rank", {"county_leader": 10, "section": 8, "general": 6, "village": -1}),
        ("pairing_quota_by_enterprise_class", {"1": 80, "2": 30, "3": 10, "5": 5}),
        ("keep_team_until_village_exits", None),
        ("poor_village", "maybe"),
    ],
)
async def test_an_invalid_rule_value_is_refused(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: Any, key: str, value: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(
        await client.put(
            f"/api/v1/regions/{COUNTY}/settings/{key}", headers=county.headers, json={"value": value}
        ),
        422,
        "settings.invalid",
    )
    settings = (await client.get(f"/api/v1/regions/{COUNTY}/settings", headers=county.headers)).json()
    assert settings[key] == DEFAULTS[key]
