"""Region.stats: the same figures as GET /api/v1/regions/{code}/stats, a county's townships in one query
with a constant number of statements, and no figures of a region outside the scope."""

from __future__ import annotations

import re
from typing import Any

from app.domain.principal import Role
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.factories import make_household
from tests.graphql.conftest import StatementCounter, error_codes

STATS = """
    regionCode year households people poorHouseholds poorPeople ruralPopulation povertyIncidence
    byStatus { key households people } byAttribute { key households people } byCause { key households people }
    byCategory { key households people } monitoring { key households people }
    exits { year households people } returns { year households people }
    coverage { households covered uncovered ratio } funds { received disbursed balance balanceRatio }
"""
COUNTY_OVERVIEW = f"""
query($code: String!) {{
  region(code: $code) {{
    code name stats(year: 2020) {{ {STATS} }}
    children {{ code name stats(year: 2020) {{ {STATS} }} }}
  }}
}}
"""


def _snake(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): _snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


def _numbers(value: Any) -> Any:
    """Money as numbers (GraphQL's Decimal is a string, as in REST's JSON)."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    return value


async def test_townships_with_stats_match_rest(gql, client, app, tree, account_factory, db) -> None:  # type: ignore[no-untyped-def]
    for village, status in ((VILLAGE_A1, "registered"), (VILLAGE_A2, "exited"), (VILLAGE_B1, "registered")):
        await make_household(db, village, status=status, exited_year=2019 if status == "exited" else None)
    officer = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    body = await gql(officer.token, COUNTY_OVERVIEW, {"code": COUNTY})
    assert "errors" not in body, body
    county = body["data"]["region"]
    assert county["stats"]["households"] == 3
    for region in [county, *county["children"]]:
        rest = await client.get(
            f"/api/v1/regions/{region['code']}/stats", params={"year": 2020}, headers=officer.headers
        )
        assert rest.status_code == 200, rest.text
        assert _numbers(_snake(region["stats"])) == _numbers(rest.json())
    # A county's townships with their figures: one batched read, as many statements as for one region.
    with StatementCounter(app.state.database) as townships:
        body = await gql(
            officer.token,
            f'{{ region(code: "{COUNTY}") {{ children {{ stats(year: 2020) {{ {STATS} }} }} }} }}',
        )
    assert len(body["data"]["region"]["children"]) == 2
    with StatementCounter(app.state.database) as one:
        await gql(officer.token, f'{{ region(code: "{TOWNSHIP_A}") {{ stats(year: 2020) {{ {STATS} }} }} }}')
    assert townships.count == one.count + 1  # + the children


async def test_no_stats_above_the_scope(gql, tree, account_factory) -> None:  # type: ignore[no-untyped-def]
    clerk = await account_factory(VILLAGE_A1, Role.VILLAGE_CLERK)
    body = await gql(
        clerk.token,
        f'{{ region(code: "{VILLAGE_A1}") {{ stats(year: 2020) {{ households }} '
        "ancestors { code stats(year: 2020) { households } } } }",
    )
    assert body["data"] is None or body["data"]["region"] is None
    assert set(error_codes(body)) == {"region.not_found"}
    # Alone, its own figures answer.
    body = await gql(clerk.token, f'{{ region(code: "{VILLAGE_A1}") {{ stats {{ households }} }} }}')
    assert body["data"]["region"]["stats"]["households"] == 0


async def test_stats_need_household_read(gql, tree, account_factory) -> None:  # type: ignore[no-untyped-def]
    admin = await account_factory(COUNTY, Role.ADMIN)
    body = await gql(admin.token, f'{{ region(code: "{COUNTY}") {{ name stats {{ households }} }} }}')
    assert error_codes(body) == ["auth.forbidden"]
