"""Resident identity numbers (居民身份证号码, GB 11643-1999): 18 characters, the last an ISO 7064 MOD 11-2
check character; the birth date and sex are part of the number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidIdNumber(ValueError):
    pass


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    sex: str  # "M" or "F"


def check_character(first17: str) -> str:
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate and normalise (a lowercase ``x`` becomes ``X``); raise InvalidIdNumber saying why."""
    value = raw.strip().upper()
    if not _SHAPE.fullmatch(value):
        raise InvalidIdNumber("an ID number is 17 digits and a final digit or X")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("the check character does not match (GB 11643, ISO 7064 MOD 11-2)")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber("the birth date inside the number is not a date") from None
    if birth.year < 1880 or birth > (today or date.today()):
        raise InvalidIdNumber("the birth date inside the number is out of range")
    return IdNumber(value, birth, "M" if int(value[16]) % 2 else "F")


def mask_id_number(value: str) -> str:
    """``620522********1234``: region digits and the last four stay, birth date and sequence go."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_account(value: str) -> str:
    return "*" * max(len(value) - 4, 0) + value[-4:]
