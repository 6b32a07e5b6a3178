"""Synthetic people: Chinese names and resident identity numbers (GB 11643) that are valid and all distinct.

An ID number is the county's 6-digit code, the birth date, a 3-digit sequence whose last digit is odd for men
and even for women, and the ISO 7064 MOD 11-2 check character. Distinctness comes from the sequence: within
a county, each (birth date, sex) takes the next free sequence number, so no two people ever share one.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from app.domain.households.idnumbers import check_character

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# Surnames of Gansu in rough order of frequency, each with a weight.
SURNAMES = (
    ("王", 9), ("李", 8), ("张", 8), ("刘", 6), ("马", 6), ("杨", 5), ("赵", 4), ("陈", 4), ("何", 3),
    ("郭", 3), ("魏", 3), ("牛", 2), ("苏", 2), ("安", 2), ("董", 2), ("孙", 2), ("田", 2), ("高", 2),
    ("周", 2), ("吴", 2), ("徐", 2), ("朱", 2), ("胡", 2), ("罗", 2), ("梁", 2), ("宋", 2), ("谢", 1),
    ("韩", 1), ("唐", 1), ("冯", 1), ("董", 1), ("程", 1), ("曹", 1), ("袁", 1), ("许", 1), ("蒲", 1),
    ("雷", 1), ("汪", 1), ("祁", 1), ("冉", 1), ("邓", 1), ("石", 1), ("包", 1), ("党", 1), ("巩", 1),
)  # fmt: skip
MALE_GIVEN = "建国军明伟强军平红华志刚海东林峰斌勇涛杰鹏辉文成德福贵生祥忠宝玉龙虎山兴旺学"
FEMALE_GIVEN = "秀英兰芳霞梅丽娟琴花桂玲凤珍艳燕萍红莉娜静慧淑云翠香巧玉彩霞月蓉雪婷"

_SURNAME_POOL = [name for name, weight in SURNAMES for _ in range(weight)]
_SEQUENCE_SUMS = [
    sum(int(d) * w for d, w in zip(f"{s:03d}", _WEIGHTS[14:], strict=True)) for s in range(1000)
]


def name(rng: random.Random, surname: str, *, is_male: bool) -> str:
    chars = MALE_GIVEN if is_male else FEMALE_GIVEN
    if rng.random() < 0.3:
        return surname + rng.choice(chars)
    return surname + rng.choice(chars) + rng.choice(chars)


def surname(rng: random.Random) -> str:
    return rng.choice(_SURNAME_POOL)


class Births:
    """Every day from 1915 to 2020 as (YYYYMMDD, ISO date, weighted digit sum for the check character)."""

    def __init__(self, first_year: int = 1915, last_year: int = 2020) -> None:
        self.by_year: dict[int, list[tuple[str, str, int]]] = {}
        day = date(first_year, 1, 1)
        while day.year <= last_year:
            compact = day.strftime("%Y%m%d")
            weighted = sum(int(d) * w for d, w in zip(compact, _WEIGHTS[6:14], strict=True))
            self.by_year.setdefault(day.year, []).append((compact, day.isoformat(), weighted))
            day += timedelta(days=1)

    def pick(self, rng: random.Random, year: int) -> tuple[str, str, int]:
        days = self.by_year[max(min(year, 2020), 1915)]
        return days[int(rng.random() * len(days))]


class IdNumbers:
    """Hands out distinct, valid ID numbers within one county (a new county: a new instance)."""

    def __init__(self, county_code: str) -> None:
        self.area = county_code[:6]
        self.area_sum = sum(int(d) * w for d, w in zip(self.area, _WEIGHTS[:6], strict=True))
        self.taken: dict[tuple[str, bool], int] = {}

    def next(self, birth: tuple[str, str, int], *, is_male: bool) -> str:
        compact, _, weighted = birth
        count = self.taken.get((compact, is_male), 0)
        if count == 500:
            raise OverflowError(f"more than 500 people of one sex born on {compact} in {self.area}")
        self.taken[(compact, is_male)] = count + 1
        sequence = 2 * count + is_male  # odd for men, even for women
        check = _CHECK[(self.area_sum + weighted + _SEQUENCE_SUMS[sequence]) % 11]
        return f"{self.area}{compact}{sequence:03d}{check}"


def _self_check() -> None:
    """The precomputed sums give the same check character as the application's own validator."""
    numbers = IdNumbers("620102000000")
    births = Births(1990, 1990)
    for is_male in (True, False):
        value = numbers.next(births.by_year[1990][100], is_male=is_male)
        assert value[17] == check_character(value[:17]), value


_self_check()
