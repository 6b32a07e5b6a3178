"""Public fund notices (资金公告公示): batch and project notices in JSON, CSV and HTML, never any personal
data; publication records (board days) and the report of allocations not published in time."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.db.models import Member, NoticePublication
from app.db.session import Database
from app.domain import clock
from app.domain.funds.notices import add_working_days
from app.settings import Settings
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, assert_problem
from tests.funds.test_projects_helpers import build_ledger

pytestmark = pytest.mark.usefixtures("tree")

BATCH = "/api/v1/fund-notices/batch"
PUBLICATIONS = "/api/v1/fund-notices/publications"


def overdue_url(code: str) -> str:
    return f"/api/v1/regions/{code}/fund-notices/overdue"


async def test_a_batch_notice_lists_allocations_with_sources_principle_and_telephone(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    county = await account_factory(COUNTY, "county_officer")
    response = await client.get(
        BATCH, headers=county.headers, params={"document_number": "秦财农〔2020〕5号"}
    )
    assert response.status_code == 200, response.text
    notice = response.json()
    # The allocation to township B was reversed: it is not on the notice.
    assert [(item["name"], item["amount"]) for item in notice["items"]] == [("兴国镇", "900.00")]
    item = notice["items"][0]
    assert item["place"] == "秦安县兴国镇"
    assert item["responsible_unit"] == "兴国镇人民政府"
    assert item["sources"] == {"central": "900.00"}
    assert notice["sources"] == {"central": "900.00"}
    assert notice["principle"] == "测试 to_a"
    assert notice["complaint_telephone"] == "12317"
    assert notice["issuer"] == "秦安县"
    assert notice["issued_on"] == date.today().isoformat()

    project_batch = (
        await client.get(BATCH, headers=county.headers, params={"document_number": "秦财农〔2020〕9号"})
    ).json()
    assert project_batch["items"] == [
        {
            "name": "王家庄村光伏电站",
            "place": "秦安县兴国镇王家庄村",
            "content": "100 千瓦村级光伏电站",
            "amount": "400.00",
            "responsible_unit": "县扶贫开发办公室",
            "sources": {"central": "400.00"},
        }
    ]


async def test_the_complaint_telephone_is_a_region_setting(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    county = await account_factory(COUNTY, "county_officer")
    put = await client.put(
        f"/api/v1/regions/{COUNTY}/settings/complaint_telephone",
        headers=county.headers,
        json={"value": "0938-6521234"},
    )
    assert put.status_code == 200, put.text
    bad = await client.put(
        f"/api/v1/regions/{COUNTY}/settings/complaint_telephone",
        headers=county.headers,
        json={"value": "call us"},
    )
    assert_problem(bad, 422)
    notice = (
        await client.get(BATCH, headers=county.headers, params={"document_number": "秦财农〔2020〕5号"})
    ).json()
    assert notice["complaint_telephone"] == "0938-6521234"


async def test_notices_never_show_personal_data(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    scenario = await build_ledger(db, settings)
    inspector = await account_factory(COUNTY, "inspector")  # even someone allowed to read personal data
    async with db.sessionmaker() as s:
        members = (
            await s.scalars(
                select(Member).where(Member.household_id.in_([h.id for h in scenario.households]))
            )
        ).all()
    secrets = {m.name for m in members} | {m.id_number for m in members} | {m.id_number[-4:] for m in members}
    for household in scenario.households:
        secrets |= {household.head_name, household.household_number, str(household.id), household.phone or ""}
        secrets |= {household.bank_account or ""}
    secrets.discard("")
    for document in ("秦财农〔2020〕1号", "秦财农〔2020〕5号", "秦财农〔2020〕9号"):
        for fmt in ("json", "csv", "html"):
            response = await client.get(
                BATCH, headers=inspector.headers, params={"document_number": document, "format": fmt}
            )
            assert response.status_code == 200, response.text
            leaked = [secret for secret in secrets if secret in response.text]
            assert not leaked, (document, fmt, leaked)
    for fmt in ("json", "csv", "html"):
        response = await client.get(
            f"/api/v1/projects/{scenario.project.id}/notice",
            headers=inspector.headers,
            params={"format": fmt},
        )
        assert response.status_code == 200, response.text
        assert not [secret for secret in secrets if secret in response.text], fmt
    # Payments to households under the document show as a count and a total.
    notice = (
        await client.get(BATCH, headers=inspector.headers, params={"document_number": "秦财农〔2020〕1号"})
    ).json()
    assert notice["households_paid"] == 2
    assert notice["households_paid_amount"] == "300.00"
    assert {item["name"] for item in notice["items"]} == {"秦安县", "王家庄村", "李家湾村"}
    assert (
        notice["total"] == "2500.00"
    )  # 1000 + 500 appropriated, 600 + 100 allocated, 300 paid to households
    assert notice["sources"]["provincial"] == "500.00"


async def test_csv_and_html_are_chinese_and_printable(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    county = await account_factory(COUNTY, "finance_officer")
    csv_response = await client.get(
        BATCH, headers=county.headers, params={"document_number": "秦财农〔2020〕9号", "format": "csv"}
    )
    assert csv_response.headers["content-type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == "文号,序号,项目名称,建设地点,建设内容,金额（元）,责任单位,中央（元）,监督举报电话"
    assert lines[1].split(",") == [
        "秦财农〔2020〕9号",
        "1",
        "王家庄村光伏电站",
        "秦安县兴国镇王家庄村",
        "100 千瓦村级光伏电站",
        "400.00",
        "县扶贫开发办公室",
        "400.00",
        "12317",
    ]
    page = await client.get(
        BATCH, headers=county.headers, params={"document_number": "秦财农〔2020〕9号", "format": "html"}
    )
    assert page.headers["content-type"].startswith("text/html")
    assert "扶贫资金分配公告" in page.text
    assert "监督举报电话：12317" in page.text
    assert "@page" in page.text
    assert_problem(
        await client.get(
            BATCH, headers=county.headers, params={"document_number": "秦财农〔2020〕9号", "format": "pdf"}
        ),
        422,
    )


async def test_notices_are_scoped(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    scenario = await build_ledger(db, settings)
    other = await account_factory(TOWNSHIP_B, "township_reviewer")
    assert_problem(
        await client.get(BATCH, headers=other.headers, params={"document_number": "秦财农〔2020〕9号"}), 404
    )
    assert_problem(
        await client.get(f"/api/v1/projects/{scenario.project.id}/notice", headers=other.headers), 404
    )
    assert_problem(await client.get(BATCH, headers=other.headers, params={"document_number": "no such"}), 404)
    admin = await account_factory(COUNTY, "admin")
    assert_problem(
        await client.get(BATCH, headers=admin.headers, params={"document_number": "秦财农〔2020〕9号"}), 403
    )
    # A township sees the part of a batch that reaches it.
    township = await account_factory(TOWNSHIP_A, "township_reviewer")
    notice = (
        await client.get(BATCH, headers=township.headers, params={"document_number": "秦财农〔2020〕1号"})
    ).json()
    assert "秦安县" not in {item["name"] for item in notice["items"]}


async def test_a_publication_is_recorded_and_the_board_stays_up_ten_days(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    township = await account_factory(TOWNSHIP_A, "county_officer")
    today = date.today()
    body = {
        "subject": "batch",
        "document_number": "秦财农〔2020〕5号",
        "region_code": TOWNSHIP_A,
        "published_on": today.isoformat(),
        "board_location": "兴国镇政府公示栏",
    }
    short = await client.post(
        PUBLICATIONS,
        headers=township.headers,
        json={**body, "taken_down_on": (today + timedelta(days=9)).isoformat()},
    )
    assert_problem(short, 422, "notice.board_days")
    future = await client.post(
        PUBLICATIONS,
        headers=township.headers,
        json={**body, "published_on": (today + timedelta(days=1)).isoformat()},
    )
    assert_problem(future, 422, "notice.future_date")
    early = await client.post(
        PUBLICATIONS,
        headers=township.headers,
        json={**body, "published_on": (today - timedelta(days=1)).isoformat()},
    )
    assert_problem(early, 422, "notice.published_before_issued")
    clerk = await account_factory(TOWNSHIP_A, "township_reviewer")
    assert_problem(await client.post(PUBLICATIONS, headers=clerk.headers, json=body), 403)
    assert_problem(
        await client.post(PUBLICATIONS, headers=township.headers, json={**body, "region_code": TOWNSHIP_B}),
        404,
    )
    assert_problem(
        await client.post(PUBLICATIONS, headers=township.headers, json={**body, "document_number": None}), 422
    )
    created = await client.post(PUBLICATIONS, headers=township.headers, json=body)
    assert created.status_code == 201, created.text
    publication = created.json()
    assert publication["taken_down_on"] is None
    url = f"{PUBLICATIONS}/{publication['id']}"
    assert_problem(
        await client.patch(url, headers=township.headers, json={"taken_down_on": today.isoformat()}),
        422,
        "notice.board_days",
    )
    listed = (await client.get(PUBLICATIONS, headers=clerk.headers)).json()["items"]
    assert [p["id"] for p in listed] == [publication["id"]]
    other = await account_factory(TOWNSHIP_B, "county_officer")
    assert_problem(await client.get(url, headers=other.headers), 404)
    # Taken down in time: backdate the publication (as if put up 12 days ago) and record the take-down.
    async with db.sessionmaker() as s, s.begin():
        await s.execute(
            update(NoticePublication)
            .where(NoticePublication.id == uuid.UUID(publication["id"]))
            .values(published_on=today - timedelta(days=12))  # scope: test
        )
    done = await client.patch(url, headers=township.headers, json={"taken_down_on": today.isoformat()})
    assert done.status_code == 200, done.text


async def test_allocations_not_published_within_15_working_days_are_reported(
    client: httpx.AsyncClient,
    account_factory,
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await build_ledger(db, settings)
    county = await account_factory(COUNTY, "county_officer")
    today = date.today()
    assert (await client.get(overdue_url(COUNTY), headers=county.headers)).json() == []
    later = (today + timedelta(days=30)).isoformat()
    overdue = (await client.get(overdue_url(COUNTY), headers=county.headers, params={"as_of": later})).json()
    assert {row["document_number"] for row in overdue} == {
        "秦财农〔2020〕1号",
        "秦财农〔2020〕5号",
        "秦财农〔2020〕9号",
    }
    five = next(row for row in overdue if row["document_number"] == "秦财农〔2020〕5号")
    assert five["amount"] == "900.00"
    assert five["transfers"] == 1  # the reversed allocation does not count
    assert five["deadline"] == add_working_days(today, 15).isoformat()
    assert five["published_on"] is None
    published = await client.post(
        PUBLICATIONS,
        headers=county.headers,
        json={
            "subject": "batch",
            "document_number": "秦财农〔2020〕5号",
            "region_code": TOWNSHIP_A,
            "published_on": today.isoformat(),
            "board_location": "兴国镇政府公示栏",
        },
    )
    assert published.status_code == 201, published.text
    overdue = (await client.get(overdue_url(COUNTY), headers=county.headers, params={"as_of": later})).json()
    assert {row["document_number"] for row in overdue} == {"秦财农〔2020〕1号", "秦财农〔2020〕9号"}
    # Published late: the notice of 9号 goes up 40 days after the allocation was issued.
    monkeypatch.setattr(clock, "today", lambda: today + timedelta(days=40))
    published_late = await client.post(
        PUBLICATIONS,
        headers=county.headers,
        json={
            "subject": "batch",
            "document_number": "秦财农〔2020〕9号",
            "region_code": VILLAGE_A1,
            "published_on": (today + timedelta(days=40)).isoformat(),
            "board_location": "王家庄村村委会公示栏",
        },
    )
    assert published_late.status_code == 201, published_late.text
    late = (await client.get(overdue_url(COUNTY), headers=county.headers)).json()
    row = next(row for row in late if row["document_number"] == "秦财农〔2020〕9号")
    assert row["published_on"] == (today + timedelta(days=40)).isoformat()
    assert "秦财农〔2020〕5号" not in {row["document_number"] for row in late}
    township = await account_factory(TOWNSHIP_B, "township_reviewer")
    assert (
        await client.get(overdue_url(TOWNSHIP_B), headers=township.headers, params={"as_of": later})
    ).json() == []
    assert_problem(await client.get(overdue_url(TOWNSHIP_A), headers=township.headers), 404)


def test_working_days_skip_weekends() -> None:
    friday = date(2020, 5, 1)
    assert add_working_days(friday, 1) == date(2020, 5, 4)
    assert add_working_days(friday, 15) == date(2020, 5, 22)
    assert add_working_days(date(2020, 5, 6), 15) == date(2020, 5, 27)
    assert add_working_days(date(2020, 5, 2), 1) == date(2020, 5, 4)  # from a Saturday
