"""Applying (农户申请), reading and changing a household through the API, as the roles that do it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import Household, HouseholdEvent, Income, Indicator, Member
from app.db.session import Database
from app.domain.households.idnumbers import check_character
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    PROVINCE,
    TOWNSHIP_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    assert_problem,
)
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


# Applying ------------------------------------------------------------------------------------------------


async def test_an_application_creates_an_applicant_in_identification_with_one_apply_event(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = application(VILLAGE_A1, comment="农户自愿申请")
    response = await client.post(HOUSEHOLDS, headers=clerk.headers, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"{HOUSEHOLDS}/{created['id']}"
    assert response.headers["ETag"] == f'"{created["id"]}.{created["version"]}"'
    assert created["status"] == "applicant"
    assert created["procedure"] == "identification"
    assert created["procedure_step"] == "applied"
    assert created["procedure_started_on"] == date.today().isoformat()
    assert created["region_code"] == VILLAGE_A1
    assert created["county_code"] == COUNTY
    assert created["head_name"] == "赵大山"
    assert created["registered_year"] is None
    assert [m["relation"] for m in created["members"]] == ["head", "spouse"]
    async with db.sessionmaker() as session:
        events = (
            await session.scalars(
                select(HouseholdEvent).where(HouseholdEvent.household_id == uuid.UUID(created["id"]))
            )
        ).all()
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.procedure, event.to_status, event.to_step) == (
        "apply",
        "identification",
        "applicant",
        "applied",
    )
    assert event.actor_id == clerk.user.id
    assert event.comment == "农户自愿申请"


async def test_the_created_household_reads_back_as_it_was_answered(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(
        client, clerk, application(VILLAGE_A1, housing_area="85.50", other_causes=["schooling"])
    )
    again, etag = await read(client, clerk, created["id"])
    assert again == created
    assert Decimal(again["housing_area"]) == Decimal("85.50")
    assert etag == f'"{created["id"]}.1"'


async def test_an_application_for_a_township_is_refused_with_422(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    body = assert_problem(
        await client.post(HOUSEHOLDS, headers=county.headers, json=application(TOWNSHIP_A)),
        422,
        "household.region_not_village",
    )
    assert ("body", "region_code") in error_locs(body)


async def test_an_application_in_another_county_is_404(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(
        await client.post(HOUSEHOLDS, headers=county.headers, json=application(OTHER_VILLAGE)), 404
    )


async def test_an_application_for_an_unknown_village_is_404(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(
        await client.post(HOUSEHOLDS, headers=county.headers, json=application("620522100299")), 404
    )


async def test_a_village_clerk_applies_only_in_their_own_village(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A2)), 404)
    await apply(client, clerk, application(VILLAGE_A1))


@pytest.mark.parametrize("role", ["data_consumer", "finance_officer", "inspector", "admin"])
async def test_roles_without_write_permission_cannot_apply(
    client: httpx.AsyncClient, account_factory, role: str
) -> None:
    account = await account_factory(COUNTY, role)
    assert_problem(
        await client.post(HOUSEHOLDS, headers=account.headers, json=application(VILLAGE_A1)),
        403,
        "auth.forbidden",
    )


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("identification_standard", "county", ("body", "identification_standard")),
        ("attribute", "rich", ("body", "attribute")),
        ("category", "elite", ("body", "category")),
        ("primary_cause", "bad_luck", ("body", "primary_cause")),
        ("other_causes", ["schooling", "bad_luck"], ("body", "other_causes", 1)),
        ("housing_structure", "palace", ("body", "housing_structure")),
        ("fuel", "uranium", ("body", "fuel")),
        ("drinking_water", "champagne", ("body", "drinking_water")),
    ],
)
async def test_every_coded_household_field_is_checked_against_its_code_list(
    client: httpx.AsyncClient, account_factory, field: str, value: Any, loc: tuple[Any, ...]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, **{field: value})),
        422,
        "household.invalid",
    )
    assert error_locs(body) == {loc}
    assert all(error["code"] == "code" for error in body["errors"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("relation", "cousin"),
        ("education", "phd_in_nothing"),
        ("schooling", "homeschool"),
        ("health", "immortal"),
        ("labour_ability", "superhuman"),
    ],
)
async def test_every_coded_member_field_is_checked_with_the_members_path(
    client: httpx.AsyncClient, account_factory, field: str, value: str
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    second = member("钱桂兰", "spouse", male=False)
    second[field] = value
    body = assert_problem(
        await client.post(
            HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=[member(), second])
        ),
        422,
        "household.invalid",
    )
    assert ("body", "members", 1, field) in error_locs(body)


async def test_all_problems_of_an_application_are_reported_at_once(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    bad_check = id_number()[:17]
    bad_check += "0" if bad_check and check_character(bad_check) != "0" else "1"
    body = application(
        VILLAGE_A1,
        attribute="rich",
        primary_cause="bad_luck",
        members=[member(education="nope"), member("钱桂兰", "spouse", number=bad_check)],
    )
    problem = assert_problem(await client.post(HOUSEHOLDS, headers=clerk.headers, json=body), 422)
    assert error_locs(problem) >= {
        ("body", "attribute"),
        ("body", "primary_cause"),
        ("body", "members", 0, "education"),
        ("body", "members", 1, "id_number"),
    }


async def test_more_than_two_other_causes_is_refused(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = application(VILLAGE_A1, other_causes=["schooling", "disaster", "marriage"])
    problem = assert_problem(await client.post(HOUSEHOLDS, headers=clerk.headers, json=body), 422)
    assert ("body", "other_causes") in error_locs(problem)


async def test_repeated_other_causes_are_refused(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = application(VILLAGE_A1, other_causes=["schooling", "schooling"])
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=body), 422, "household.invalid"
    )
    assert ("body", "other_causes") in error_locs(problem)


async def test_the_primary_cause_cannot_repeat_among_the_other_causes(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    body = application(VILLAGE_A1, primary_cause="illness", other_causes=["disability", "illness"])
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=body), 422, "household.invalid"
    )
    assert ("body", "other_causes") in error_locs(problem)


@pytest.mark.parametrize("heads", [0, 2])
async def test_an_application_needs_exactly_one_head(
    client: httpx.AsyncClient, account_factory, heads: int
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    relations = ["head"] * heads + ["spouse", "child"][: 2 - heads + 1]
    people = [member(f"成员{i}", relation) for i, relation in enumerate(relations)]
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=people)),
        422,
        "household.invalid",
    )
    assert ("body", "members") in error_locs(problem)
    assert any(error["code"] == "head_count" for error in problem["errors"])


async def test_an_application_without_members_is_refused(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=[])), 422
    )
    assert ("body", "members") in error_locs(problem)


async def test_the_same_person_twice_in_one_application_is_refused(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    number = id_number()
    people = [member(number=number), member("钱桂兰", "spouse", number=number)]
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=people)),
        422,
        "household.invalid",
    )
    assert ("body", "members", 1, "id_number") in error_locs(problem)


async def test_the_same_person_with_x_and_lowercase_x_is_still_the_same_person(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    number = x_id_number()
    people = [member(number=number), member("钱桂兰", "spouse", number=number.lower())]
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=people)),
        422,
    )
    assert ("body", "members", 1, "id_number") in error_locs(problem)


@pytest.mark.parametrize(
    "number",
    [
        "620522199002301235",  # 17 digits of an impossible date: caught whatever the check character
        "62052219900101123",  # too short
        "62052219900101123Y",
    ],
)
async def test_an_invalid_id_number_is_refused_with_the_members_path(
    client: httpx.AsyncClient, account_factory, number: str
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    people = [member(), member("钱桂兰", "spouse", number=number)]
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=people)),
        422,
    )
    assert ("body", "members", 1, "id_number") in error_locs(problem)


async def test_an_id_number_with_a_wrong_check_character_is_refused(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    good = id_number()
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    people = [member(number=wrong)]
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=people)),
        422,
        "household.invalid",
    )
    assert ("body", "members", 0, "id_number") in error_locs(problem)


async def test_member_sex_and_birth_date_come_from_the_id_number_and_x_is_normalised(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer", has_personal_data_grant=True)
    number = x_id_number(date(1980, 5, 6))
    people = [member(number=number.lower()), member("钱桂兰", "spouse", birth=date(1982, 2, 28), male=False)]
    created = await apply(client, county, application(VILLAGE_A1, members=people))
    head, spouse = created["members"]
    assert head["id_number"] == number
    assert head["birth_date"] == "1980-05-06"
    assert head["sex"] == ("M" if int(number[16]) % 2 else "F")
    assert spouse["birth_date"] == "1982-02-28"
    assert spouse["sex"] == "F"


async def test_household_numbers_are_unique_per_county_only(
    client: httpx.AsyncClient, account_factory
) -> None:
    province = await account_factory(PROVINCE, "county_officer")
    await apply(client, province, application(VILLAGE_A1, household_number="HH-0001"))
    problem = assert_problem(
        await client.post(
            HOUSEHOLDS, headers=province.headers, json=application(VILLAGE_B1, household_number="HH-0001")
        ),
        409,
        "household.number_taken",
    )
    assert ("body", "household_number") in error_locs(problem)
    elsewhere = await apply(client, province, application(OTHER_VILLAGE, household_number="HH-0001"))
    assert elsewhere["county_code"] == OTHER_COUNTY


async def test_a_taken_household_number_leaves_nothing_behind(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    await apply(client, county, application(VILLAGE_A1, household_number="HH-0002"))
    people = [member("孙二娘", number=id_number())]
    assert_problem(
        await client.post(
            HOUSEHOLDS,
            headers=county.headers,
            json=application(VILLAGE_A2, household_number="HH-0002", members=people),
        ),
        409,
    )
    async with db.sessionmaker() as session:
        assert await session.scalar(select(Member).where(Member.name == "孙二娘")) is None


@pytest.mark.parametrize(
    "extra",
    [{"status": "registered"}, {"version": 7}, {"id": str(uuid.uuid4())}, {"registered_year": 2015}],
)
async def test_unknown_or_server_owned_fields_in_an_application_are_refused(
    client: httpx.AsyncClient, account_factory, extra: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    problem = assert_problem(
        await client.post(HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, **extra)),
        422,
        "validation",
    )
    assert ("body", next(iter(extra))) in error_locs(problem)


async def test_an_unknown_member_field_is_refused(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    problem = assert_problem(
        await client.post(
            HOUSEHOLDS, headers=clerk.headers, json=application(VILLAGE_A1, members=[member(sex="F")])
        ),
        422,
    )
    assert ("body", "members", 0, "sex") in error_locs(problem)


# One person, one active household -------------------------------------------------------------------------


async def test_a_person_active_elsewhere_is_refused_naming_the_household_the_caller_can_see(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = id_number()
    first = await apply(client, county, application(VILLAGE_A1, members=[member(number=number)]))
    response = await client.post(
        HOUSEHOLDS,
        headers=county.headers,
        json=application(VILLAGE_B1, members=[member("周某", number=number)]),
    )
    problem = assert_problem(response, 409, "member.already_registered")
    assert first["household_number"] in problem["detail"]


async def test_a_person_active_elsewhere_is_refused_without_naming_a_household_the_caller_cannot_see(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = id_number()
    first = await apply(
        client,
        county,
        application(VILLAGE_A1, household_number="SECRET-77", members=[member(number=number)]),
    )
    clerk = await account_factory(VILLAGE_B1, "village_clerk")
    response = await client.post(
        HOUSEHOLDS,
        headers=clerk.headers,
        json=application(VILLAGE_B1, members=[member("周某", number=number)]),
    )
    assert_problem(response, 409, "member.already_registered")
    assert first["household_number"] not in response.text
    assert first["id"] not in response.text


async def test_a_member_who_left_may_join_another_household_and_not_come_back_while_there(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = id_number(date(1998, 3, 3), male=False)
    first = await apply(
        client,
        county,
        application(VILLAGE_A1, members=[member(), member("吴小芳", "child", number=number)]),
    )
    daughter = next(m for m in first["members"] if m["name"] == "吴小芳")
    _, etag = await read(client, county, first["id"])
    response = await client.patch(
        f"{HOUSEHOLDS}/{first['id']}/members/{daughter['id']}",
        headers=with_etag(county, etag),
        json={"is_active": False, "left_reason": "出嫁"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["left_on"] == date.today().isoformat()

    second = await apply(
        client,
        county,
        application(VILLAGE_B1, members=[member("郑大勇"), member("吴小芳", "spouse", number=number)]),
    )
    _, etag = await read(client, county, first["id"])
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{first['id']}/members/{daughter['id']}",
            headers=with_etag(county, etag),
            json={"is_active": True},
        ),
        409,
        "member.already_registered",
    )
    assert second["household_number"] in problem["detail"]
    members = (
        await client.get(
            f"{HOUSEHOLDS}/{first['id']}/members", headers=county.headers, params={"include_left": "true"}
        )
    ).json()
    assert next(m for m in members if m["name"] == "吴小芳")["is_active"] is False


async def test_adding_a_member_active_elsewhere_is_refused(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = id_number()
    first = await apply(client, county, application(VILLAGE_A1, members=[member(number=number)]))
    second = await apply(client, county, application(VILLAGE_A2))
    _, etag = await read(client, county, second["id"])
    problem = assert_problem(
        await client.post(
            f"{HOUSEHOLDS}/{second['id']}/members",
            headers=with_etag(county, etag),
            json=member("赵大山", "sibling", number=number),
        ),
        409,
        "member.already_registered",
    )
    assert first["household_number"] in problem["detail"]


# Reading -----------------------------------------------------------------------------------------------


async def test_members_are_listed_head_first(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    people = [
        member("孙子", "grandchild", birth=date(2010, 1, 1)),
        member("老父", "parent", birth=date(1940, 1, 1)),
        member("户主", "head", birth=date(1965, 1, 1)),
    ]
    created = await apply(client, county, application(VILLAGE_A1, members=people))
    household, _ = await read(client, county, created["id"])
    assert household["members"][0]["name"] == "户主"
    assert {m["name"] for m in household["members"]} == {"户主", "老父", "孙子"}


async def test_a_household_out_of_scope_is_404_like_a_missing_one(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    neighbour = await account_factory(VILLAGE_A2, "village_clerk")
    out_of_scope = await client.get(f"{HOUSEHOLDS}/{created['id']}", headers=neighbour.headers)
    missing = await client.get(f"{HOUSEHOLDS}/{uuid.uuid4()}", headers=neighbour.headers)
    assert_problem(out_of_scope, 404, "household.not_found")
    assert_problem(missing, 404, "household.not_found")
    assert out_of_scope.json()["detail"] == missing.json()["detail"]


async def test_the_etag_is_the_id_and_version(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    _, etag = await read(client, clerk, created["id"])
    assert etag == f'"{created["id"]}.{created["version"]}"'


# Changing --------------------------------------------------------------------------------------------


async def test_a_change_without_if_match_is_428(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}", headers=clerk.headers, json={"address": "新地址"}
        ),
        428,
        "household.if_match_required",
    )


async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1, address="旧地址"))
    _, old_etag = await read(client, clerk, created["id"])
    first = await client.patch(
        f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(clerk, old_etag), json={"address": "一号"}
    )
    assert first.status_code == 200, first.text
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}",
            headers=with_etag(clerk, old_etag),
            json={"address": "二号", "group_name": "三组"},
        ),
        412,
        "household.version_mismatch",
    )
    after, etag = await read(client, clerk, created["id"])
    assert after["address"] == "一号"
    assert after["group_name"] is None
    assert after["version"] == created["version"] + 1
    assert etag == first.headers["ETag"]


async def test_a_matching_if_match_changes_the_household_and_bumps_the_version(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    _, etag = await read(client, clerk, created["id"])
    response = await client.patch(
        f"{HOUSEHOLDS}/{created['id']}",
        headers=with_etag(clerk, etag),
        json={"address": "王家庄村3组12号", "other_causes": ["lack_of_skills"], "housing_safety_grade": "C"},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["version"] == created["version"] + 1
    assert response.headers["ETag"] == f'"{created["id"]}.{changed["version"]}"'
    assert changed["address"] == "王家庄村3组12号"
    assert changed["other_causes"] == ["lack_of_skills"]
    assert changed["housing_safety_grade"] == "C"
    again, new_etag = await read(client, clerk, created["id"])
    assert new_etag == response.headers["ETag"]
    assert again["address"] == "王家庄村3组12号"


async def test_if_match_star_and_a_list_of_etags_are_accepted(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    star = await client.patch(
        f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(clerk, "*"), json={"group_name": "一组"}
    )
    assert star.status_code == 200, star.text
    listed = await client.patch(
        f"{HOUSEHOLDS}/{created['id']}",
        headers=with_etag(clerk, f'"{uuid.uuid4()}.1", {star.headers["ETag"]}'),
        json={"group_name": "二组"},
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["version"] == created["version"] + 2


async def test_an_explicit_null_in_a_change_is_refused(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(clerk, "*"), json={"phone": None}
        ),
        422,
        "validation",
    )
    assert ("body", "phone") in error_locs(problem)


@pytest.mark.parametrize(
    "change",
    [{"status": "registered"}, {"version": 99}, {"id": str(uuid.uuid4())}, {"county_code": OTHER_COUNTY}],
)
async def test_server_owned_fields_cannot_be_patched(
    client: httpx.AsyncClient, account_factory, change: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    problem = assert_problem(
        await client.patch(f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(clerk, "*"), json=change),
        422,
        "validation",
    )
    assert ("body", next(iter(change))) in error_locs(problem)
    after, _ = await read(client, clerk, created["id"])
    assert after["status"] == "applicant"
    assert after["version"] == created["version"]


async def test_a_changed_code_is_checked_against_its_code_list(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}",
            headers=with_etag(clerk, "*"),
            json={"attribute": "rich", "other_causes": ["illness"]},
        ),
        422,
        "household.invalid",
    )
    assert error_locs(problem) == {("body", "attribute"), ("body", "other_causes")}
    after, _ = await read(client, clerk, created["id"])
    assert (after["attribute"], after["other_causes"]) == ("general", [])


async def test_a_new_primary_cause_cannot_be_one_of_the_kept_other_causes(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1, other_causes=["disability", "schooling"]))
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}",
            headers=with_etag(clerk, "*"),
            json={"primary_cause": "schooling"},
        ),
        422,
        "household.invalid",
    )
    assert error_locs(problem) == {("body", "other_causes")}
    swapped = await client.patch(
        f"{HOUSEHOLDS}/{created['id']}",
        headers=with_etag(clerk, "*"),
        json={"primary_cause": "schooling", "other_causes": ["disability", "illness"]},
    )
    assert swapped.status_code == 200, swapped.text
    assert (swapped.json()["primary_cause"], swapped.json()["other_causes"]) == (
        "schooling",
        ["disability", "illness"],
    )


async def test_more_than_two_other_causes_cannot_be_patched_in(
    client: httpx.AsyncClient, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    created = await apply(client, clerk, application(VILLAGE_A1))
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}",
            headers=with_etag(clerk, "*"),
            json={"other_causes": ["disability", "schooling", "disaster"]},
        ),
        422,
    )
    assert ("body", "other_causes") in error_locs(problem)


async def test_a_household_number_taken_in_the_county_cannot_be_patched_in(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    await apply(client, county, application(VILLAGE_A1, household_number="HH-9"))
    other = await apply(client, county, application(VILLAGE_B1))
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{other['id']}", headers=with_etag(county, "*"), json={"household_number": "HH-9"}
        ),
        409,
        "household.number_taken",
    )
    after, _ = await read(client, county, other["id"])
    assert after["household_number"] == other["household_number"]


async def test_a_household_moved_within_the_county_takes_its_members_incomes_and_indicators_along(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    household_id = created["id"]
    income = {
        "wage_income": "3000",
        "business_income": "0",
        "property_income": "0",
        "transfer_income": "0",
        "production_costs": "0",
    }
    assert (
        await client.put(f"{HOUSEHOLDS}/{household_id}/incomes/2025", headers=county.headers, json=income)
    ).status_code == 200
    assert (
        await client.put(
            f"{HOUSEHOLDS}/{household_id}/indicators/water",
            headers=county.headers,
            json={"holds": True, "verified_on": "2025-06-01"},
        )
    ).status_code == 200
    _, etag = await read(client, county, household_id)
    response = await client.patch(
        f"{HOUSEHOLDS}/{household_id}", headers=with_etag(county, etag), json={"region_code": VILLAGE_B1}
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["region_code"] == VILLAGE_B1
    assert {m["region_code"] for m in moved["members"]} == {VILLAGE_B1}
    key = uuid.UUID(household_id)
    async with db.sessionmaker() as session:
        for model in (Member, Income, Indicator):
            regions = set(
                (await session.scalars(select(model.region_code).where(model.household_id == key))).all()
            )
            assert regions == {VILLAGE_B1}, model
    old_clerk = await account_factory(VILLAGE_A1, "village_clerk")
    new_clerk = await account_factory(VILLAGE_B1, "village_clerk")
    assert_problem(await client.get(f"{HOUSEHOLDS}/{household_id}", headers=old_clerk.headers), 404)
    assert (await client.get(f"{HOUSEHOLDS}/{household_id}/incomes", headers=new_clerk.headers)).json()[0][
        "region_code"
    ] == VILLAGE_B1


async def test_a_household_cannot_move_to_a_village_of_another_county_even_in_scope(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    province = await account_factory(PROVINCE, "county_officer")
    created = await apply(client, province, application(VILLAGE_A1))
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}",
            headers=with_etag(province, "*"),
            json={"region_code": OTHER_VILLAGE},
        ),
        422,
        "household.move_outside_county",
    )
    assert ("body", "region_code") in error_locs(problem)
    async with db.sessionmaker() as session:
        stored = await session.get(Household, uuid.UUID(created["id"]))
        assert stored is not None
        assert (stored.region_code, stored.version) == (VILLAGE_A1, created["version"])
        regions = set(
            (
                await session.scalars(
                    select(Member.region_code).where(Member.household_id == uuid.UUID(created["id"]))
                )
            ).all()
        )
    assert regions == {VILLAGE_A1}


async def test_a_household_cannot_move_to_a_township(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(county, "*"), json={"region_code": TOWNSHIP_A}
        ),
        422,
        "household.move_outside_county",
    )


async def test_a_household_cannot_move_out_of_the_callers_scope(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}",
            headers=with_etag(county, "*"),
            json={"region_code": OTHER_VILLAGE},
        ),
        404,
    )
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(clerk, "*"), json={"region_code": VILLAGE_A2}
        ),
        404,
    )
    after, _ = await read(client, county, created["id"])
    assert after["region_code"] == VILLAGE_A1


async def test_scope_and_role_are_checked_before_if_match(client: httpx.AsyncClient, account_factory) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    neighbour = await account_factory(VILLAGE_A2, "village_clerk")
    url = f"{HOUSEHOLDS}/{created['id']}"
    assert_problem(await client.patch(url, headers=neighbour.headers, json={"address": "x"}), 404)
    assert_problem(await client.post(f"{url}/members", headers=neighbour.headers, json=member()), 404)
    reader = await account_factory(COUNTY, "finance_officer")
    assert_problem(await client.patch(url, headers=reader.headers, json={"address": "x"}), 403)


@pytest.mark.parametrize("role", ["data_consumer", "finance_officer", "inspector"])
async def test_read_only_roles_cannot_change_a_household(
    client: httpx.AsyncClient, account_factory, role: str
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    reader = await account_factory(COUNTY, role)
    assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(reader, "*"), json={"address": "x"}
        ),
        403,
    )


async def test_changing_a_members_id_number_to_a_person_active_elsewhere_is_refused_naming_it(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = id_number()
    first = await apply(client, county, application(VILLAGE_A1, members=[member(number=number)]))
    second = await apply(client, county, application(VILLAGE_A2))
    spouse = second["members"][1]
    problem = assert_problem(
        await client.patch(
            f"{HOUSEHOLDS}/{second['id']}/members/{spouse['id']}",
            headers=with_etag(county, "*"),
            json={"id_number": number},
        ),
        409,
        "member.already_registered",
    )
    assert first["household_number"] in problem["detail"]
    clerk = await account_factory(VILLAGE_A2, "village_clerk")
    response = await client.patch(
        f"{HOUSEHOLDS}/{second['id']}/members/{spouse['id']}",
        headers=with_etag(clerk, "*"),
        json={"id_number": number},
    )
    assert_problem(response, 409, "member.already_registered")
    assert first["household_number"] not in response.text


async def test_adding_a_person_already_in_the_same_household_is_a_conflict(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    number = id_number()
    created = await apply(client, county, application(VILLAGE_A1, members=[member(number=number)]))
    assert_problem(
        await client.post(
            f"{HOUSEHOLDS}/{created['id']}/members",
            headers=with_etag(county, "*"),
            json=member("重复", "sibling", number=number),
        ),
        409,
        "member.already_registered",
    )
    household, _ = await read(client, county, created["id"])
    assert len(household["members"]) == 1


# Races ---------------------------------------------------------------------------------------------


async def test_concurrent_changes_with_the_same_if_match_let_exactly_one_win(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    _, etag = await read(client, county, created["id"])
    responses = await asyncio.gather(
        *(
            client.patch(
                f"{HOUSEHOLDS}/{created['id']}", headers=with_etag(county, etag), json={"address": f"{i}号"}
            )
            for i in range(5)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 412, 412, 412, 412], [r.text for r in responses]
    for response in responses:
        if response.status_code == 412:
            assert_problem(response, 412, "household.version_mismatch")
    winner = next(r.json() for r in responses if r.status_code == 200)
    after, _ = await read(client, county, created["id"])
    assert (after["address"], after["version"]) == (winner["address"], created["version"] + 1)


async def test_concurrent_member_additions_with_the_same_if_match_add_exactly_one(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    _, etag = await read(client, county, created["id"])
    responses = await asyncio.gather(
        *(
            client.post(
                f"{HOUSEHOLDS}/{created['id']}/members",
                headers=with_etag(county, etag),
                json=member(f"孩子{i}", "child", birth=date(2010, 1, 1 + i)),
            )
            for i in range(4)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 412, 412, 412], [r.text for r in responses]
    after, _ = await read(client, county, created["id"])
    assert len(after["members"]) == 3


async def test_concurrent_income_records_never_fail_with_a_server_error(
    client: httpx.AsyncClient, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    created = await apply(client, county, application(VILLAGE_A1))
    body = {
        "wage_income": "1000",
        "business_income": "0",
        "property_income": "0",
        "transfer_income": "0",
        "production_costs": "0",
    }
    responses = await asyncio.gather(
        *(
            client.put(f"{HOUSEHOLDS}/{created['id']}/incomes/{year}", headers=county.headers, json=body)
            for year in range(2016, 2021)
        )
    )
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    assert 200 in statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "household.changed_concurrently")
    stored = (await client.get(f"{HOUSEHOLDS}/{created['id']}/incomes", headers=county.headers)).json()
    assert sorted(row["year"] for row in stored) == sorted(
        year for year, status in zip(range(2016, 2021), statuses, strict=True) if status == 200
    )
