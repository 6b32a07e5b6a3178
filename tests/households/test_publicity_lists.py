"""Public notice lists (公示名单): who is under publicity in a village or township, as JSON or a CSV for
the notice board, never with ID numbers, phones, bank accounts or health."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import Member
from app.db.session import Database
from tests.conftest import (
    COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    assert_problem,
)
from tests.households.lifecycle_support import Actors, Clock, step
from tests.households.registry_helpers import application, apply, member

pytestmark = pytest.mark.usefixtures("time_machine")

LISTS = "/api/v1/publicity-lists"
PHONE = "13912345678"
ACCOUNT = "6230 5200 1234 5678"


async def _in_village_publicity(client: httpx.AsyncClient, actors: Actors, region: str, **fields: Any) -> str:
    """An application in ``region`` whose village publicity starts today."""
    people = [
        member("赵大山", "head", health="serious"),
        member("钱桂兰", "spouse", male=False, health="disabled"),
        member("赵小龙", "child", birth=date(2010, 1, 1)),
    ]
    body = application(region, members=people, phone=PHONE, bank_account=ACCOUNT, group_name="三组", **fields)
    created = await apply(client, actors.township, body)
    await step(client, actors.township, created["id"], "village_review")
    await step(client, actors.township, created["id"], "start_village_publicity")
    return str(created["id"])


async def _notice(client: httpx.AsyncClient, actors: Actors, **params: str) -> httpx.Response:
    return await client.get(LISTS, params=params, headers=actors.township.headers)


@pytest.fixture
async def county_actors(account_factory, tree) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "county": await account_factory(COUNTY, "county_officer"),
        "township_b": await account_factory(TOWNSHIP_B, "township_reviewer"),
    }


async def test_the_notice_lists_households_under_publicity_with_labels_and_dates(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    first = await _in_village_publicity(
        client, actors, VILLAGE_A1, attribute="dibao", primary_cause="disability"
    )
    time_machine.travel(7)
    await step(client, actors.township, first, "township_review")
    await step(client, actors.township, first, "start_township_publicity")  # 8 to 14 March
    await _in_village_publicity(client, actors, VILLAGE_A2)  # 8 to 14 March

    response = await _notice(client, actors, region=TOWNSHIP_A)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["village_name"], i["level"], i["starts_on"], i["ends_on"]) for i in items] == [
        ("王家庄村", "township", "2021-03-08", "2021-03-14"),
        ("李家湾村", "village", "2021-03-08", "2021-03-14"),
    ]
    assert set(items[0]) == {
        "household_number",
        "head_name",
        "village_code",
        "village_name",
        "group_name",
        "member_count",
        "attribute",
        "primary_cause",
        "procedure",
        "procedure_label",
        "level",
        "level_label",
        "starts_on",
        "ends_on",
    }
    assert (items[0]["head_name"], items[0]["group_name"], items[0]["member_count"]) == ("赵大山", "三组", 3)
    assert (items[0]["attribute"], items[0]["primary_cause"]) == ("低保贫困户", "因残")
    assert (items[0]["procedure"], items[0]["procedure_label"], items[0]["level_label"]) == (
        "identification",
        "贫困户识别",
        "乡镇级",
    )


async def test_the_period_selects_overlapping_publicities(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    await _in_village_publicity(client, actors, VILLAGE_A1)  # 1 to 7 March
    time_machine.travel(30)

    async def count(**params: str) -> int:
        response = await _notice(client, actors, region=VILLAGE_A1, **params)
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert await count() == 0  # today
    assert await count(on="2021-03-07") == 1
    assert await count(on="2021-03-08") == 0
    assert await count(**{"from": "2021-02-20", "to": "2021-03-01"}) == 1
    assert await count(**{"from": "2021-03-08", "to": "2021-03-31"}) == 0
    assert await count(**{"from": "2021-03-05"}) == 1


async def test_the_notice_never_shows_id_numbers_phones_bank_accounts_or_health(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _in_village_publicity(client, actors, VILLAGE_A1)
    async with db.sessionmaker() as session:
        id_numbers = (await session.scalars(select(Member.id_number))).all()
    assert len(id_numbers) == 3

    as_json = await _notice(client, actors, region=TOWNSHIP_A)
    as_csv = await _notice(client, actors, region=TOWNSHIP_A, format="csv")

    assert len(as_json.json()["items"]) == 1
    for text in (as_json.text, as_csv.content.decode("utf-8-sig")):
        assert "赵大山" in text
        for secret in (*id_numbers, PHONE, ACCOUNT, ACCOUNT.replace(" ", ""), household_id):
            assert secret not in text, secret
        for health in ("serious", "disabled", "患有大病", "残疾"):
            assert health not in text


async def test_the_csv_has_chinese_headings_and_a_byte_order_mark_for_excel(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    await _in_village_publicity(client, actors, VILLAGE_A1)

    response = await _notice(client, actors, region=VILLAGE_A1, format="csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "户编号",
        "户主姓名",
        "村",
        "村民小组",
        "家庭人口",
        "贫困户属性",
        "主要致贫原因",
        "公示事项",
        "公示级别",
        "公示开始日期",
        "公示结束日期",
    ]
    assert rows[1][1:] == [
        "赵大山",
        "王家庄村",
        "三组",
        "3",
        "一般贫困户",
        "因病",
        "贫困户识别",
        "村级",
        "2021-03-01",
        "2021-03-07",
    ]


async def test_a_notice_is_for_a_village_or_township_in_scope(
    client: httpx.AsyncClient, actors: Actors, county_actors: dict[str, Any]
) -> None:
    await _in_village_publicity(client, actors, VILLAGE_A1)
    assert_problem(await _notice(client, actors, region=COUNTY), 404)
    whole_county = await client.get(LISTS, params={"region": COUNTY}, headers=county_actors["county"].headers)
    assert_problem(whole_county, 422, "publicity_list.region_level")
    assert_problem(await _notice(client, actors, region=OTHER_VILLAGE), 404)
    assert_problem(await _notice(client, actors, region=VILLAGE_B1), 404)
    other = await client.get(
        LISTS, params={"region": VILLAGE_A1}, headers=county_actors["township_b"].headers
    )
    assert_problem(other, 404)
    county = await client.get(LISTS, params={"region": VILLAGE_A1}, headers=county_actors["county"].headers)
    assert len(county.json()["items"]) == 1
    village = await client.get(LISTS, params={"region": TOWNSHIP_A}, headers=actors.village.headers)
    assert_problem(village, 404)
    assert_problem(await _notice(client, actors), 422)


async def test_a_period_is_a_day_or_a_range_not_both(client: httpx.AsyncClient, actors: Actors) -> None:
    assert_problem(
        await _notice(client, actors, region=VILLAGE_A1, on="2021-03-01", to="2021-03-02"),
        422,
        "publicity_list.period",
    )
    assert_problem(
        await _notice(client, actors, region=VILLAGE_A1, **{"from": "2021-03-02", "to": "2021-03-01"}),
        422,
        "publicity_list.period",
    )
    assert_problem(
        await _notice(client, actors, region=VILLAGE_A1, **{"from": "2020-01-01", "to": "2021-12-31"}),
        422,
        "publicity_list.period",
    )
