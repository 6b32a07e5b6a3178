"""The household book (一户一册): one printable HTML document, masked by role, escaped, audited when
unmasked."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import Assignment, AuditEntry, Member
from app.db.session import Database
from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_A2, assert_problem
from tests.factories import add_income, make_household, verify_indicators
from tests.plans.support import CADRE_PHONE, make_cadre, make_measure, make_plan, make_visit

pytestmark = pytest.mark.usefixtures("tree")

PHONE = "13800001234"
ACCOUNT = "6228480012345678"


@pytest.fixture
async def family(db: Database) -> dict[str, Any]:
    household = await make_household(
        db,
        VILLAGE_A1,
        members=3,
        phone=PHONE,
        bank_account=ACCOUNT,
        address="<b>王家庄</b>一组",
        housing_safety_grade="C",
    )
    await add_income(db, household, 2019, "3600.00")
    await verify_indicators(db, household, failing=("housing",))
    cadre = await make_cadre(db, COUNTY, name="赵帮扶", rank="section", unit_name="县交通运输局")
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Assignment(
                kind="pairing",
                region_code=VILLAGE_A1,
                cadre_id=cadre.id,
                household_id=household.id,
                starts_on=date(2019, 3, 1),
                assigned_by="user:test",
            )
        )
        numbers = list(
            (await session.scalars(select(Member.id_number).where(Member.household_id == household.id))).all()
        )
    plan = await make_plan(db, household, 2020, goal_income=4500, planned_exit_year=2020)
    await make_measure(
        db,
        plan,
        "house_renovation",
        "in_progress",
        responsible_cadre_id=cadre.id,
        description="危房改造 <script>alert(1)</script>",
    )
    await make_visit(db, household, cadre, date(2020, 5, 6), content="了解住房改造进度 & 务工")
    return {"household": household, "cadre": cadre, "numbers": numbers}


async def test_the_book_is_a_printable_chinese_html_document(
    client: httpx.AsyncClient, db: Database, account_factory, family: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.get(f"/api/v1/households/{family['household'].id}/book", headers=clerk.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in html
    assert "@media print" in html
    for text in (
        "一户一册",
        "家庭基本情况",
        "家庭成员",
        "王建国",
        "3,600.00",
        "住房安全有保障",
        "结对帮扶责任人",
        "赵帮扶",
        "县交通运输局",
        "2020 年度帮扶计划",
        "危房改造",
        "实施中",
        "4,500.00",
        "走访",
        "了解住房改造进度 &amp; 务工",
        "王家庄村",
        "秦安县",
    ):
        assert text in html, text
    # Everything typed by people is escaped.
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;王家庄&lt;/b&gt;" in html


async def test_the_book_is_masked_without_the_personal_data_grant_and_not_audited(
    client: httpx.AsyncClient, db: Database, account_factory, family: dict[str, Any]
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    html = (await client.get(f"/api/v1/households/{family['household'].id}/book", headers=clerk.headers)).text
    for secret in (PHONE, ACCOUNT, CADRE_PHONE, *family["numbers"]):
        assert secret not in html
    assert "138****1234" in html
    assert "************5678" in html
    assert "139****8765" in html
    assert family["numbers"][0][:6] + "********" + family["numbers"][0][-4:] in html
    assert "个人信息已脱敏" in html
    async with db.sessionmaker() as session:
        assert (await session.scalar(select(AuditEntry.id))) is None


@pytest.mark.parametrize(("roles", "grant"), [(("inspector",), False), (("township_reviewer",), True)])
async def test_an_unmasked_book_is_audited(
    client: httpx.AsyncClient,
    db: Database,
    account_factory,
    family: dict[str, Any],
    roles: tuple[str, ...],
    grant: bool,
) -> None:
    region = COUNTY if "inspector" in roles else "620522100000"
    reader = await account_factory(region, *roles, has_personal_data_grant=grant)
    html = (
        await client.get(f"/api/v1/households/{family['household'].id}/book", headers=reader.headers)
    ).text
    for secret in (PHONE, ACCOUNT, CADRE_PHONE, *family["numbers"]):
        assert secret in html
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    book = [row for row in rows if row.record_type == "household_book"]
    assert len(book) == 1
    assert book[0].action == "read_personal_data"
    assert book[0].record_id == str(family["household"].id)
    assert set(book[0].fields) == {"household.phone", "household.bank_account", "member.id_number"}
    assert any(row.fields == ["cadre.phone"] for row in rows)


async def test_the_book_of_a_household_out_of_scope_is_not_found(
    client: httpx.AsyncClient, db: Database, account_factory, family: dict[str, Any]
) -> None:
    other = await account_factory(VILLAGE_A2, "village_clerk")
    assert_problem(
        await client.get(f"/api/v1/households/{family['household'].id}/book", headers=other.headers), 404
    )
    admin = await account_factory(COUNTY, "admin")
    assert_problem(
        await client.get(f"/api/v1/households/{family['household'].id}/book", headers=admin.headers), 403
    )


async def test_a_new_household_has_a_book_with_empty_sections(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    household = await make_household(db, VILLAGE_A1, status="applicant", members=1)
    consumer = await account_factory(COUNTY, "data_consumer")
    response = await client.get(f"/api/v1/households/{household.id}/book", headers=consumer.headers)
    assert response.status_code == 200
    for text in ("尚无收入记录", "尚未核验", "尚无帮扶责任人", "尚无帮扶计划", "尚无走访记录"):
        assert text in response.text
