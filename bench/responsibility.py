"""Synthetic responsibility chains (责任链) as COPY text: work units, cadres and their assignments.

Each county has its own departments, enterprises (classes 1-4) and social organisations and 10-20 county
leaders, seeded with the county code; each township one covering county leader, seeded with its code; each
village its village cadres (村两委), a first secretary and a 3-5 member work team with one leader, a
township cadre covering it, the cadres of the county's departments and of the township who pair with its
households, and a few ended assignments as history, all seeded with the village code. So, as with the
households, a smaller dataset is the first part of a larger one.

About one cadre for every 3.5 households (兴县 had 5,000 cadres for 16,800). Registered households get one
pairing cadre, exited ones one and sometimes two (1-to-1, 1-to-2); about 2% of them have none, about 1% of the
villages no active first secretary and 0.5% no active work team; enterprises and social organisations pair
with some households on top. The data break no hard rule of app/domain/responsibility/rules.py.
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from bench.people import name, surname
from bench.province import Village
from bench.registry import NULL, F, T, _row, _uuid

WORK_UNIT_COLUMNS = (
    "id",
    "region_code",
    "name",
    "kind",
    "enterprise_class",
    "phone",
    "created_at",
    "updated_at",
)
CADRE_COLUMNS = (
    "id", "region_code", "name", "unit_id", "rank", "phone", "is_active", "created_at", "updated_at",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "kind", "region_code", "cadre_id", "unit_id", "household_id", "is_team_leader", "starts_on",
    "ends_on", "end_reason", "assigned_by", "ended_by", "created_at", "updated_at",
)  # fmt: skip

# Assignments are made by the county officer of the benchmark users (bench/generate.py), as "user:<id>".
ASSIGNED_BY = f"user:{uuid.uuid5(uuid.NAMESPACE_DNS, 'bench_county.bench.fupin')}"
UNITS_SINCE = "2015-12-01 09:00:00+00"
CADRE_SHARE = 3.5  # households per cadre
UNPAIRED = 0.02  # registered or exited households without a pairing cadre
NO_FIRST_SECRETARY = 0.01  # villages whose first secretary left and was not replaced
NO_WORK_TEAM = 0.005  # villages whose work team was withdrawn
SECOND_PAIRING = 0.3  # exited households with a second cadre (1-to-2)
PAIRING_HISTORY = 0.08  # households registered by 2017 whose first cadre was replaced in 2018

DEPARTMENTS = (
    "委办公室", "人民政府办公室", "发展和改革局", "财政局", "教育局", "卫生健康局", "农业农村局", "水务局",
    "交通运输局", "住房和城乡建设局", "人力资源和社会保障局", "民政局", "自然资源局", "生态环境局", "商务局",
    "文化和旅游局", "市场监督管理局", "林业和草原局", "审计局", "统计局", "医疗保障局", "乡村振兴局",
    "公安局", "人民法院", "人民检察院", "总工会", "妇女联合会", "科学技术协会", "供销合作社", "气象局",
    "税务局", "疾病预防控制中心", "人民医院", "中医医院", "第一中学", "职业中学", "融媒体中心", "应急管理局",
    "退役军人事务局", "司法局",
)  # fmt: skip
TRADES = (
    "农业发展", "牧业", "果业", "建筑工程", "新能源", "食品", "中药材", "物流", "农产品", "马铃薯",
    "文化旅游", "电子商务", "畜牧养殖", "蔬菜产业", "劳务输转", "光伏发电",
)  # fmt: skip
SOCIAL_ORGANISATIONS = ("慈善总会", "青年志愿者协会", "红十字会", "扶贫开发协会")
ENTERPRISE_CLASSES = ((1, 1, 2), (2, 2, 4), (3, 3, 6), (4, 4, 8))  # class, fewest, most per county
CLASS_WEIGHTS = {1: 80, 2: 30, 3: 10, 4: 5}  # their quotas: larger enterprises pair with more households


@dataclass
class ChainLines:
    """COPY text lines per table."""

    work_units: list[str] = field(default_factory=list)
    cadres: list[str] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class County:
    code: str
    departments: list[str]  # unit ids
    enterprises: list[tuple[str, int]]  # unit id, class
    social_organisations: list[str]
    leaders: list[str]  # cadre ids


def _day(rng: random.Random, year: int, first_month: int = 1, last_month: int = 12) -> str:
    return f"{year}-{rng.randint(first_month, last_month):02d}-{rng.randint(1, 28):02d}"


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice((3, 5, 8, 9))}{rng.randrange(10**9):09d}" if rng.random() < 0.95 else NULL


class Responsibility:
    """Writes the units and leaders of a county, the cover of a township, and everything of a village."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def county(self, code: str, county_name: str, lines: ChainLines) -> County:
        rng = random.Random(f"{self.seed}:units:{code}")
        office = f"09{rng.randint(30, 43)}-"

        def unit(unit_name: str, kind: str, enterprise_class: int | None = None) -> str:
            unit_id = _uuid(rng)
            lines.work_units.append(
                _row((
                    unit_id, code, unit_name, kind, enterprise_class or NULL,
                    f"{office}{rng.randint(2_000_000, 8_999_999)}", UNITS_SINCE, UNITS_SINCE,
                ))
            )  # fmt: skip
            return unit_id

        count = rng.randint(28, len(DEPARTMENTS))
        departments = [unit(f"{county_name}{d}", "department") for d in DEPARTMENTS[:count]]
        short = county_name[:2]
        trades = rng.sample(TRADES, len(TRADES))
        enterprises: list[tuple[str, int]] = []
        for enterprise_class, fewest, most in ENTERPRISE_CLASSES:
            for _ in range(rng.randint(fewest, most)):
                trade = trades[len(enterprises) % len(trades)]
                number = len(enterprises) // len(trades)
                title = f"{short}{trade}{'有限公司' if number == 0 else f'第{number + 1}有限公司'}"
                enterprises.append((unit(title, "enterprise", enterprise_class), enterprise_class))
        social = [
            unit(f"{county_name}{s}", "social_organisation")
            for s in SOCIAL_ORGANISATIONS[: rng.randint(1, 2)]
        ]
        leaders = [
            self._cadre(rng, lines, code, departments[rng.randrange(2)], "county_leader")
            for _ in range(rng.randint(10, 20))
        ]
        return County(code, departments, enterprises, social, leaders)

    def township(self, county: County, township: str, lines: ChainLines) -> None:
        """A county leader covers the township (县级领导包乡), since 2016 or, after a change, 2018."""
        rng = random.Random(f"{self.seed}:township:{township}")
        leader = rng.randrange(len(county.leaders))
        since = _day(rng, 2016, 2, 4)
        if rng.random() < 0.2:
            previous = (leader + 1 + rng.randrange(len(county.leaders) - 1)) % len(county.leaders)
            ended = _day(rng, 2018, 1, 3)
            _assignment(
                rng, lines, "township_cover", township, county.leaders[previous], since=since, ended=ended
            )
            since = _day(rng, 2018, 4, 6)
        _assignment(rng, lines, "township_cover", township, county.leaders[leader], since=since)

    def village(
        self, county: County, village: Village, pairable: list[tuple[str, str, int]], lines: ChainLines
    ) -> None:
        rng = random.Random(f"{self.seed}:chain:{village.code}")
        township = village.code[:9] + "000"
        code = village.code

        def department() -> str:
            return county.departments[rng.randrange(len(county.departments))]

        # Who pairs with households, with weights: village cadres take about two, department cadres more.
        pairers: list[tuple[str, int]] = []
        village_cadres = [self._cadre(rng, lines, code, NULL, "village") for _ in range(rng.randint(4, 6))]
        pairers += [(cadre, 2) for cadre in village_cadres]

        # The covering township cadre (包村干部).
        cover = self._cadre(rng, lines, township, NULL, "section")
        since = _day(rng, 2016, 3, 9)
        if rng.random() < 0.1:
            previous = self._cadre(rng, lines, township, NULL, "section")
            ended = _day(rng, 2018, 1, 6)
            _assignment(
                rng, lines, "village_cover", code, previous, since=since, ended=ended, reason="岗位调整"
            )
            since = _day(rng, 2018, 7, 12)
        _assignment(rng, lines, "village_cover", code, cover, since=since)
        pairers.append((cover, 2))

        # The first secretary (第一书记), two-year terms: some villages are on their second one, a few have
        # none since the last one left.
        secretary = self._cadre(rng, lines, code, department(), "section")
        if rng.random() < NO_FIRST_SECRETARY:
            since = _day(rng, 2017, 8, 9)
            ended = _day(rng, 2020, 3, 9)
            _assignment(
                rng, lines, "first_secretary", code, secretary, since=since, ended=ended, reason="工作调动"
            )
            secretary = ""
        else:
            since = "2015-08-20"
            if rng.random() < 0.3:
                previous = self._cadre(rng, lines, code, department(), "section")
                _assignment(
                    rng,
                    lines,
                    "first_secretary",
                    code,
                    previous,
                    since=since,
                    ended="2017-08-31",
                    reason="任期届满",
                )
                since = "2017-09-01"
            _assignment(rng, lines, "first_secretary", code, secretary, since=since)
            pairers.append((secretary, 3))

        # The work team (驻村工作队): 3-5 members, the first secretary usually leads it.
        size = rng.randint(3, 5)
        leads = bool(secretary) and rng.random() < 0.6
        team = [secretary] if leads else []
        team += [
            self._cadre(rng, lines, code, department(), "section" if i == 0 and not leads else "general")
            for i in range(size - len(team))
        ]
        withdrawn = rng.random() < NO_WORK_TEAM
        for i, member in enumerate(team):
            until = _day(rng, 2019, 10, 12) if withdrawn else None
            _assignment(
                rng, lines, "work_team", code, member, since="2017-09-01", ended=until, leader=i == 0,
                reason="工作队轮换" if withdrawn else NULL,
            )  # fmt: skip
        pairers += [(member, 2) for member in team if member != secretary]

        # A county leader pairs with a few households of the village.
        pairers.append((county.leaders[rng.randrange(len(county.leaders))], 2))

        # The cadres of the county's departments and of the township who pair with the village's households.
        for _ in range(max(2, round(village.households / CADRE_SHARE) - len(pairers))):
            if rng.random() < 0.7:
                cadre = self._cadre(
                    rng, lines, county.code, department(), "section" if rng.random() < 0.25 else "general"
                )
            else:
                cadre = self._cadre(
                    rng, lines, township, NULL, "section" if rng.random() < 0.2 else "general"
                )
            pairers.append((cadre, rng.choice((1, 2, 2, 3, 4))))
        self._pairings(rng, county, village, pairable, pairers, lines)

    def _pairings(
        self,
        rng: random.Random,
        county: County,
        village: Village,
        pairable: list[tuple[str, str, int]],
        pairers: list[tuple[str, int]],
        lines: ChainLines,
    ) -> None:
        code = village.code
        cadres = [cadre for cadre, _ in pairers]
        cumulative = list(accumulate(weight for _, weight in pairers))
        total = cumulative[-1]

        def pick() -> str:
            return cadres[bisect(cumulative, rng.random() * total)]

        retired: list[str] = []  # cadres who left: their pairings ended in 2018
        for household, status, registered in pairable:
            if rng.random() < UNPAIRED:
                continue
            since = _day(rng, max(registered, 2015), 3, 12)
            if registered <= 2017 and rng.random() < PAIRING_HISTORY:
                if not retired or rng.random() < 0.3:
                    retired.append(self._cadre(rng, lines, county.code, NULL, "general", active=False))
                ended = _day(rng, 2018, 1, 6)
                _assignment(
                    rng, lines, "pairing", code, retired[-1], household=household, since=since, ended=ended,
                    reason=rng.choice(("调离", "退休", "岗位调整")),
                )  # fmt: skip
                since = _day(rng, 2018, 7, 12)
            first = pick()
            _assignment(rng, lines, "pairing", code, first, household=household, since=since)
            if status == "exited" and rng.random() < SECOND_PAIRING:
                second = pick()
                if second != first:
                    _assignment(
                        rng, lines, "pairing", code, second, household=household, since=_day(rng, 2019)
                    )

        # 万企帮万村: an enterprise pairs with some households of half the villages, a social organisation
        # with a few of some villages.
        if pairable and rng.random() < 0.5:
            weights = list(accumulate(CLASS_WEIGHTS[c] for _, c in county.enterprises))
            enterprise = county.enterprises[bisect(weights, rng.random() * weights[-1])][0]
            for household, _, _ in rng.sample(pairable, min(len(pairable), rng.randint(5, 25))):
                _assignment(
                    rng, lines, "pairing", code, unit=enterprise, household=household, since=_day(rng, 2018)
                )
        if pairable and rng.random() < 0.15:
            organisation = county.social_organisations[rng.randrange(len(county.social_organisations))]
            for household, _, _ in rng.sample(pairable, min(len(pairable), rng.randint(3, 8))):
                _assignment(
                    rng, lines, "pairing", code, unit=organisation, household=household, since=_day(rng, 2019)
                )

    @staticmethod
    def _cadre(
        rng: random.Random, lines: ChainLines, region: str, unit: str, rank: str, *, active: bool = True
    ) -> str:
        cadre_id = _uuid(rng)
        is_male = rng.random() < 0.75
        lines.cadres.append(
            _row((
                cadre_id, region, name(rng, surname(rng), is_male=is_male), unit, rank, _phone(rng),
                T if active else F, UNITS_SINCE, UNITS_SINCE,
            ))
        )  # fmt: skip
        return cadre_id


def _assignment(
    rng: random.Random,
    lines: ChainLines,
    kind: str,
    region: str,
    cadre: str = NULL,
    *,
    unit: str = NULL,
    household: str = NULL,
    since: str,
    ended: str | None = None,
    reason: str = NULL,
    leader: bool = False,
) -> None:
    created = f"{since} 09:00:00+00"
    lines.assignments.append(
        _row((
            _uuid(rng), kind, region, cadre, unit, household, T if leader else F, since, ended or NULL,
            reason if ended else NULL, ASSIGNED_BY, ASSIGNED_BY if ended else NULL, created,
            f"{ended} 09:00:00+00" if ended else created,
        ))
    )  # fmt: skip
