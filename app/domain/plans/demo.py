"""Demo plans, measures and visits for 秦安县: a 2019 and a 2020 plan for registered households, a
consolidation plan for exited ones, measures chosen from each family's needs (school children, a dangerous
house, people able to work, illness) in every status, and the visits of their pairing cadres.

Realistic gaps for the five-coverages report: some measures are only planned or were cancelled, some
households have none of a kind. Runs after the responsibility demo data (it names the pairing cadres);
households without a pairing cadre get plans but no visits. Deterministic, and loaded once.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import changes
from app.db.base import utcnow
from app.db.models import Assignment, AssistancePlan, Household, Member, PlanMeasure, Visit
from app.domain.scope import restrict, within_prefix
from app.domain.system import system_principal

SEED = 4_2020
LINES = {2019: 3747, 2020: 4000}
LAST_YEAR = 2020  # the demo registry's last year (incomes run to 2020): its plans are still under way
DESCRIPTIONS = {
    "industry": [
        "发展肉牛养殖, 补助购买基础母牛 2 头",
        "种植花椒 3 亩, 提供种苗和技术指导",
        "发展苹果产业, 入股合作社分红",
    ],
    "employment": ["推荐到县扶贫车间务工", "组织劳务输转到天津务工", "参加电焊技能培训并推荐就业"],
    "education": ["落实义务教育阶段寄宿生生活补助", "申请雨露计划职业教育补助", "办理生源地助学贷款"],
    "health": ["落实慢性病签约服务和门诊报销", "办理大病救助和先诊疗后付费"],
    "social_security": ["纳入农村低保", "落实残疾人两项补贴"],
    "house_renovation": ["实施危房改造, 补助 2.5 万元", "加固改造土木结构住房"],
    "relocation": ["易地扶贫搬迁到县城安置点"],
    "ecology": ["聘用为生态护林员", "安排村级公益性岗位 (保洁员)"],
    "infrastructure": ["入户路硬化", "自来水入户"],
    "village_renovation": ["改厕和庭院整治"],
    "photovoltaic": ["享受村级光伏电站收益分配", "安装户用光伏 5 千瓦"],
    "microcredit": ["发放扶贫小额信贷 5 万元 (三年期免抵押)"],
}
VISIT_NOTES = [
    "入户走访, 宣讲扶贫政策, 了解家庭生产生活情况",
    "核实家庭务工收入, 更新明白卡",
    "协助办理医保报销手续",
    "查看危房改造进度, 督促施工安全",
    "了解子女上学情况, 落实教育资助",
    "帮助联系肉牛销售渠道",
    "慰问, 送去米面油",
]
LOG_NOTES = ["整理帮扶台账, 更新一户一策", "参加乡镇帮扶工作推进会", "撰写月度帮扶工作汇报"]


def _select(*columns: Any) -> Any:
    return select(*columns)


def _money(value: float) -> Decimal:
    return Decimal(round(value)).quantize(Decimal("0.01"))


def _needs(household: Any, student: int, able: int, rng: random.Random) -> list[str]:
    """The categories a family's plan takes up, some of them left out on purpose (gaps to report)."""
    needs = []
    if student and rng.random() < 0.85:
        needs.append("education")
    if household.housing_safety_grade in ("C", "D") and not household.is_relocated and rng.random() < 0.8:
        needs.append("relocation" if rng.random() < 0.15 else "house_renovation")
    if able and rng.random() < 0.75:
        needs.append("employment")
    if rng.random() < 0.6:
        needs.append("photovoltaic")
    if household.primary_cause in ("illness", "disability"):
        needs.append("health")
    if rng.random() < 0.5:
        needs.append("industry")
    if rng.random() < 0.2:
        needs.append(rng.choice(["microcredit", "ecology", "social_security", "infrastructure"]))
    return needs


def _measure(
    rng: random.Random, plan: dict[str, Any], category: str, cadre: uuid.UUID | None, today: date
) -> dict[str, Any]:
    year = plan["year"]
    planned_start = date(year, rng.randint(2, 5), rng.randint(1, 28))
    planned_end = planned_start + timedelta(days=rng.randint(60, 240))
    if year < LAST_YEAR:
        status = rng.choices(["done", "cancelled"], [88, 12])[0]
    else:
        status = rng.choices(["planned", "in_progress", "done", "cancelled"], [25, 35, 35, 5])[0]
    actual_start = actual_end = benefit = None
    if status in ("in_progress", "done"):
        actual_start = min(planned_start + timedelta(days=rng.randint(0, 30)), today)
    if status == "done":
        actual_end = min(
            max(planned_end + timedelta(days=rng.randint(-20, 30)), actual_start or planned_end), today
        )
    expected = _money(rng.choice([500, 800, 1200, 2000, 3000, 5000]))
    if status == "done":
        benefit = _money(float(expected) * rng.uniform(0.6, 1.3))
    return {
        "id": uuid.uuid4(),
        "plan_id": plan["id"],
        "household_id": plan["household_id"],
        "region_code": plan["region_code"],
        "year": year,
        "category": category,
        "description": rng.choice(DESCRIPTIONS[category]),
        "responsible_cadre_id": cadre,
        "planned_start": planned_start,
        "planned_end": planned_end,
        "actual_start": actual_start,
        "actual_end": actual_end,
        "status": status,
        "expected_benefit": expected,
        "actual_benefit": benefit,
        "project_ref": f"QA-{year}-{category[:3].upper()}-{rng.randint(1, 60):03d}"
        if rng.random() < 0.3
        else None,
        "fund_transfer_ref": None,
        "created_by": "user:demo",
        "version": 1,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }


def _visits(rng: random.Random, household: Any, cadre: uuid.UUID, today: date) -> list[dict[str, Any]]:
    rows = []
    days = [date(LAST_YEAR, 1, 1) + timedelta(days=rng.randint(0, 365)) for _ in range(rng.randint(4, 10))]
    days += [today - timedelta(days=rng.randint(0, 90)) for _ in range(rng.randint(0, 3))]
    for day in days:
        work_log = rng.random() < 0.2
        rows.append(
            {
                "id": uuid.uuid4(),
                "cadre_id": cadre,
                "household_id": household.id,
                "region_code": household.region_code,
                "visited_on": day,
                "kind": "work_log" if work_log else "visit",
                "content": rng.choice(LOG_NOTES if work_log else VISIT_NOTES),
                "created_by": "user:demo",
                "created_by_name": "demo",
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    return rows


async def load_demo_plans(session: AsyncSession, county_code: str = "620522000000") -> int:
    """Store the demo plans of the county's registered and exited households, unless plans are there."""
    operator = system_principal()
    county = county_code[:6]
    existing = await session.scalar(
        restrict(select(func.count()).select_from(AssistancePlan), AssistancePlan, operator).where(
            within_prefix(AssistancePlan.region_code, county)
        )
    )
    if existing:
        return 0
    households = (
        await session.execute(
            restrict(
                _select(
                    Household.id,
                    Household.region_code,
                    Household.status,
                    Household.housing_safety_grade,
                    Household.is_relocated,
                    Household.primary_cause,
                    Household.exited_year,
                ).where(
                    within_prefix(Household.region_code, county),
                    Household.status.in_(("registered", "exited")),
                ),
                Household,
                operator,
            ).order_by(Household.region_code, Household.household_number)
        )
    ).all()
    needs = {
        row.household_id: row
        for row in await session.execute(
            restrict(
                _select(
                    Member.household_id,
                    func.max(case((Member.schooling.not_in(("none",)), 1), else_=0)).label("student"),
                    func.max(
                        case((Member.labour_ability.in_(("ordinary", "skilled", "weak")), 1), else_=0)
                    ).label("able"),
                )
                .where(within_prefix(Member.region_code, county), Member.is_active)
                .group_by(Member.household_id),
                Member,
                operator,
            )
        )
    }
    pairings = {
        row.household_id: row.cadre_id
        for row in await session.execute(
            restrict(
                _select(Assignment.household_id, Assignment.cadre_id).where(
                    within_prefix(Assignment.region_code, county),
                    Assignment.kind == "pairing",
                    Assignment.ends_on.is_(None),
                    Assignment.cadre_id.is_not(None),
                ),
                Assignment,
                operator,
            ).order_by(Assignment.starts_on, Assignment.id)
        )
    }
    rng = random.Random(SEED)  # noqa: S311  demo data, not secrets
    today = date.today()
    plans: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for household in households:
        family = needs.get(household.id)
        student, able = (family.student, family.able) if family else (0, 0)
        cadre = pairings.get(household.id)
        years = (
            [2019, 2020] if household.status == "registered" else [max(household.exited_year or 2020, 2019)]
        )
        for year in years:
            registered = household.status == "registered"
            plan = {
                "id": uuid.uuid4(),
                "household_id": household.id,
                "region_code": household.region_code,
                "year": year,
                "goal_income": _money(LINES.get(year, 4000) * (1.15 if registered else 1.5)),
                "planned_exit_year": 2020 if registered else None,
                "notes": "一户一策, 对症施策" if registered else "巩固提升, 防止返贫",
                "created_by": "user:demo",
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            plans.append(plan)
            for category in _needs(household, student, able, rng):
                measures.append(_measure(rng, plan, category, cadre, today))
        if cadre is not None:
            visits += _visits(rng, household, cadre, today)
    for model, rows in ((AssistancePlan, plans), (PlanMeasure, measures), (Visit, visits)):
        for start in range(0, len(rows), 2000):
            await session.execute(
                insert(model), rows[start : start + 2000]
            )  # scope: the operator's demo loader
    await changes.record_rows(session, AssistancePlan, plans)  # measures are parts of their plans
    return len(plans)
