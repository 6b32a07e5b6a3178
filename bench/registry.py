"""Synthetic registry records of a village, as lines of PostgreSQL's COPY text format.

A village's households come from a random generator seeded with the village code, so every dataset size
holds the same households in the same villages. The spread follows a poor county of Gansu: about 60%
registered, 35% exited (every exited household above the line with all 两不愁三保障 indicators holding),
a few applicants and removals; illness, lack of skills and of capital as the leading causes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.people import Births, IdNumbers, name, surname
from bench.province import Village

HOUSEHOLD_COLUMNS = (
    "id", "region_code", "county_code", "household_number", "group_name", "head_name", "address", "phone",
    "bank_name", "bank_account", "identification_standard", "attribute", "category", "primary_cause",
    "other_causes", "housing_area", "housing_structure", "housing_year_built", "housing_safety_grade",
    "is_relocated", "has_electricity", "fuel", "drinking_water", "status", "procedure", "procedure_step",
    "procedure_started_on", "monitoring_kind", "monitoring_since", "has_returned_to_poverty",
    "registered_year", "exited_year", "version", "created_at", "updated_at",
)  # fmt: skip
MEMBER_COLUMNS = (
    "id", "household_id", "region_code", "name", "id_number", "sex", "birth_date", "relation", "education",
    "schooling", "health", "labour_ability", "migrant_work_months", "has_medical_insurance",
    "has_pension_insurance", "is_active", "left_on", "left_reason", "created_at", "updated_at",
)  # fmt: skip
INCOME_COLUMNS = (
    "id", "household_id", "region_code", "year", "wage_income", "business_income", "property_income",
    "transfer_income", "production_costs", "household_size", "net_income", "per_capita_net_income",
    "created_at", "updated_at",
)  # fmt: skip
INDICATOR_COLUMNS = (
    "household_id", "indicator", "region_code", "holds", "verified_on", "verified_by_id", "verified_by_name",
    "note", "updated_at",
)  # fmt: skip

NULL = "\\N"
T, F = "t", "f"
UPDATED_AT = "2021-01-15 09:30:00+00"
POVERTY_LINES = {2018: 3535, 2019: 3747, 2020: 4000}  # yuan per person and year (national)


def _weighted(*pairs: tuple[str, int]) -> list[str]:
    """A pool to draw from with ``rng.choice``: each value as often as its weight (cheaper than choices)."""
    return [value for value, weight in pairs for _ in range(weight)]


STATUSES = _weighted(
    ("registered", 600), ("exited", 350), ("applicant", 30), ("removed", 15), ("rejected", 5)
)
CAUSES = _weighted(
    ("illness", 25), ("lack_of_skills", 20), ("lack_of_capital", 15), ("lack_of_labour", 12),
    ("disability", 7), ("schooling", 6), ("lack_of_land", 4), ("lack_of_water", 4), ("poor_transport", 3),
    ("disaster", 2), ("lack_of_drive", 2),
)  # fmt: skip
ATTRIBUTES = _weighted(("general", 70), ("dibao", 22), ("wubao", 5), ("tekun", 3))
CATEGORIES = _weighted(("targeted", 75), ("policy_guaranteed", 20), ("consolidation", 5))
STRUCTURES = _weighted(
    ("brick_concrete", 45), ("brick_wood", 30), ("earth_wood", 20), ("cave", 4), ("other", 1)
)
FUELS = _weighted(("firewood", 40), ("coal", 35), ("electricity", 15), ("gas", 8), ("other", 2))
WATERS = _weighted(("tap", 70), ("well", 12), ("spring", 8), ("cellar", 9), ("other", 1))
BANKS = ("甘肃省农村信用社", "中国邮政储蓄银行", "中国农业银行", "甘肃银行")
SIZES = _weighted(("2", 22), ("3", 31), ("4", 29), ("5", 11), ("6", 7))  # ~3.5 members a household
HEALTH = _weighted(("healthy", 78), ("chronic", 12), ("serious", 4), ("disabled", 6))
ADULT_EDUCATION = {
    "old": _weighted(("illiterate", 45), ("primary", 40), ("junior", 13), ("senior", 2)),
    "middle": _weighted(
        ("illiterate", 10), ("primary", 35), ("junior", 45), ("senior", 8), ("vocational", 2)
    ),
    "young": _weighted(("primary", 8), ("junior", 50), ("senior", 20), ("vocational", 14), ("college", 8)),
}
WORKING_LABOUR = _weighted(("ordinary", 72), ("skilled", 10), ("weak", 10), ("lost", 5), ("none", 3))
LEFT_REASONS = ("死亡", "婚出", "户籍迁出")
INDICATORS = ("food", "clothing", "education", "medical", "housing", "water")


@dataclass
class Lines:
    """COPY text lines of one village, per table."""

    households: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    incomes: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    # Households in the register (registered or exited) as (id, status, registered year): the ones to pair.
    pairable: list[tuple[str, str, int]] = field(default_factory=list)


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID from the seeded generator (uuid.uuid4 would not repeat from run to run)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _row(values: Sequence[object]) -> str:
    return "\t".join(map(str, values)) + "\n"


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class Registry:
    """Writes the households of one village after another; ID numbers stay distinct within each county."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.births = Births()
        self.id_numbers: IdNumbers | None = None

    def village(self, village: Village) -> Lines:
        if self.id_numbers is None or self.id_numbers.area != village.county_code[:6]:
            self.id_numbers = IdNumbers(village.county_code)
        rng = random.Random(f"{self.seed}:{village.code}")
        lines = Lines()
        for number in range(1, village.households + 1):
            self._household(rng, village, number, lines)
        return lines

    def _household(self, rng: random.Random, village: Village, number: int, lines: Lines) -> None:
        household_id = _uuid(rng)
        status = rng.choice(STATUSES)
        registered = rng.randint(2014, 2019) if status != "applicant" else None
        exited = rng.randint(registered + 1, 2020) if status == "exited" and registered else None
        created_year = registered or 2020
        created_at = f"{created_year}-{rng.randint(3, 11):02d}-{rng.randint(1, 28):02d} 09:00:00+00"
        members = self._members(rng, village, household_id, created_at, lines)
        head_name, size = members
        primary = rng.choice(CAUSES)
        others: list[str] = []
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            other = rng.choice(CAUSES)
            if other != primary and other not in others:
                others.append(other)
        group = f"{rng.randint(1, 8)}组"
        monitoring = status == "exited" and rng.random() < 0.06
        lines.households.append(
            _row((
                household_id, village.code, village.county_code, f"{village.code}{number:04d}", group,
                head_name, f"{village.township_name}{village.name}{group}{rng.randint(1, 120)}号",
                f"1{rng.choice((3, 5, 8, 9))}{rng.randrange(10**9):09d}" if rng.random() < 0.85 else NULL,
                rng.choice(BANKS), f"62{rng.randrange(10**17):017d}",
                "national", rng.choice(ATTRIBUTES), rng.choice(CATEGORIES), primary,
                "[" + ", ".join(f'"{cause}"' for cause in others) + "]",
                f"{rng.randint(35, 160)}.{rng.choice((0, 5))}0", rng.choice(STRUCTURES),
                rng.randint(1965, 2019),
                "A" if rng.random() < 0.7 else "B", T if rng.random() < 0.1 else F, T, rng.choice(FUELS),
                rng.choice(WATERS), status,
                "identification" if status == "applicant" else NULL,
                "applied" if status == "applicant" else NULL,
                "2020-09-01" if status == "applicant" else NULL,
                "unstable_exited" if monitoring else NULL, f"{exited}-12-01" if monitoring else NULL,
                T if status == "registered" and rng.random() < 0.01 else F,
                registered if registered else NULL, exited if exited else NULL, 1, created_at, UPDATED_AT,
            ))
        )  # fmt: skip
        if registered and status in ("registered", "exited"):
            lines.pairable.append((household_id, status, registered))
        self._incomes(rng, village, household_id, status, exited, size, lines)
        if status == "exited" or (status == "registered" and rng.random() < 0.25):
            self._indicators(rng, village, household_id, status, exited, lines)

    def _members(
        self, rng: random.Random, village: Village, household_id: str, created_at: str, lines: Lines
    ) -> tuple[str, int]:
        """Head, spouse, children, a parent or grandchildren: the head's name and the active members."""
        size = int(rng.choice(SIZES))
        head_male = rng.random() < 0.85
        head_year = rng.randint(1945, 1988)
        family = surname(rng)
        people = [("head", head_male, head_year, family)]
        if rng.random() < 0.85:
            people.append(("spouse", not head_male, head_year + rng.randint(-4, 4), surname(rng)))
        while len(people) < size:
            if head_year < 1962 and len(people) >= 3:
                people.append(("grandchild", rng.random() < 0.5, head_year + rng.randint(48, 62), family))
            elif head_year > 1975 and len(people) == 3:
                people.append(("parent", rng.random() < 0.5, head_year - rng.randint(22, 30), family))
            else:
                people.append(("child", rng.random() < 0.5, head_year + rng.randint(21, 36), family))
        assert self.id_numbers is not None
        head_name, active = "", 0
        for relation, is_male, year, person_surname in people:
            person = name(rng, person_surname, is_male=is_male)
            birth = self.births.pick(rng, year)
            is_active = relation == "head" or rng.random() > 0.01
            active += is_active
            head_name = head_name or person
            lines.members.append(_row((
                _uuid(rng), household_id, village.code, person,
                self.id_numbers.next(birth, is_male=is_male), "M" if is_male else "F", birth[1], relation,
                *self._personal(rng, 2020 - year),
                T if is_active else F,
                NULL if is_active else f"2019-{rng.randint(1, 12):02d}-15",
                NULL if is_active else rng.choice(LEFT_REASONS),
                created_at, UPDATED_AT,
            )))  # fmt: skip
        return head_name, active

    @staticmethod
    def _personal(rng: random.Random, age: int) -> tuple[object, ...]:
        """education, schooling, health, labour ability, migrant months, medical and pension insurance."""
        if age < 6:
            education, schooling = "preschool", "preschool" if age >= 3 else "none"
        elif age < 19:
            level = "primary" if age < 13 else "junior" if age < 16 else "senior"
            education = schooling = level
        else:
            era = "old" if age > 55 else "middle" if age > 35 else "young"
            education, schooling = rng.choice(ADULT_EDUCATION[era]), "none"
        health = rng.choice(HEALTH)
        if age < 16:
            return education, schooling, health, "none", NULL, T, F
        if age > 65:
            return education, schooling, health, rng.choice(("weak", "lost", "none")), 0, T, T
        labour = "lost" if health == "disabled" and rng.random() < 0.5 else rng.choice(WORKING_LABOUR)
        months = rng.choice((0, 0, 3, 6, 8, 10, 12)) if labour in ("ordinary", "skilled") else 0
        return education, schooling, health, labour, months, T if rng.random() < 0.98 else F, T

    @staticmethod
    def _incomes(
        rng: random.Random,
        village: Village,
        household_id: str,
        status: str,
        exited: int | None,
        size: int,
        lines: Lines,
    ) -> None:
        years = (
            (2020,) if status == "applicant" else (2018, 2019, 2020) if rng.random() < 0.5 else (2019, 2020)
        )
        for year in years:
            line = POVERTY_LINES[year]
            above = exited is not None and year >= exited
            per_capita = (
                rng.randint(line + 150, line * 2) if above else rng.randint(line * 6 // 10, line - 50)
            )
            net = per_capita * max(size, 1) * 100
            transfer = net * rng.randint(10, 30) // 100
            business = net * rng.randint(10, 35) // 100
            costs = business * rng.randint(20, 40) // 100
            property_ = net * rng.randint(0, 3) // 100
            wage = net - transfer - business - property_ + costs
            lines.incomes.append(_row((
                _uuid(rng), household_id, village.code, year, _yuan(wage), _yuan(business), _yuan(property_),
                _yuan(transfer), _yuan(costs), size, _yuan(net), _yuan(net // max(size, 1)),
                f"{year + 1}-01-10 09:00:00+00", UPDATED_AT,
            )))  # fmt: skip

    @staticmethod
    def _indicators(
        rng: random.Random, village: Village, household_id: str, status: str, exited: int | None, lines: Lines
    ) -> None:
        verified_on = f"{exited or 2020}-{rng.randint(6, 11):02d}-{rng.randint(1, 28):02d}"
        failing = set() if status == "exited" else {rng.choice(("housing", "water", "medical"))}
        for indicator in INDICATORS:
            lines.indicators.append(_row((
                household_id, indicator, village.code, F if indicator in failing else T, verified_on, NULL,
                "驻村工作队", NULL, UPDATED_AT,
            )))  # fmt: skip
