"""Members of a household: adding, changing, the single head (户主), leaving (never deleting)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_A2, assert_problem
from tests.factories import id_number
from tests.households.registry_helpers import (
    HOUSEHOLDS,
    application,
    apply,
    error_locs,
    member,
    read,
    with_etag,
    x_id_number,
)

pytestmark = pytest.mark.usefixtures("tree")


async def _household(client: httpx.AsyncClient, account_factory) -> tuple[Any, dict[str, Any]]:  # type: ignore[no-untyped-def]
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    return clerk, created


def _members(household: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in household["members"]}


async def _patch_member(
    client: httpx.AsyncClient, account: Any, household_id: str, member_id: str, change: dict[str, Any]
) -> httpx.Response:
    _, etag = await read(client, account, household_id)
    return await client.patch(
        f"{HOUSEHOLDS}/{household_id}/members/{member_id}", headers=with_etag(account, etag), json=change
    )


async def test_an_added_member_gets_sex_and_birth_date_from_the_id_number(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    _, etag = await read(client, clerk, created["id"])
    number = x_id_number(date(2012, 2, 29))
    response = await client.post(
        f"{HOUSEHOLDS}/{created['id']}/members",
        headers=with_etag(clerk, etag),
        json=member("赵小宝", "child", number=number.lower(), schooling="primary", education="primary"),
    )
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["birth_date"] == "2012-02-29"
    assert added["sex"] == ("M" if int(number[16]) % 2 else "F")
    assert added["household_id"] == created["id"]
    assert added["region_code"] == VILLAGE_A1
    assert added["is_active"] is True
    assert (added["schooling"], added["education"]) == ("primary", "primary")
    household, new_etag = await read(client, clerk, created["id"])
    assert "赵小宝" in _members(household)
    assert new_etag != etag
    assert household["version"] == created["version"] + 1


async def test_adding_a_member_requires_a_current_if_match(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    url = f"{HOUSEHOLDS}/{created['id']}/members"
    assert_problem(await client.post(url, headers=clerk.headers, json=member("甲", "child")), 428)
    _, etag = await read(client, clerk, created["id"])
    assert (
        await client.post(url, headers=with_etag(clerk, etag), json=member("乙", "child"))
    ).status_code == 201
    assert_problem(await client.post(url, headers=with_etag(clerk, etag), json=member("丙", "child")), 412)
    household, _ = await read(client, clerk, created["id"])
    assert "丙" not in _members(household)


async def test_a_second_head_cannot_be_added(client: httpx.AsyncClient, account_factory) -> None:
    clerk, created = await _household(client, account_factory)
    _, etag = await read(client, clerk, created["id"])
    assert_problem(
        await client.post(
            f"{HOUSEHOLDS}/{created['id']}/members",
            headers=with_etag(clerk, etag),
            json=member("新户主", "head"),
        ),
        422,
        "member.head_count",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("relation", "boss"), ("education", "nope"), ("health", "nope"), ("labour_ability", "nope")],
)
async def test_an_added_member_is_checked_against_the_code_lists(
    client: httpx.AsyncClient, account_factory, field: str, value: str
) -> None:
    clerk, created = await _household(client, account_factory)
    body = member("赵小宝", "child")
    body[field] = value
    problem = assert_problem(
        await client.post(f"{HOUSEHOLDS}/{created['id']}/members", headers=with_etag(clerk, "*"), json=body),
        422,
        "member.invalid",
    )
    assert error_locs(problem) == {("body", field)}


async def test_an_added_member_with_an_invalid_id_number_is_refused(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    good = id_number(date(2001, 1, 1))
    problem = assert_problem(
        await client.post(
            f"{HOUSEHOLDS}/{created['id']}/members",
            headers=with_etag(clerk, "*"),
            json=member("赵小宝", "child", number=good[:17] + ("0" if good[17] != "0" else "1")),
        ),
        422,
        "member.invalid",
    )
    assert error_locs(problem) == {("body", "id_number")}


async def test_changing_the_head_is_two_changes_demote_then_promote(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    people = _members(created)
    old_head, spouse = people["赵大山"], people["钱桂兰"]

    # Promoting first would make two heads: refused, nothing changes.
    assert_problem(
        await _patch_member(client, clerk, created["id"], spouse["id"], {"relation": "head"}),
        422,
        "member.head_count",
    )
    household, _ = await read(client, clerk, created["id"])
    assert _members(household)["钱桂兰"]["relation"] == "spouse"

    # Demote the old head: the household is without a head until the new one is named.
    demoted = await _patch_member(client, clerk, created["id"], old_head["id"], {"relation": "spouse"})
    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["relation"] == "spouse"

    promoted = await _patch_member(client, clerk, created["id"], spouse["id"], {"relation": "head"})
    assert promoted.status_code == 200, promoted.text
    household, _ = await read(client, clerk, created["id"])
    assert household["head_name"] == "钱桂兰"
    assert [m["name"] for m in household["members"]] == ["钱桂兰", "赵大山"]
    assert [m["relation"] for m in household["members"]] == ["head", "spouse"]

    # And now the old head cannot come back as a second head.
    assert_problem(
        await _patch_member(client, clerk, created["id"], old_head["id"], {"relation": "head"}),
        422,
        "member.head_count",
    )


async def test_a_head_who_dies_can_be_recorded_and_a_successor_named(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    people = _members(created)
    left = await _patch_member(
        client,
        clerk,
        created["id"],
        people["赵大山"]["id"],
        {"is_active": False, "left_on": "2026-03-01", "left_reason": "去世"},
    )
    assert left.status_code == 200, left.text
    promoted = await _patch_member(client, clerk, created["id"], people["钱桂兰"]["id"], {"relation": "head"})
    assert promoted.status_code == 200, promoted.text
    household, _ = await read(client, clerk, created["id"])
    assert household["head_name"] == "钱桂兰"
    assert [m["name"] for m in household["members"]] == ["钱桂兰"]


async def test_a_member_who_leaves_is_kept_with_the_date_and_listed_only_with_include_left(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    spouse = _members(created)["钱桂兰"]
    response = await _patch_member(
        client, clerk, created["id"], spouse["id"], {"is_active": False, "left_reason": "外嫁"}
    )
    assert response.status_code == 200, response.text
    left = response.json()
    assert left["is_active"] is False
    assert left["left_on"] == date.today().isoformat()
    assert left["left_reason"] == "外嫁"

    url = f"{HOUSEHOLDS}/{created['id']}/members"
    active = (await client.get(url, headers=clerk.headers)).json()
    assert [m["name"] for m in active] == ["赵大山"]
    everyone = (await client.get(url, headers=clerk.headers, params={"include_left": "true"})).json()
    assert [m["name"] for m in everyone] == ["赵大山", "钱桂兰"]
    household, _ = await read(client, clerk, created["id"])
    assert [m["name"] for m in household["members"]] == ["赵大山"]


async def test_a_leaving_date_given_is_kept_and_coming_back_clears_it(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    spouse = _members(created)["钱桂兰"]
    left = await _patch_member(
        client,
        clerk,
        created["id"],
        spouse["id"],
        {"is_active": False, "left_on": "2025-12-31", "left_reason": "务工"},
    )
    assert left.json()["left_on"] == "2025-12-31"
    back = await _patch_member(client, clerk, created["id"], spouse["id"], {"is_active": True})
    assert back.status_code == 200, back.text
    assert (back.json()["is_active"], back.json()["left_on"], back.json()["left_reason"]) == (
        True,
        None,
        None,
    )


async def test_changing_a_members_id_number_derives_sex_and_birth_date_again(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    spouse = _members(created)["钱桂兰"]
    number = id_number(date(1979, 12, 31), male=True)
    response = await _patch_member(client, clerk, created["id"], spouse["id"], {"id_number": number})
    assert response.status_code == 200, response.text
    assert (response.json()["birth_date"], response.json()["sex"]) == ("1979-12-31", "M")


async def test_a_member_change_requires_if_match(client: httpx.AsyncClient, account_factory) -> None:
    clerk, created = await _household(client, account_factory)
    spouse = _members(created)["钱桂兰"]
    url = f"{HOUSEHOLDS}/{created['id']}/members/{spouse['id']}"
    assert_problem(await client.patch(url, headers=clerk.headers, json={"name": "钱桂芳"}), 428)
    stale = f'"{created["id"]}.{created["version"] - 1}"'
    assert_problem(await client.patch(url, headers=with_etag(clerk, stale), json={"name": "钱桂芳"}), 412)


async def test_a_member_of_another_household_is_404_through_this_one(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    other = await apply(client, clerk, application(VILLAGE_A1))
    stranger = other["members"][0]
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}/members/{stranger['id']}",
            headers=with_etag(clerk, "*"),
            json={"name": "改名"},
        ),
        404,
        "member.not_found",
    )
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}/members/{uuid.uuid4()}",
            headers=with_etag(clerk, "*"),
            json={"name": "x"},
        ),
        404,
    )


async def test_members_of_a_household_out_of_scope_are_404(
    client: httpx.AsyncClient, account_factory
) -> None:
    _, created = await _household(client, account_factory)
    neighbour = await account_factory(VILLAGE_A2, "village_clerk")
    url = f"{HOUSEHOLDS}/{created['id']}/members"
    assert_problem(await client.get(url, headers=neighbour.headers), 404)
    assert_problem(await client.post(url, headers=with_etag(neighbour, "*"), json=member("甲", "child")), 404)
    assert_problem(
        await client.patch(
            f"{url}/{created['members'][1]['id']}", headers=with_etag(neighbour, "*"), json={"name": "x"}
        ),
        404,
    )


@pytest.mark.parametrize(
    "change",
    [{"sex": "F"}, {"birth_date": "2000-01-01"}, {"household_id": str(uuid.uuid4())}, {"name": None}],
)
async def test_derived_or_unknown_member_fields_and_nulls_are_refused(
    client: httpx.AsyncClient, account_factory, change: dict[str, Any]
) -> None:
    clerk, created = await _household(client, account_factory)
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}/members/{created['members'][1]['id']}",
            headers=with_etag(clerk, "*"),
            json=change,
        ),
        422,
        "validation",
    )
    assert ("body", next(iter(change))) in error_locs(problem)


async def test_migrant_work_months_are_between_0_and_12(client: httpx.AsyncClient, account_factory) -> None:
    clerk, created = await _household(client, account_factory)
    url = f"{HOUSEHOLDS}/{created['id']}/members/{created['members'][1]['id']}"
    assert_problem(
        await client.patch(url, headers=with_etag(clerk, "*"), json={"migrant_work_months": 13}), 422
    )
    ok = await client.patch(url, headers=with_etag(clerk, "*"), json={"migrant_work_months": 12})
    assert ok.status_code == 200, ok.text
    assert ok.json()["migrant_work_months"] == 12


async def test_a_county_officer_manages_members_anywhere_in_the_county(
    client: httpx.AsyncClient, account_factory
) -> None:
    _, created = await _household(client, account_factory)
    county = await account_factory(COUNTY, "county_officer")
    response = await client.post(
        f"{HOUSEHOLDS}/{created['id']}/members",
        headers=with_etag(county, "*"),
        json=member("赵老太", "parent"),
    )
    assert response.status_code == 201, response.text


async def test_a_household_without_a_head_may_take_a_new_member_as_head(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk, created = await _household(client, account_factory)
    people = _members(created)
    demoted = await _patch_member(
        client, clerk, created["id"], people["赵大山"]["id"], {"relation": "parent"}
    )
    assert demoted.status_code == 200, demoted.text
    _, etag = await read(client, clerk, created["id"])
    added = await client.post(
        f"{HOUSEHOLDS}/{created['id']}/members",
        headers=with_etag(clerk, etag),
        json=member("赵新", "head", birth=date(1990, 10, 10)),
    )
    assert added.status_code == 201, added.text
    household, _ = await read(client, clerk, created["id"])
    assert household["head_name"] == "赵新"
    assert household["members"][0]["name"] == "赵新"
