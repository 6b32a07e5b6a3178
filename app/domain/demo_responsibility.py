"""Demo responsibility chain of 秦安县: work units, cadres and their assignments, with realistic gaps.

Departments send first secretaries and work teams; county leaders cover a township each and pair ten
families or so; township cadres cover villages; general and village cadres pair with the registered and
exited households, enterprises and a charity pair on top. Gaps a county officer should find in the coverage
report: about one household in fifteen has no pairing cadre, one village has no first secretary, another
has no work team, and several cadres and enterprises are below their quota. Some assignments ended (a
first secretary rotated in 2020): the history shows them. Deterministic (seeded); loaded once.
"""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import Any, cast

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import changes
from app.db.models import Assignment, Cadre, Household, Region, WorkUnit
from app.domain.demo_households import FEMALE_NAMES, MALE_NAMES, SURNAMES
from app.domain.scope import restrict, scoped, within_prefix
from app.domain.system import system_principal

SEED = 6205224
ASSIGNED_BY = "system:demo"
DEPARTMENTS = (
    "秦安县扶贫开发办公室",
    "秦安县农业农村局",
    "秦安县教育局",
    "秦安县卫生健康局",
    "秦安县人力资源和社会保障局",
    "秦安县住房和城乡建设局",
    "秦安县交通运输局",
    "秦安县水务局",
    "秦安县财政局",
    "秦安县民政局",
)
ENTERPRISES = (  # (name, class): quotas 80 / 30 / 10 / 5 households
    ("甘肃秦安果业集团有限公司", 1),
    ("秦安县苹果产业开发有限公司", 2),
    ("天水花牛苹果专业合作社", 3),
    ("秦安县电子商务服务中心", 4),
)
CHARITY = "秦安县慈善总会"
# The demo's gaps, by village code.
WITHOUT_FIRST_SECRETARY = "620522103202"
WITHOUT_WORK_TEAM = "620522105203"


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _name(rng: random.Random) -> str:
    given = rng.choice(MALE_NAMES if rng.random() < 0.7 else FEMALE_NAMES)
    return rng.choice(SURNAMES) + given


async def load_demo_responsibility(session: AsyncSession, county_code: str = "620522000000") -> int:
    """Store the county's units, cadres and assignments unless it has cadres already; return the number
    of assignments."""
    operator = system_principal()
    prefix = county_code[:6]
    existing = await session.scalar(
        restrict(select(func.count()).select_from(Cadre), Cadre, operator).where(
            within_prefix(Cadre.region_code, prefix)
        )
    )
    regions = (
        await session.scalars(
            scoped(Region, operator).where(within_prefix(Region.code, prefix)).order_by(Region.code)
        )
    ).all()
    townships = [region.code for region in regions if region.level == "township"]
    villages = [region.code for region in regions if region.level == "village"]
    if existing or not villages:
        return 0
    households: dict[str, list[tuple[uuid.UUID, str]]] = {}
    rows = await session.execute(
        restrict(
            cast(Any, select)(Household.id, Household.region_code, Household.status)
            .where(
                Household.status.in_(("registered", "exited")), within_prefix(Household.region_code, prefix)
            )
            .order_by(Household.region_code, Household.household_number),
            Household,
            operator,
        )
    )
    for household_id, village, status in rows:
        households.setdefault(village, []).append((household_id, status))

    rng = random.Random(SEED)  # noqa: S311  demo data, not secrets
    units: list[dict[str, Any]] = []
    cadres: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []

    def unit(name: str, kind: str, enterprise_class: int | None = None) -> uuid.UUID:
        units.append(
            {
                "id": uuid.uuid4(),
                "region_code": county_code,
                "name": name,
                "kind": kind,
                "enterprise_class": enterprise_class,
                "phone": f"0938-65{rng.randint(10000, 99999)}",
            }
        )
        return uuid.UUID(str(units[-1]["id"]))

    def cadre(region: str, rank: str, unit_id: uuid.UUID | None) -> uuid.UUID:
        cadre_id = uuid.uuid4()
        cadres.append(
            {
                "id": cadre_id,
                "region_code": region,
                "name": _name(rng),
                "unit_id": unit_id,
                "rank": rank,
                "phone": _phone(rng),
                "is_active": True,
            }
        )
        return cadre_id

    def assign(kind: str, region: str, starts_on: date, **fields: Any) -> None:
        assignments.append(
            {
                "id": uuid.uuid4(),
                "kind": kind,
                "region_code": region,
                "cadre_id": fields.get("cadre_id"),
                "unit_id": fields.get("unit_id"),
                "household_id": fields.get("household_id"),
                "is_team_leader": fields.get("is_team_leader", False),
                "starts_on": starts_on,
                "ends_on": fields.get("ends_on"),
                "end_reason": fields.get("end_reason"),
                "assigned_by": ASSIGNED_BY,
                "ended_by": ASSIGNED_BY if fields.get("ends_on") else None,
            }
        )

    departments = [unit(name, "department") for name in DEPARTMENTS]
    enterprises = [(unit(name, "enterprise", level), level) for name, level in ENTERPRISES]
    charity = unit(CHARITY, "social_organisation")

    # Pairing: households of each village, cadres take a handful each; every fifteenth family is left out.
    unpaired_every = 15
    pairable: dict[str, list[tuple[uuid.UUID, str]]] = {}
    for village, families in households.items():
        pairable[village] = [family for n, family in enumerate(families) if n % unpaired_every != 7]

    for township_index, township in enumerate(townships):
        leader = cadre(county_code, "county_leader", departments[0])
        assign("township_cover", township, date(2016, 3, 1), cadre_id=leader)
        own = [v for v in villages if v.startswith(township[:9])]
        # The leader pairs 8 to 10 families of the township's first village (some below their quota of 10).
        if own and pairable.get(own[0]):
            take = 8 + township_index % 3
            for household_id, _ in pairable[own[0]][:take]:
                assign("pairing", own[0], date(2016, 4, 1), cadre_id=leader, household_id=household_id)
            pairable[own[0]] = pairable[own[0]][take:]
        for village in own:
            coverer = cadre(township, "section", None)
            assign("village_cover", village, date(2016, 3, 1), cadre_id=coverer)
            if village != WITHOUT_FIRST_SECRETARY:
                department = rng.choice(departments)
                if rng.random() < 0.25:  # rotated at the end of 2019: the history keeps the first one
                    first = cadre(county_code, "section", department)
                    assign(
                        "first_secretary",
                        village,
                        date(2017, 9, 1),
                        cadre_id=first,
                        ends_on=date(2019, 12, 31),
                        end_reason="任期届满轮换",
                    )
                    assign(
                        "first_secretary",
                        village,
                        date(2020, 1, 1),
                        cadre_id=cadre(county_code, "section", department),
                    )
                else:
                    assign(
                        "first_secretary",
                        village,
                        date(2017, 9, 1),
                        cadre_id=cadre(county_code, "section", department),
                    )
            if village != WITHOUT_WORK_TEAM:
                for member in range(2 + rng.randint(0, 1)):
                    assign(
                        "work_team",
                        village,
                        date(2017, 9, 1),
                        cadre_id=cadre(county_code, "general", rng.choice(departments)),
                        is_team_leader=member == 0,
                    )
            # General cadres of the departments pair 4 to 7 families each, village cadres 2.
            families = pairable.get(village, [])
            while families:
                if rng.random() < 0.3:
                    helper, take = cadre(village, "village", None), 2
                else:
                    helper, take = cadre(township, "general", rng.choice(departments)), rng.randint(4, 7)
                for household_id, _status in families[:take]:
                    assign("pairing", village, date(2016, 5, 1), cadre_id=helper, household_id=household_id)
                families = families[take:]
    paired = {a["household_id"] for a in assignments if a["household_id"] is not None}
    # Exited families get a second cadre now and then (1-to-2), enterprises and the charity pair on top.
    for village, families in households.items():
        exited = [household_id for household_id, status in families if status == "exited"]
        if exited and rng.random() < 0.3:
            second = cadre(village, "village", None)
            for household_id in exited[:2]:
                if household_id in paired:
                    assign("pairing", village, date(2020, 6, 1), cadre_id=second, household_id=household_id)
    everyone = [
        (village, household_id) for village, families in households.items() for household_id, _ in families
    ]
    rng.shuffle(everyone)
    targets = {
        enterprise: quota
        for enterprise, quota in zip([e for e, _ in enterprises], (60, 30, 12, 3), strict=True)
    }
    targets[charity] = 20
    for unit_id, count in targets.items():
        for village, household_id in everyone[:count]:
            assign("pairing", village, date(2018, 1, 1), unit_id=unit_id, household_id=household_id)
        everyone = everyone[count:]

    for model, batch in ((WorkUnit, units), (Cadre, cadres), (Assignment, assignments)):
        for start in range(0, len(batch), 2000):
            await session.execute(insert(model), batch[start : start + 2000])
    await changes.record_rows(session, Assignment, assignments)
    return len(assignments)
