"""Incomes by year (net and per-capita computed, never typed) and the 两不愁三保障 + water indicators."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_A2, assert_problem
from tests.households.registry_helpers import (
    HOUSEHOLDS,
    application,
    apply,
    error_locs,
    member,
    read,
    with_etag,
)

pytestmark = pytest.mark.usefixtures("tree")

INDICATORS = ("food", "clothing", "education", "medical", "housing", "water")


def _income(
    wage: str = "0", business: str = "0", property_: str = "0", transfer: str = "0", costs: str = "0"
) -> dict[str, str]:
    return {
        "wage_income": wage,
        "business_income": business,
        "property_income": property_,
        "transfer_income": transfer,
        "production_costs": costs,
    }


async def _three_person_household(client: httpx.AsyncClient, account_factory) -> tuple[Any, dict[str, Any]]:  # type: ignore[no-untyped-def]
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    people = [
        member(),
        member("钱桂兰", "spouse", male=False),
        member("赵小龙", "child", birth=date(2004, 4, 4)),
    ]
    return clerk, await apply(client, clerk, application(VILLAGE_A1, members=people))


async def test_net_and_per_capita_income_are_computed_from_the_parts_and_active_members(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, household = await _three_person_household(client, account_factory)
    response = await client.put(
        f"{HOUSEHOLDS}/{household['id']}/incomes/2025",
        headers=clerk.headers,
        json=_income(wage="6000.00", business="1200.50", property_="100", transfer="850.25", costs="1150.70"),
    )
    assert response.status_code == 200, response.text
    income = response.json()
    # By hand: 6000.00 + 1200.50 + 100.00 + 850.25 − 1150.70 = 7000.05, and 7000.05 / 3 = 2333.35.
    assert Decimal(income["net_income"]) == Decimal("7000.05")
    assert Decimal(income["per_capita_net_income"]) == Decimal("2333.35")
    assert income["household_size"] == 3
    assert income["year"] == 2025
    assert income["region_code"] == VILLAGE_A1
    assert Decimal(income["business_income"]) == Decimal("1200.50")


async def test_per_capita_income_rounds_half_up_to_the_fen(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))  # two members
    response = await client.put(
        f"{HOUSEHOLDS}/{household['id']}/incomes/2024",
        headers=clerk.headers,
        json=_income(wage="3000.05", costs="0.00"),
    )
    # 3000.05 / 2 = 1500.025: half up gives 1500.03 (banker's rounding would give 1500.02).
    assert Decimal(response.json()["per_capita_net_income"]) == Decimal("1500.03")
    assert Decimal("3000.05") / 2 == Decimal("1500.025")
    assert (Decimal("3000.05") / 2).quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("1500.03")


async def test_per_capita_income_of_a_third_rounds_down(client: httpx.AsyncClient, account_factory) -> None:
    clerk, household = await _three_person_household(client, account_factory)
    response = await client.put(
        f"{HOUSEHOLDS}/{household['id']}/incomes/2024", headers=clerk.headers, json=_income(wage="10000")
    )
    assert Decimal(response.json()["per_capita_net_income"]) == Decimal("3333.33")


async def test_costs_above_income_give_a_negative_net_income(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    response = await client.put(
        f"{HOUSEHOLDS}/{household['id']}/incomes/2020",
        headers=clerk.headers,
        json=_income(business="500", costs="1500.01"),
    )
    assert response.status_code == 200, response.text
    # 500 − 1500.01 = −1000.01; / 2 = −500.005 → half up (away from zero) −500.01
    assert Decimal(response.json()["net_income"]) == Decimal("-1000.01")
    assert Decimal(response.json()["per_capita_net_income"]) == Decimal("-500.01")


async def test_putting_a_year_again_replaces_it(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    url = f"{HOUSEHOLDS}/{household['id']}/incomes"
    await client.put(f"{url}/2023", headers=clerk.headers, json=_income(wage="4000"))
    await client.put(f"{url}/2024", headers=clerk.headers, json=_income(wage="5000"))
    replaced = await client.put(f"{url}/2023", headers=clerk.headers, json=_income(transfer="2400"))
    assert replaced.status_code == 200, replaced.text
    incomes = (await client.get(url, headers=clerk.headers)).json()
    assert [row["year"] for row in incomes] == [2023, 2024]
    first = incomes[0]
    assert Decimal(first["wage_income"]) == 0
    assert Decimal(first["transfer_income"]) == Decimal("2400")
    assert Decimal(first["per_capita_net_income"]) == Decimal("1200.00")


async def test_household_size_follows_the_active_members(client: httpx.AsyncClient, account_factory) -> None:
    clerk, household = await _three_person_household(client, account_factory)
    child = next(m for m in household["members"] if m["name"] == "赵小龙")
    url = f"{HOUSEHOLDS}/{household['id']}/incomes/2025"
    first = (await client.put(url, headers=clerk.headers, json=_income(wage="9000"))).json()
    assert (first["household_size"], Decimal(first["per_capita_net_income"])) == (3, Decimal("3000.00"))
    _, etag = await read(client, clerk, household["id"])
    left = await client.patch(
        f"{HOUSEHOLDS}/{household['id']}/members/{child['id']}",
        headers=with_etag(clerk, etag),
        json={"is_active": False, "left_reason": "参军"},
    )
    assert left.status_code == 200, left.text
    again = (await client.put(url, headers=clerk.headers, json=_income(wage="9000"))).json()
    assert (again["household_size"], Decimal(again["per_capita_net_income"])) == (2, Decimal("4500.00"))


@pytest.mark.parametrize(
    "field", ["wage_income", "business_income", "property_income", "transfer_income", "production_costs"]
)
async def test_a_negative_amount_is_refused(client: httpx.AsyncClient, account_factory, field: str) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    body = {**_income(wage="100"), field: "-0.01"}
    problem = assert_problem(
        await client.put(f"{HOUSEHOLDS}/{household['id']}/incomes/2025", headers=clerk.headers, json=body),
        422,
    )
    assert error_locs(problem) == {("body", field)}


@pytest.mark.parametrize("amount", ["100.001", "0.005", 12.345])
async def test_more_than_two_decimals_is_refused(
    client: httpx.AsyncClient, account_factory, amount: Any
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    problem = assert_problem(
        await client.put(
            f"{HOUSEHOLDS}/{household['id']}/incomes/2025", headers=clerk.headers, json=_income(wage=amount)
        ),
        422,
    )
    assert error_locs(problem) == {("body", "wage_income")}
    assert (await client.get(f"{HOUSEHOLDS}/{household['id']}/incomes", headers=clerk.headers)).json() == []


async def test_computed_income_fields_cannot_be_typed(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    body = {**_income(wage="100"), "per_capita_net_income": "99999"}
    problem = assert_problem(
        await client.put(f"{HOUSEHOLDS}/{household['id']}/incomes/2025", headers=clerk.headers, json=body),
        422,
    )
    assert ("body", "per_capita_net_income") in error_locs(problem)


@pytest.mark.parametrize("year", [1979, 2101])
async def test_an_income_year_out_of_range_is_refused(
    client: httpx.AsyncClient, account_factory, year: int
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    assert_problem(
        await client.put(
            f"{HOUSEHOLDS}/{household['id']}/incomes/{year}", headers=clerk.headers, json=_income()
        ),
        422,
    )


async def test_recording_an_income_changes_the_households_etag(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    _, before = await read(client, clerk, household["id"])
    await client.put(
        f"{HOUSEHOLDS}/{household['id']}/incomes/2025", headers=clerk.headers, json=_income(wage="1")
    )
    _, after = await read(client, clerk, household["id"])
    assert before != after


@pytest.mark.parametrize("role", ["finance_officer", "data_consumer", "inspector"])
async def test_read_only_roles_cannot_record_incomes_or_indicators(
    client: httpx.AsyncClient, account_factory, role: str
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    reader = await account_factory(COUNTY, role)
    assert_problem(
        await client.put(
            f"{HOUSEHOLDS}/{household['id']}/incomes/2025", headers=reader.headers, json=_income()
        ),
        403,
    )
    assert_problem(
        await client.put(
            f"{HOUSEHOLDS}/{household['id']}/indicators/food",
            headers=reader.headers,
            json={"holds": True, "verified_on": "2025-01-01"},
        ),
        403,
    )
    assert (
        await client.get(f"{HOUSEHOLDS}/{household['id']}/incomes", headers=reader.headers)
    ).status_code == 200


async def test_incomes_and_indicators_of_a_household_out_of_scope_are_404(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    neighbour = await account_factory(VILLAGE_A2, "village_clerk")
    base = f"{HOUSEHOLDS}/{household['id']}"
    assert_problem(await client.get(f"{base}/incomes", headers=neighbour.headers), 404)
    assert_problem(await client.put(f"{base}/incomes/2025", headers=neighbour.headers, json=_income()), 404)
    assert_problem(await client.get(f"{base}/indicators", headers=neighbour.headers), 404)
    assert_problem(
        await client.put(
            f"{base}/indicators/food",
            headers=neighbour.headers,
            json={"holds": True, "verified_on": "2025-01-01"},
        ),
        404,
    )


# Indicators -----------------------------------------------------------------------------------------


async def test_each_of_the_six_indicators_is_recorded_with_the_caller_as_verifier(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk", username="first_secretary_wang")
    household = await apply(client, clerk, application(VILLAGE_A1))
    base = f"{HOUSEHOLDS}/{household['id']}/indicators"
    for index, indicator in enumerate(reversed(INDICATORS)):
        response = await client.put(
            f"{base}/{indicator}",
            headers=clerk.headers,
            json={
                "holds": indicator != "housing",
                "verified_on": f"2025-06-{index + 1:02d}",
                "note": "入户核实",
            },
        )
        assert response.status_code == 200, response.text
        row = response.json()
        assert row["indicator"] == indicator
        assert row["verified_by_name"] == "first_secretary_wang"
        assert row["region_code"] == VILLAGE_A1
    rows = (await client.get(base, headers=clerk.headers)).json()
    assert [row["indicator"] for row in rows] == list(INDICATORS)
    assert {row["indicator"]: row["holds"] for row in rows} == {i: i != "housing" for i in INDICATORS}
    assert {row["verified_by_name"] for row in rows} == {"first_secretary_wang"}


async def test_re_verifying_an_indicator_replaces_value_date_and_verifier(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk", username="clerk_li")
    household = await apply(client, clerk, application(VILLAGE_A1))
    url = f"{HOUSEHOLDS}/{household['id']}/indicators/housing"
    await client.put(
        url, headers=clerk.headers, json={"holds": False, "verified_on": "2024-01-01", "note": "C级危房"}
    )
    reviewer = await account_factory(COUNTY, "county_officer", username="officer_zhang")
    response = await client.put(
        url, headers=reviewer.headers, json={"holds": True, "verified_on": "2025-01-01"}
    )
    assert response.status_code == 200, response.text
    rows = (await client.get(f"{HOUSEHOLDS}/{household['id']}/indicators", headers=clerk.headers)).json()
    assert len(rows) == 1
    assert (rows[0]["holds"], rows[0]["verified_on"], rows[0]["verified_by_name"], rows[0]["note"]) == (
        True,
        "2025-01-01",
        "officer_zhang",
        None,
    )


async def test_a_verification_dated_in_the_future_is_refused(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    problem = assert_problem(
        await client.put(
            f"{HOUSEHOLDS}/{household['id']}/indicators/food",
            headers=clerk.headers,
            json={"holds": True, "verified_on": tomorrow},
        ),
        422,
        "indicator.future_date",
    )
    assert error_locs(problem) == {("body", "verified_on")}
    today = await client.put(
        f"{HOUSEHOLDS}/{household['id']}/indicators/food",
        headers=clerk.headers,
        json={"holds": True, "verified_on": date.today().isoformat()},
    )
    assert today.status_code == 200, today.text


async def test_an_unknown_indicator_is_refused(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    problem = assert_problem(
        await client.put(
            f"{HOUSEHOLDS}/{household['id']}/indicators/wifi",
            headers=clerk.headers,
            json={"holds": True, "verified_on": "2025-01-01"},
        ),
        422,
        "validation",
    )
    assert ("path", "indicator") in error_locs(problem)


@pytest.mark.parametrize(
    "body",
    [
        {"verified_on": "2025-01-01"},
        {"holds": True},
        {"holds": True, "verified_on": "2025-01-01", "verified_by_name": "冒名"},
        {"holds": True, "verified_on": "2025-02-30"},
    ],
)
async def test_an_indicator_needs_a_value_and_a_real_date_and_no_verifier_name(
    client: httpx.AsyncClient, account_factory, body: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_A1))
    assert_problem(
        await client.put(
            f"{HOUSEHOLDS}/{household['id']}/indicators/water", headers=clerk.headers, json=body
        ),
        422,
    )
