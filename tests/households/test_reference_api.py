"""Reference data through the API: code lists (national defaults, county additions and retirements, years
of validity), poverty lines by year and standard, per-region settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.reference.service import SETTINGS, poverty_line
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    PROVINCE,
    TOWNSHIP_A,
    VILLAGE_A1,
    VILLAGE_B1,
    assert_problem,
)
from tests.households.registry_helpers import HOUSEHOLDS, application, apply, error_locs, with_etag

pytestmark = pytest.mark.usefixtures("tree")

CODE_LISTS = "/api/v1/code-lists"
POVERTY_LINES = "/api/v1/poverty-lines"
NATIONAL = "000000000000"
ALL_LISTS = {
    "identification_standard",
    "attribute",
    "category",
    "cause",
    "relation",
    "education",
    "schooling",
    "health",
    "labour_ability",
    "housing_structure",
    "fuel",
    "drinking_water",
    "monitoring_kind",
}


def _entry(code: str, region: str, list_name: str = "cause", **fields: Any) -> dict[str, Any]:
    return {
        "list_name": list_name,
        "code": code,
        "label": fields.pop("label", "本地"),
        "region_code": region,
        **fields,
    }


async def _add(client: httpx.AsyncClient, account: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(CODE_LISTS, headers=account.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# Code lists -----------------------------------------------------------------------------------------


async def test_all_code_lists_are_readable_with_their_national_defaults(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    rows = (await client.get(CODE_LISTS, headers=clerk.headers)).json()
    assert {row["list_name"] for row in rows} == ALL_LISTS
    assert {row["region_code"] for row in rows} == {NATIONAL}
    causes = {row["code"]: row["label"] for row in rows if row["list_name"] == "cause"}
    assert len(causes) == 13
    assert causes["illness"] == "因病"
    assert causes["lack_of_drive"] == "自身发展动力不足"
    attributes = {
        row["code"]: (row["valid_from"], row["valid_to"]) for row in rows if row["list_name"] == "attribute"
    }
    assert attributes == {
        "general": (None, None),
        "dibao": (None, None),
        "wubao": (None, 2020),
        "tekun": (2021, None),
    }


async def test_one_code_list_can_be_asked_for(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    rows = (await client.get(CODE_LISTS, headers=clerk.headers, params={"list": "relation"})).json()
    assert {row["list_name"] for row in rows} == {"relation"}
    assert [row["code"] for row in rows] == [
        "head",
        "spouse",
        "child",
        "child_in_law",
        "grandchild",
        "parent",
        "sibling",
        "other",
    ]
    assert (await client.get(CODE_LISTS, headers=clerk.headers, params={"list": "nonexistent"})).json() == []
    assert_problem(await client.get(CODE_LISTS, headers=clerk.headers, params={"list": "Bad-Name"}), 422)


async def test_a_county_entry_applies_in_the_county_and_not_in_the_neighbouring_one(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await _add(client, county, _entry("landslide", COUNTY, label="滑坡"))
    assert (created["region_code"], created["is_active"], created["code"]) == (COUNTY, True, "landslide")

    clerk = await account_factory(VILLAGE_B1, "village_clerk")
    household = await apply(client, clerk, application(VILLAGE_B1, primary_cause="landslide"))
    assert household["primary_cause"] == "landslide"
    await apply(client, clerk, application(VILLAGE_B1, other_causes=["landslide"]))

    neighbour = await account_factory(OTHER_VILLAGE, "village_clerk")
    problem = assert_problem(
        await client.post(
            HOUSEHOLDS, headers=neighbour.headers, json=application(OTHER_VILLAGE, primary_cause="landslide")
        ),
        422,
        "household.invalid",
    )
    assert error_locs(problem) == {("body", "primary_cause")}

    # The neighbouring county does not even see it; the county's clerks do.
    neighbour_rows = (
        await client.get(CODE_LISTS, headers=neighbour.headers, params={"list": "cause"})
    ).json()
    assert "landslide" not in {row["code"] for row in neighbour_rows}
    clerk_rows = (await client.get(CODE_LISTS, headers=clerk.headers, params={"list": "cause"})).json()
    assert "landslide" in {row["code"] for row in clerk_rows}


async def test_a_county_entry_applies_to_members_too(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    await _add(client, county, _entry("foster_child", COUNTY, list_name="relation", label="寄养子女"))
    body = application(VILLAGE_A1)
    body["members"][1]["relation"] = "foster_child"
    assert (await client.post(HOUSEHOLDS, headers=county.headers, json=body)).status_code == 201


async def test_retiring_a_national_code_in_a_county_refuses_it_for_new_households_there_only(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    retired = await _add(
        client, county, _entry("dibao", COUNTY, list_name="attribute", label="低保", is_active=False)
    )
    assert retired["is_active"] is False
    problem = assert_problem(
        await client.post(
            HOUSEHOLDS, headers=county.headers, json=application(VILLAGE_A1, attribute="dibao")
        ),
        422,
        "household.invalid",
    )
    assert error_locs(problem) == {("body", "attribute")}
    neighbour = await account_factory(OTHER_VILLAGE, "village_clerk")
    await apply(client, neighbour, application(OTHER_VILLAGE, attribute="dibao"))


async def test_a_household_keeps_a_code_retired_after_it_was_registered(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    household = await apply(
        client,
        county,
        application(VILLAGE_A1, primary_cause="lack_of_capital", other_causes=["lack_of_skills"]),
    )
    for code in ("lack_of_capital", "lack_of_skills"):
        await _add(client, county, _entry(code, COUNTY, is_active=False))
    changed = await client.patch(
        f"{HOUSEHOLDS}/{household['id']}", headers=with_etag(county, "*"), json={"address": "新址"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["primary_cause"], changed.json()["other_causes"]) == (
        "lack_of_capital",
        ["lack_of_skills"],
    )
    # Choosing a retired code anew is refused.
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{household['id']}",
            headers=with_etag(county, "*"),
            json={"other_causes": ["lack_of_skills", "disaster"]},
        ),
        422,
    )
    assert error_locs(problem) == {("body", "other_causes", 0)}


async def test_a_retired_code_can_be_brought_back_by_changing_the_county_entry(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    retired = await _add(client, county, _entry("marriage", COUNTY, is_active=False))
    assert_problem(
        await client.post(
            HOUSEHOLDS, headers=county.headers, json=application(VILLAGE_A1, primary_cause="marriage")
        ),
        422,
    )
    response = await client.patch(
        f"{CODE_LISTS}/{retired['id']}", headers=county.headers, json={"is_active": True}
    )
    assert response.status_code == 200, response.text
    await apply(client, county, application(VILLAGE_A1, primary_cause="marriage"))


async def test_a_village_clerk_cannot_add_code_entries(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(
        await client.post(CODE_LISTS, headers=clerk.headers, json=_entry("landslide", VILLAGE_A1)),
        403,
        "auth.forbidden",
    )


@pytest.mark.parametrize("role", ["township_reviewer", "finance_officer", "inspector", "data_consumer"])
async def test_other_roles_cannot_add_code_entries(
    client: httpx.AsyncClient, account_factory, role: str
) -> None:
    account = await account_factory(COUNTY, role)
    assert_problem(await client.post(CODE_LISTS, headers=account.headers, json=_entry("x", COUNTY)), 403)


async def test_a_county_officer_cannot_add_entries_outside_the_county(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    for region in (OTHER_COUNTY, NATIONAL, PROVINCE):
        assert_problem(await client.post(CODE_LISTS, headers=county.headers, json=_entry("x", region)), 404)


async def test_a_national_entry_cannot_be_patched_by_a_county_officer(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    rows = (await client.get(CODE_LISTS, headers=county.headers, params={"list": "cause"})).json()
    illness = next(row for row in rows if row["code"] == "illness")
    assert_problem(
        await client.patch(
            f"{CODE_LISTS}/{illness['id']}", headers=county.headers, json={"is_active": False}
        ),
        404,
    )
    assert_problem(
        await client.patch(f"{CODE_LISTS}/999999", headers=county.headers, json={"label": "x"}), 404
    )
    rows = (await client.get(CODE_LISTS, headers=county.headers, params={"list": "cause"})).json()
    assert next(row for row in rows if row["code"] == "illness")["is_active"] is True


async def test_an_entry_of_the_neighbouring_county_cannot_be_patched(
    client: httpx.AsyncClient, account_factory
) -> None:
    province = await account_factory(PROVINCE, "county_officer")
    entry = await _add(client, province, _entry("drought", OTHER_COUNTY))
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(
        await client.patch(f"{CODE_LISTS}/{entry['id']}", headers=county.headers, json={"label": "旱灾"}), 404
    )


async def test_a_county_entry_can_be_relabelled_by_its_county(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    entry = await _add(client, county, _entry("drought", COUNTY, label="干旱"))
    response = await client.patch(
        f"{CODE_LISTS}/{entry['id']}", headers=county.headers, json={"label": "旱灾", "sort_order": 5}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["label"], response.json()["sort_order"]) == ("旱灾", 5)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(
        await client.patch(f"{CODE_LISTS}/{entry['id']}", headers=clerk.headers, json={"label": "x"}), 404
    )


async def test_the_same_code_twice_for_a_region_is_a_conflict(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    await _add(client, county, _entry("drought", COUNTY))
    assert_problem(
        await client.post(CODE_LISTS, headers=county.headers, json=_entry("drought", COUNTY)),
        409,
        "codes.exists",
    )
    await _add(client, county, _entry("drought", TOWNSHIP_A))


@pytest.mark.parametrize(
    ("body", "code", "loc"),
    [
        (_entry("x", COUNTY, list_name="colours"), "codes.unknown_list", ("body", "list_name")),
        (_entry("x", COUNTY, valid_from=2022, valid_to=2021), "codes.years", ("body", "valid_to")),
        (_entry("Bad", COUNTY), "validation", ("body", "code")),
        (_entry("x", COUNTY, label=""), "validation", ("body", "label")),
        (_entry("x", COUNTY, valid_from=1900), "validation", ("body", "valid_from")),
        (_entry("x", COUNTY, colour="red"), "validation", ("body", "colour")),
    ],
)
async def test_an_invalid_code_entry_is_refused(
    client: httpx.AsyncClient, account_factory, body: dict[str, Any], code: str, loc: tuple[Any, ...]
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    problem = assert_problem(await client.post(CODE_LISTS, headers=county.headers, json=body), 422, code)
    assert loc in error_locs(problem)


async def test_patching_years_into_the_wrong_order_is_refused(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    entry = await _add(client, county, _entry("drought", COUNTY, valid_from=2021))
    assert_problem(
        await client.patch(f"{CODE_LISTS}/{entry['id']}", headers=county.headers, json={"valid_to": 2020}),
        422,
        "codes.years",
    )


async def test_wubao_expired_in_2020_and_tekun_replaces_it(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, attribute="wubao")),
        422,
        "household.invalid",
    )
    assert error_locs(problem) == {("body", "attribute")}
    assert "tekun" in problem["errors"][0]["message"]
    assert "wubao" not in problem["errors"][0]["message"].split("(one of:")[1]
    household = await apply(client, clerk, application(VILLAGE_A1, attribute="tekun"))
    assert household["attribute"] == "tekun"


async def test_a_county_entry_valid_only_in_past_years_is_refused_now(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    await _add(client, county, _entry("flood_2016", COUNTY, valid_from=2016, valid_to=2017))
    await _add(client, county, _entry("future_cause", COUNTY, valid_from=2090))
    for code in ("flood_2016", "future_cause"):
        assert_problem(
            await client.post(
                HOUSEHOLDS, headers=county.headers, json=application(VILLAGE_A1, primary_cause=code)
            ),
            422,
        )


# Poverty lines --------------------------------------------------------------------------------------


async def test_the_national_lines_2014_to_2020_are_listed(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    rows = (await client.get(POVERTY_LINES, headers=clerk.headers)).json()
    assert [(row["year"], row["standard"], row["region_code"]) for row in rows] == [
        (year, "national", NATIONAL) for year in range(2014, 2021)
    ]
    amounts = {row["year"]: Decimal(row["amount"]) for row in rows}
    assert amounts[2014] == Decimal("2736")
    assert amounts[2020] == Decimal("4000")


async def test_a_county_line_overrides_the_national_one_for_that_county_only(
    client: httpx.AsyncClient, account_factory, session: AsyncSession
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    response = await client.put(
        POVERTY_LINES,
        headers=county.headers,
        json={"region_code": COUNTY, "year": 2020, "standard": "national", "amount": "4200.00"},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["region_code"], Decimal(response.json()["amount"])) == (
        COUNTY,
        Decimal("4200.00"),
    )
    assert await poverty_line(session, VILLAGE_A1, 2020, "national") == Decimal("4200.00")
    assert await poverty_line(session, COUNTY, 2020, "national") == Decimal("4200.00")
    assert await poverty_line(session, OTHER_VILLAGE, 2020, "national") == Decimal("4000.00")
    assert await poverty_line(session, VILLAGE_A1, 2019, "national") == Decimal("3747.00")
    assert await poverty_line(session, VILLAGE_A1, 2020, "provincial") is None

    replaced = await client.put(
        POVERTY_LINES,
        headers=county.headers,
        json={"region_code": COUNTY, "year": 2020, "standard": "national", "amount": "4300"},
    )
    assert replaced.status_code == 200
    session.expire_all()
    assert await poverty_line(session, VILLAGE_A1, 2020, "national") == Decimal("4300.00")
    rows = (await client.get(POVERTY_LINES, headers=county.headers)).json()
    assert [(row["region_code"], Decimal(row["amount"])) for row in rows if row["year"] == 2020] == [
        (NATIONAL, Decimal("4000")),
        (COUNTY, Decimal("4300")),
    ]
    neighbour = await account_factory(OTHER_COUNTY, "county_officer")
    rows = (await client.get(POVERTY_LINES, headers=neighbour.headers)).json()
    assert COUNTY not in {row["region_code"] for row in rows}


async def test_a_township_line_is_more_specific_than_the_county_line(
    client: httpx.AsyncClient, account_factory, session: AsyncSession
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    for region, amount in ((COUNTY, "4100"), (TOWNSHIP_A, "4150")):
        response = await client.put(
            POVERTY_LINES,
            headers=county.headers,
            json={"region_code": region, "year": 2021, "standard": "provincial", "amount": amount},
        )
        assert response.status_code == 200, response.text
    assert await poverty_line(session, VILLAGE_A1, 2021, "provincial") == Decimal("4150")
    assert await poverty_line(session, VILLAGE_B1, 2021, "provincial") == Decimal("4100")


@pytest.mark.parametrize("role", ["village_clerk", "township_reviewer", "finance_officer", "inspector"])
async def test_only_county_officers_set_poverty_lines(
    client: httpx.AsyncClient, account_factory, role: str
) -> None:
    account = await account_factory(COUNTY if role != "village_clerk" else VILLAGE_A1, role)
    assert_problem(
        await client.put(
            POVERTY_LINES,
            headers=account.headers,
            json={"region_code": COUNTY, "year": 2020, "standard": "national", "amount": "1"},
        ),
        403,
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"region_code": OTHER_COUNTY, "year": 2020, "standard": "national", "amount": "4200"}, 404),
        ({"region_code": NATIONAL, "year": 2020, "standard": "national", "amount": "4200"}, 404),
        ({"region_code": COUNTY, "year": 2020, "standard": "county", "amount": "4200"}, 422),
        ({"region_code": COUNTY, "year": 2020, "standard": "national", "amount": "0"}, 422),
        ({"region_code": COUNTY, "year": 2020, "standard": "national", "amount": "-5"}, 422),
        ({"region_code": COUNTY, "year": 2020, "standard": "national", "amount": "4200.001"}, 422),
        ({"region_code": COUNTY, "year": 1979, "standard": "national", "amount": "4200"}, 422),
    ],
)
async def test_a_poverty_line_out_of_scope_or_invalid_is_refused(
    client: httpx.AsyncClient, account_factory, body: dict[str, Any], status: int
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(await client.put(POVERTY_LINES, headers=county.headers, json=body), status)


# Settings -------------------------------------------------------------------------------------------


# The registry's own settings (other domains, e.g. the responsibility rules, register more).
REGISTRY_SETTINGS = ("publicity_days", "monitoring_publicity_days", "monitoring_decision_days")


def _settings_url(region: str, key: str | None = None) -> str:
    return f"/api/v1/regions/{region}/settings" + (f"/{key}" if key else "")


async def test_settings_show_the_defaults(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.get(_settings_url(VILLAGE_A1), headers=clerk.headers)
    assert response.status_code == 200, response.text
    assert {key: response.json()[key] for key in REGISTRY_SETTINGS} == {
        "publicity_days": 7,
        "monitoring_publicity_days": 5,
        "monitoring_decision_days": 15,
    }


async def test_a_county_setting_applies_to_the_villages_below_it_only(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    response = await client.put(
        _settings_url(COUNTY, "publicity_days"), headers=county.headers, json={"value": 10}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"region_code": COUNTY, "key": "publicity_days", "value": 10}
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    settings = (await client.get(_settings_url(VILLAGE_A1), headers=clerk.headers)).json()
    assert {key: settings[key] for key in REGISTRY_SETTINGS} == {
        "publicity_days": 10,
        "monitoring_publicity_days": 5,
        "monitoring_decision_days": 15,
    }
    province = await account_factory(PROVINCE, "county_officer")
    other = (await client.get(_settings_url(OTHER_VILLAGE), headers=province.headers)).json()
    assert other["publicity_days"] == 7

    # A township setting wins over the county's; setting a value again replaces it.
    await client.put(_settings_url(TOWNSHIP_A, "publicity_days"), headers=county.headers, json={"value": 9})
    await client.put(_settings_url(TOWNSHIP_A, "publicity_days"), headers=county.headers, json={"value": 8})
    assert (await client.get(_settings_url(VILLAGE_A1), headers=clerk.headers)).json()["publicity_days"] == 8
    assert (await client.get(_settings_url(VILLAGE_B1), headers=county.headers)).json()[
        "publicity_days"
    ] == 10


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("publicity_days", 0),
        ("publicity_days", "seven"),
        ("publicity_days", 1000),
        ("publicity_days", 61),
        ("publicity_days", 7.5),
        ("publicity_days", True),
        ("publicity_days", None),
        ("publicity_days", [7]),
        ("monitoring_decision_days", 121),
        ("monitoring_publicity_days", -1),
    ],
)
async def test_an_invalid_setting_value_is_refused(
    client: httpx.AsyncClient, account_factory, key: str, value: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    problem = assert_problem(
        await client.put(_settings_url(COUNTY, key), headers=county.headers, json={"value": value}), 422
    )
    assert ("body", "value") in error_locs(problem)
    assert (await client.get(_settings_url(COUNTY), headers=county.headers)).json()[key] in (7, 5, 15)


@pytest.mark.parametrize(
    ("key", "value"), [("publicity_days", 60), ("monitoring_decision_days", 120), ("publicity_days", 1)]
)
async def test_setting_values_at_the_bounds_are_accepted(
    client: httpx.AsyncClient, account_factory, key: str, value: int
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    response = await client.put(_settings_url(COUNTY, key), headers=county.headers, json={"value": value})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("key", ["quota_days", "Publicity-Days"])
async def test_an_unknown_setting_is_refused(client: httpx.AsyncClient, account_factory, key: str) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(
        await client.put(_settings_url(COUNTY, key), headers=county.headers, json={"value": 7}), 422
    )
    settings = (await client.get(_settings_url(COUNTY), headers=county.headers)).json()
    assert set(settings) == set(SETTINGS)  # nothing unknown was stored


async def test_settings_out_of_scope_are_404_and_only_county_officers_set_them(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(await client.get(_settings_url(OTHER_COUNTY), headers=county.headers), 404)
    assert_problem(
        await client.put(
            _settings_url(OTHER_COUNTY, "publicity_days"), headers=county.headers, json={"value": 9}
        ),
        404,
    )
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(
        await client.put(
            _settings_url(VILLAGE_A1, "publicity_days"), headers=clerk.headers, json={"value": 9}
        ),
        403,
    )
    assert_problem(await client.get(_settings_url(COUNTY), headers=clerk.headers), 404)


@pytest.mark.parametrize("code", ["62xxxxxxxxxx", "6205229", "620522100299", "620522999000"])
async def test_settings_of_a_malformed_or_unknown_region_in_scope_are_404(
    client: httpx.AsyncClient, account_factory, code: str
) -> None:
    province = await account_factory(PROVINCE, "county_officer")
    assert_problem(await client.get(_settings_url(code), headers=province.headers), 404)
    assert_problem(
        await client.put(_settings_url(code, "publicity_days"), headers=province.headers, json={"value": 9}),
        404,
    )
