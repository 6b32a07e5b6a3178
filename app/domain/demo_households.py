"""Demo households for 秦安县: a few thousand families spread as in a poor county of Gansu.

Causes, attributes and categories follow the shares such counties reported; incomes run from 2014 to 2020
around the national line; families are found in every lifecycle state (applicants at each identification
step, registered, exited, returned, removed, rejected, monitored, exits under way) so that every screen of
a client has something to show. Deterministic (seeded), and loaded once: a second load adds nothing.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import changes
from app.db.base import utcnow
from app.db.models import Household, HouseholdEvent, Income, Indicator, Member, Objection, Publicity, Region
from app.domain.households.idnumbers import check_character
from app.domain.households.rules import INDICATORS, IncomeParts
from app.domain.scope import restrict, scoped, within_prefix
from app.domain.system import system_principal

SEED = 620522
HOUSEHOLDS_PER_VILLAGE = (28, 44)
LINES = {2014: 2736, 2015: 2855, 2016: 3000, 2017: 3335, 2018: 3535, 2019: 3747, 2020: 4000}

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗梁宋郑谢韩唐冯于董程"
    "曹袁邓许蔡贾丁魏薛叶阎余潘杜戴夏汪田任姜范方石姚谭"
)
MALE_NAMES = [
    "建国",
    "建军",
    "志强",
    "永红",
    "国庆",
    "振华",
    "海军",
    "玉宝",
    "长生",
    "福贵",
    "红军",
    "德明",
    "文斌",
    "小平",
    "卫东",
    "发财",
    "金山",
    "宝林",
    "永福",
    "成林",
]
FEMALE_NAMES = [
    "秀英",
    "桂兰",
    "玉兰",
    "淑珍",
    "秀兰",
    "凤英",
    "翠花",
    "春梅",
    "丽娟",
    "海燕",
    "金花",
    "红梅",
    "桂芳",
    "小芳",
    "彩霞",
    "玉梅",
    "巧云",
    "雪琴",
    "月娥",
    "秀珍",
]
CHILD_NAMES = [
    "浩然",
    "子涵",
    "欣怡",
    "宇轩",
    "梓萱",
    "俊杰",
    "佳琪",
    "博文",
    "雨桐",
    "嘉怡",
    "天佑",
    "思远",
    "一诺",
    "明轩",
    "晨曦",
]

# (code, weight): shares of the primary cause (致贫原因) and the attribute (贫困户属性) in such a county.
CAUSES = [
    ("illness", 25),
    ("lack_of_skills", 18),
    ("lack_of_labour", 12),
    ("lack_of_capital", 12),
    ("disability", 8),
    ("schooling", 7),
    ("disaster", 5),
    ("lack_of_water", 4),
    ("poor_transport", 4),
    ("lack_of_land", 2),
    ("lack_of_drive", 2),
    ("marriage", 1),
]
ATTRIBUTES = [("general", 70), ("dibao", 25), ("wubao", 5)]
CATEGORIES = [("targeted", 60), ("policy_guaranteed", 25), ("consolidation", 15)]
STRUCTURES = [("brick_concrete", 45), ("brick_wood", 30), ("earth_wood", 20), ("cave", 5)]
FUELS = [("firewood", 45), ("coal", 35), ("electricity", 12), ("gas", 8)]
WATER = [("tap", 70), ("well", 15), ("cellar", 10), ("spring", 5)]

IDENTIFICATION_STEPS = [
    ("applied", None),
    ("village_reviewed", None),
    ("village_publicity", "village"),
    ("township_reviewed", None),
    ("township_publicity", "township"),
    ("county_approved", None),
    ("announced", None),
]
EXIT_STEPS = [
    ("exit_proposed", None),
    ("exit_verified", None),
    ("consented", None),
    ("village_publicity", "village"),
    ("township_publicity", "township"),
]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([code for code, _ in weighted], [weight for _, weight in weighted])[0]


@dataclass
class _Batch:
    households: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    incomes: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    publicities: list[dict[str, Any]] = field(default_factory=list)
    objections: list[dict[str, Any]] = field(default_factory=list)


class _People:
    """Names and distinct, valid ID numbers (GB 11643) for the county."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial: dict[date, int] = {}

    def id_number(self, birth: date, male: bool) -> str:
        serial = self.serial.get(birth, 0)
        self.serial[birth] = serial + 1
        order = serial * 2 + (1 if male else 0)
        first17 = f"620522{birth:%Y%m%d}{order:03d}"
        return first17 + check_character(first17)

    def birth(self, low: int, high: int) -> date:
        return date(self.rng.randint(low, high), 1, 1) + timedelta(days=self.rng.randint(0, 364))


def _status(rng: random.Random) -> str:
    return rng.choices(
        ["registered", "exited", "applicant", "returned", "exiting", "removed", "rejected"],
        [34, 45, 6, 3, 7, 3, 2],
    )[0]


def _family(
    rng: random.Random, people: _People, surname: str, household_id: uuid.UUID, region: str
) -> list[dict[str, Any]]:
    size = rng.choices([1, 2, 3, 4, 5, 6], [6, 14, 22, 28, 20, 10])[0]
    head_male = rng.random() < 0.85
    head_birth = people.birth(1940, 1985)
    rows = [_member(rng, people, surname, household_id, region, "head", head_birth, head_male)]
    if size >= 2:
        rows.append(
            _member(
                rng,
                people,
                surname,
                household_id,
                region,
                "spouse",
                people.birth(head_birth.year - 3, head_birth.year + 5),
                not head_male,
            )
        )
    for _ in range(max(size - 2, 0)):
        if head_birth.year < 1955 and rng.random() < 0.4:
            relation, birth = "grandchild", people.birth(2003, 2016)
        else:
            relation, birth = (
                "child",
                people.birth(max(head_birth.year + 20, 1975), min(head_birth.year + 40, 2016)),
            )
        rows.append(_member(rng, people, surname, household_id, region, relation, birth, rng.random() < 0.52))
    return rows


def _member(
    rng: random.Random,
    people: _People,
    surname: str,
    household_id: uuid.UUID,
    region: str,
    relation: str,
    birth: date,
    male: bool,
) -> dict[str, Any]:
    age = 2020 - birth.year
    if relation in ("child", "grandchild") and age < 18:
        given, education = (
            rng.choice(CHILD_NAMES),
            ("preschool" if age < 7 else "primary" if age < 13 else "junior"),
        )
        schooling = "preschool" if age < 7 else "primary" if age < 13 else "junior" if age < 16 else "senior"
        labour = "none"
    else:
        given = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
        education = rng.choices(["illiterate", "primary", "junior", "senior"], [20, 40, 32, 8])[0]
        schooling = "none"
        labour = "lost" if age > 65 else rng.choices(["ordinary", "skilled", "weak"], [65, 15, 20])[0]
    health = rng.choices(["healthy", "chronic", "serious", "disabled"], [72, 16, 6, 6])[0]
    name = (surname if relation != "spouse" else rng.choice(SURNAMES)) + given
    return {
        "id": uuid.uuid4(),
        "household_id": household_id,
        "region_code": region,
        "name": name,
        "id_number": people.id_number(birth, male),
        "sex": "M" if male else "F",
        "birth_date": birth,
        "relation": relation,
        "education": education,
        "schooling": schooling,
        "health": health,
        "labour_ability": labour,
        "migrant_work_months": rng.choice([0, 0, 3, 6, 8, 10]) if labour in ("ordinary", "skilled") else 0,
        "has_medical_insurance": rng.random() < 0.97,
        "has_pension_insurance": age >= 16 and rng.random() < 0.8,
        "is_active": True,
    }


def _incomes(
    rng: random.Random, household: dict[str, Any], size: int, first: int, last: int, above_from: int | None
) -> list[dict[str, Any]]:
    rows = []
    for year in range(first, last + 1):
        above = above_from is not None and year >= above_from
        target = LINES[year] * (rng.uniform(1.15, 1.9) if above else rng.uniform(0.45, 0.95))
        net = Decimal(round(target * size))
        wage = (net * Decimal(rng.uniform(0.3, 0.7))).quantize(Decimal(1))
        transfer = (net * Decimal(rng.uniform(0.1, 0.3))).quantize(Decimal(1))
        costs = (net * Decimal(rng.uniform(0.05, 0.2))).quantize(Decimal(1))
        parts = IncomeParts(wage, net - wage - transfer + costs, Decimal(0), transfer, costs).quantized()
        rows.append(
            {
                "id": uuid.uuid4(),
                "household_id": household["id"],
                "region_code": household["region_code"],
                "year": year,
                "wage_income": parts.wage_income,
                "business_income": parts.business_income,
                "property_income": parts.property_income,
                "transfer_income": parts.transfer_income,
                "production_costs": parts.production_costs,
                "household_size": size,
                "net_income": parts.net_income,
                "per_capita_net_income": parts.per_capita(size),
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    return rows


def _event(household: dict[str, Any], action: str, at: datetime, **values: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "household_id": household["id"],
        "region_code": household["region_code"],
        "procedure": values.pop("procedure", "identification"),
        "action": action,
        "actor_name": "demo",
        "actor_roles": [],
        "at": at,
        "document_numbers": values.pop("document_numbers", []),
        "details": {"demo": True},
        **values,
    }


def _year_start(year: int) -> datetime:
    return datetime(year, 3, 1, 9, 0, tzinfo=utcnow().tzinfo)


def _household(
    rng: random.Random, people: _People, batch: _Batch, region: str, number: int, today: date
) -> None:
    household_id = uuid.uuid4()
    surname = rng.choice(SURNAMES)
    members = _family(rng, people, surname, household_id, region)
    kind = _status(rng)
    registered = rng.choices([2014, 2015, 2016, 2017], [70, 15, 10, 5])[0]
    household: dict[str, Any] = {
        "id": household_id,
        "region_code": region,
        "county_code": "620522000000",
        "household_number": f"{region}{number:04d}",
        "group_name": f"{rng.randint(1, 6)}组",
        "head_name": members[0]["name"],
        "address": f"秦安县{rng.randint(1, 6)}组{rng.randint(1, 80)}号",
        "phone": f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
        "bank_name": rng.choice(
            ["秦安县农村信用合作联社", "中国农业银行秦安县支行", "中国邮政储蓄银行秦安县支行"]
        ),
        "bank_account": f"622{rng.randint(0, 10**15 - 1):016d}",
        "identification_standard": "national",
        "attribute": _pick(rng, ATTRIBUTES),
        "category": _pick(rng, CATEGORIES),
        "primary_cause": _pick(rng, CAUSES),
        "other_causes": [],
        "housing_area": Decimal(rng.randint(40, 140)),
        "housing_structure": _pick(rng, STRUCTURES),
        "housing_year_built": rng.randint(1975, 2012),
        "housing_safety_grade": rng.choices("ABCD", [30, 40, 20, 10])[0],
        "is_relocated": rng.random() < 0.06,
        "has_electricity": True,
        "fuel": _pick(rng, FUELS),
        "drinking_water": _pick(rng, WATER),
        "status": "registered",
        "has_returned_to_poverty": False,
        "monitoring_kind": None,
        "registered_year": registered,
        "version": 1,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    if rng.random() < 0.35:
        others = [code for code, _ in CAUSES if code != household["primary_cause"]]
        household["other_causes"] = rng.sample(others, rng.choice([1, 1, 2]))
    size = len(members)
    exit_year = rng.choices([2016, 2017, 2018, 2019, 2020], [10, 20, 30, 25, 15])[0]
    above_from: int | None = None
    events = [_event(household, "register", _year_start(registered), to_status="registered")]
    if kind == "applicant":
        step, level = rng.choice(IDENTIFICATION_STEPS)
        household.update(
            status="applicant", registered_year=None, procedure="identification", procedure_step=step
        )
        household["procedure_started_on"] = today - timedelta(days=rng.randint(3, 20))
        events = [_event(household, "apply", utcnow(), to_status="applicant", to_step="applied")]
        if level is not None:
            _publicity(rng, batch, household, "identification", step, level, today)
    elif kind in ("exited", "returned", "exiting"):
        above_from = exit_year
        if kind == "exiting":
            above_from = 2020
            step, level = rng.choice(EXIT_STEPS)
            household.update(
                procedure="exit", procedure_step=step, procedure_started_on=today - timedelta(days=12)
            )
            if level is not None:
                _publicity(rng, batch, household, "exit", step, level, today)
        else:
            household.update(status="exited", exited_year=exit_year)
            events.append(
                _event(
                    household,
                    "announce_exit",
                    _year_start(exit_year) + timedelta(days=270),
                    procedure="exit",
                    from_status="registered",
                    to_status="exited",
                    document_numbers=[f"秦脱贫发〔{exit_year}〕{rng.randint(1, 60)}号"],
                )
            )
        if kind == "returned":
            above_from = None
            household.update(status="registered", has_returned_to_poverty=True)
            events.append(
                _event(
                    household,
                    "county_approve_return",
                    _year_start(2020),
                    procedure="return",
                    to_status="registered",
                )
            )
        elif kind == "exited" and rng.random() < 0.1:
            household.update(monitoring_kind="unstable_exited", monitoring_since=date(2020, 6, 1))
    elif kind == "removed":
        household.update(status="removed")
        events.append(
            _event(
                household,
                "county_approve_removal",
                _year_start(2016),
                procedure="removal",
                to_status="removed",
            )
        )
    elif kind == "rejected":
        household.update(status="rejected", registered_year=None)
        events = [_event(household, "reject", _year_start(2015), to_status="rejected")]
    if (
        household["status"] in ("registered", "exited")
        and rng.random() < 0.03
        and household["monitoring_kind"] is None
    ):
        household.update(monitoring_kind="sudden_hardship", monitoring_since=date(2020, 8, 1))
    if household["status"] != "rejected" and household["status"] != "applicant":
        batch.incomes += _incomes(rng, household, size, max(registered, 2014), 2020, above_from)
        holds_all = above_from is not None
        for indicator in INDICATORS:
            batch.indicators.append(
                {
                    "household_id": household_id,
                    "indicator": indicator,
                    "region_code": region,
                    "holds": holds_all or rng.random() < 0.7,
                    "verified_on": date(2020, 10, rng.randint(1, 28)),
                    "verified_by_name": "驻村工作队",
                    "updated_at": utcnow(),
                }
            )
    batch.households.append(household)
    batch.members += members
    batch.events += events


def _publicity(
    rng: random.Random,
    batch: _Batch,
    household: dict[str, Any],
    procedure: str,
    step: str,
    level: str,
    today: date,
) -> None:
    starts = today - timedelta(days=rng.randint(0, 9))
    publicity_id = uuid.uuid4()
    batch.publicities.append(
        {
            "id": publicity_id,
            "household_id": household["id"],
            "region_code": household["region_code"],
            "procedure": procedure,
            "step": step,
            "level": level,
            "starts_on": starts,
            "ends_on": starts + timedelta(days=6),
            "created_at": utcnow(),
        }
    )
    if rng.random() < 0.08:
        batch.objections.append(
            {
                "id": uuid.uuid4(),
                "household_id": household["id"],
                "publicity_id": publicity_id,
                "region_code": household["region_code"],
                "raised_on": starts + timedelta(days=1),
                "raised_by": "村民代表",
                "content": "反映该户家庭收入情况与实际不符, 请核实。",
                "status": "open",
                "created_at": utcnow(),
            }
        )


async def load_demo_households(session: AsyncSession, county_code: str = "620522000000") -> int:
    """Store the demo households of the county's villages, unless households are there already."""
    operator = system_principal()
    county = within_prefix(Region.code, county_code[:6])
    statement = scoped(Region, operator).where(county, Region.level == "village").order_by(Region.code)
    villages = [region.code for region in await session.scalars(statement)]
    counting = restrict(select(func.count()).select_from(Household), Household, operator)
    existing = await session.scalar(counting.where(Household.county_code == county_code))
    if existing or not villages:
        return 0
    rng = random.Random(SEED)  # noqa: S311  demo data, not secrets
    people = _People(rng)
    batch = _Batch()
    today = date.today()
    for village in villages:
        for number in range(1, rng.randint(*HOUSEHOLDS_PER_VILLAGE) + 1):
            _household(rng, people, batch, village, number, today)
    for model, rows in (
        (Household, batch.households),
        (Member, batch.members),
        (Income, batch.incomes),
        (Indicator, batch.indicators),
        (HouseholdEvent, batch.events),
        (Publicity, batch.publicities),
        (Objection, batch.objections),
    ):
        keys = {key for row in rows for key in row}  # executemany needs one shape of row
        shaped = [{key: row.get(key) for key in keys} for row in rows]
        for start in range(0, len(shaped), 2000):
            await session.execute(insert(model), shaped[start : start + 2000])
    # Members, incomes and indicators are parts of their household: its row covers them.
    await changes.record_rows(session, Household, batch.households)
    return len(batch.households)
