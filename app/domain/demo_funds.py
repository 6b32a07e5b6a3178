"""Demo funds of 秦安县 for 2020, through the ledger's API: the 47 million yuan of the year appropriated from
the central, provincial, city and county budgets (above the approval threshold, so each is approved by a
second finance officer), allocated to the townships, on to villages and projects, paid to a contractor and
to a household and partly recovered (收回), one allocation reversed, photovoltaic income (enterprise
repayments, seed 004) shared out to beneficiary households, projects in every status, and a published
notice. Deterministic, and loaded once (skipped when projects exist).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FundTransfer, Household, Project, User
from app.domain import clock
from app.domain.funds import ledger, notices
from app.domain.principal import Principal
from app.domain.projects import beneficiaries, service, sharing
from app.domain.scope import restrict, scoped
from app.domain.system import system_principal

COUNTY = "620522000000"
YEAR = 2020
YUAN = 100
TOWNSHIPS = [f"620522{100 + n}000" for n in range(17)]
HOME_TOWNSHIP, HOME_VILLAGE, SECOND_VILLAGE = "620522100000", "620522100201", "620522100202"
APPROPRIATIONS = {  # 47 million yuan a year (seed 000)
    "central": 30_000_000,
    "provincial": 12_000_000,
    "prefecture": 3_000_000,
    "county": 2_000_000,
}
CONTRACTOR_CODE = "91620522MA74XK2Q1B"


async def _demo_principal(session: AsyncSession, username: str, roles: list[str]) -> Principal:
    """The demo user of that name (their id and roles), or a stand-in if the demo users were not loaded."""
    user = await session.scalar(scoped(User, system_principal()).where(User.username == username))
    if user is None:
        return Principal.build(
            kind="user",
            id=uuid.uuid5(uuid.NAMESPACE_URL, username),
            name=username,
            region_code=COUNTY,
            roles=roles,
        )
    return Principal.build(
        kind="user", id=user.id, name=user.username, region_code=user.region_code, roles=user.roles
    )


async def load_demo_funds(session: AsyncSession) -> None:
    officer = await _demo_principal(session, "county", ["county_officer"])
    if await session.scalar(restrict(select(func.count()).select_from(Project), Project, officer)):
        return
    # Two finance officers: one makes the transfers, the other approves those above the threshold.
    maker = await _demo_principal(session, "finance", ["finance_officer"])
    checker = await _demo_principal(session, "admin", ["finance_officer"])

    async def move(
        kind: str, debit: uuid.UUID, credit: uuid.UUID, yuan: int, doc: str, purpose: str, **kw: str
    ) -> uuid.UUID:
        transfer = await ledger.transfer(
            session,
            maker,
            ledger.TransferRequest(
                kind=kind,
                debit_account_id=debit,
                credit_account_id=credit,
                amount_fen=yuan * YUAN,
                fiscal_year=YEAR,
                document_number=doc,
                purpose=purpose,
                category=kw.get("category", "general"),
                source=kw.get("source"),
            ),
        )
        transfer_id, status = transfer.id, transfer.status
        if status == "pending":  # above the threshold: a second person approves
            await ledger.approve(session, checker, transfer_id, "复核无误")
        return transfer_id

    county_pool = (await ledger.account_for_region(session, maker, COUNTY)).id
    for number, (source, yuan) in enumerate(APPROPRIATIONS.items(), start=1):
        source_account = (await ledger.source_account(session, maker, COUNTY, source)).id
        await move(
            "appropriation",
            source_account,
            county_pool,
            yuan,
            f"甘财农〔{YEAR}〕{number}号",
            f"{YEAR}年财政专项扶贫资金",
        )
    repayments = (await ledger.source_account(session, maker, COUNTY, "enterprise_repayment")).id
    await move(
        "appropriation",
        repayments,
        county_pool,
        1_440_000,
        f"秦扶发〔{YEAR}〕8号",
        "企业还款（2 家企业各 72 万元）",
    )

    # Down the chain: every township, then the villages of the first one.
    for township in TOWNSHIPS:
        pool = (await ledger.account_for_region(session, maker, township)).id
        await move(
            "allocation",
            county_pool,
            pool,
            1_800_000,
            f"秦财农〔{YEAR}〕21号",
            "按贫困人口和贫困村数量因素法分配",
        )
    home_pool = (await ledger.account_for_region(session, maker, HOME_TOWNSHIP)).id
    village_pool = (await ledger.account_for_region(session, maker, HOME_VILLAGE)).id
    second_pool = (await ledger.account_for_region(session, maker, SECOND_VILLAGE)).id
    await move(
        "allocation", home_pool, village_pool, 600_000, f"兴政发〔{YEAR}〕5号", "村级产业发展和基础设施"
    )
    mistake = await move(
        "allocation", home_pool, second_pool, 50_000, f"兴政发〔{YEAR}〕5号", "村级产业发展（误拨）"
    )
    await ledger.reverse(session, maker, mistake, document_number=f"兴政发〔{YEAR}〕6号", purpose="误拨更正")

    # Projects in every status, in the home village.
    today = clock.today()
    made: dict[str, uuid.UUID] = {}
    for status, name, category, budget in (
        ("planned", "王家庄村文化广场", "village_renovation", 150_000),
        ("approved", "王家庄村产业路硬化 2 公里", "infrastructure", 400_000),
        ("under_construction", "王家庄村自来水入户工程", "infrastructure", 300_000),
        ("completed", "王家庄村 100 千瓦光伏电站", "photovoltaic", 800_000),
        ("accepted", "王家庄村肉牛养殖合作社圈舍", "industry", 200_000),
    ):
        project = await service.create_project(
            session,
            officer,
            {
                "region_code": HOME_VILLAGE,
                "name": name,
                "category": category,
                "construction_type": "new",
                "content": name,
                "location": "一组",
                "fiscal_year": YEAR,
                "planned_start": today - timedelta(days=200),
                "planned_end": today - timedelta(days=20),
                "responsible_unit_id": None,
                "responsible_unit_name": "兴国镇人民政府",
                "budget_fen": budget * YUAN,
                "financing": [{"source": "central", "amount_fen": budget * YUAN}],
                "performance_targets": [
                    {"kind": "output", "indicator": "完成建设内容", "target": name},
                    {"kind": "benefit", "indicator": "带动贫困户增收", "target": "户均 1000 元/年"},
                    {"kind": "satisfaction", "indicator": "受益群众满意度", "target": "≥90%"},
                ],
                "benefit_mechanism": "资产收益归村集体, 收益的 60% 分红到建档立卡户",
                "income_sharing_basis": "equal" if category in ("photovoltaic", "industry") else None,
                "expected_annual_income_fen": 90_000 * YUAN if category == "photovoltaic" else None,
            },
        )
        project_id = project.id
        steps = {
            "planned": [],
            "approved": ["approved"],
            "under_construction": ["approved", "under_construction"],
        }
        steps["completed"] = [*steps["under_construction"], "completed"]
        steps["accepted"] = [*steps["completed"], "accepted"]
        for n, step in enumerate(steps[status]):
            await service.advance_project(
                session,
                officer,
                project_id,
                to=step,
                on=today - timedelta(days=150 - 40 * n),
                approval_document=f"秦扶办〔{YEAR}〕{10 + len(made)}号" if step == "approved" else None,
                if_match=None,
            )
        made[status] = project_id

    households = list(
        (
            await session.scalars(
                scoped(Household, officer)
                .where(Household.region_code == HOME_VILLAGE, Household.status == "registered")
                .order_by(Household.household_number)
                .limit(6)
            )
        ).all()
    )
    household_ids = [household.id for household in households]
    # Money to the projects in the library, a contractor paid for the road.
    for status in ("approved", "under_construction", "completed", "accepted"):
        account = (await ledger.account_for_project(session, maker, made[status])).id
        await move(
            "allocation",
            village_pool,
            account,
            100_000,
            f"兴政发〔{YEAR}〕9号",
            "项目资金",
            category="general",
        )
    road = (await ledger.account_for_project(session, maker, made["approved"])).id
    contractor = (
        await ledger.account_for_contractor(
            session, maker, HOME_TOWNSHIP, "秦安县路桥工程有限公司", CONTRACTOR_CODE
        )
    ).id
    await move(
        "disbursement",
        road,
        contractor,
        60_000,
        f"兴政发〔{YEAR}〕11号",
        "产业路工程进度款",
        category="infrastructure",
    )

    # A household's payment (产业奖补), part of it recovered: paid twice for the same calf.
    if household_ids:
        payee = (await ledger.account_for_household(session, maker, household_ids[0])).id
        await move(
            "disbursement",
            village_pool,
            payee,
            5_000,
            f"兴政发〔{YEAR}〕12号",
            "肉牛养殖产业奖补",
            category="industry",
        )
        await move(
            "recovery",
            payee,
            village_pool,
            2_000,
            f"兴政发〔{YEAR}〕13号",
            "重复发放收回",
            category="industry",
        )

    # Photovoltaic income: enterprise repayments to the plant, shared out to its beneficiaries.
    plant = made["completed"]
    plant_account = (await ledger.account_for_project(session, maker, plant)).id
    await move(
        "allocation",
        county_pool,
        plant_account,
        36_000,
        f"秦扶发〔{YEAR}〕15号",
        "光伏电站收益",
        category="photovoltaic",
        source="enterprise_repayment",
    )
    if household_ids:
        await beneficiaries.add_beneficiaries(
            session,
            officer,
            plant,
            [{"household_id": household_id, "share_weight": 1} for household_id in household_ids],
        )
        await sharing.share_income(
            session,
            maker,
            plant,
            amount_fen=30_000 * YUAN,
            fiscal_year=YEAR,
            document_number=f"兴政发〔{YEAR}〕20号",
            purpose=None,
            idempotency_key=f"demo-share-{YEAR}",
        )

    # The township's allocation was put up on its notice board; the others wait (see the overdue report).
    issued = await session.scalar(
        restrict(
            select(func.min(FundTransfer.decided_at)).where(
                FundTransfer.document_number == f"兴政发〔{YEAR}〕5号"
            ),
            FundTransfer,
            maker,
        )
    )
    if issued is not None:
        await notices.record_publication(
            session,
            officer,
            {
                "subject": "batch",
                "document_number": f"兴政发〔{YEAR}〕5号",
                "project_id": None,
                "region_code": HOME_TOWNSHIP,
                "published_on": today,
                "board_location": "兴国镇人民政府公示栏",
                "taken_down_on": None,
            },
        )
