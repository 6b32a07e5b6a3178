"""Pure rules of 12-digit region codes.

``PP CC DD TTT VVV``: province, prefecture, county, township, village.

A region's *prefix* is its code without the trailing all-zero groups; its subtree is exactly the codes that
start with that prefix, which on 12-digit codes is the closed range ``prefix000…`` to ``prefix999…``.
The code ``000000000000`` stands for the whole country (prefix ``""``), the root above the provinces.
"""

from __future__ import annotations

import re
from typing import Literal

Level = Literal["national", "province", "prefecture", "county", "township", "village"]

CODE_LENGTH = 12
NATIONAL_CODE = "000000000000"
# (level, end offset of its group in the code)
GROUPS: tuple[tuple[Level, int], ...] = (
    ("province", 2),
    ("prefecture", 4),
    ("county", 6),
    ("township", 9),
    ("village", 12),
)
LEVELS: tuple[Level, ...] = ("national", *(level for level, _ in GROUPS))
_DIGITS = re.compile(r"[0-9]{12}")
_PREFIX_LENGTHS = {0, *(end for _, end in GROUPS)}


class InvalidRegionCode(ValueError):
    pass


def validate_code(code: str) -> str:
    """Return the code if it is well formed, else raise InvalidRegionCode saying why."""
    if not isinstance(code, str) or not _DIGITS.fullmatch(code):
        raise InvalidRegionCode("a region code is exactly 12 digits")
    if code == NATIONAL_CODE:
        return code
    seen_zero_group = False
    start = 0
    for level, end in GROUPS:
        group = code[start:end]
        is_zero = set(group) == {"0"}
        if level == "province" and is_zero:
            raise InvalidRegionCode("the province group (first 2 digits) cannot be 00")
        if seen_zero_group and not is_zero:
            raise InvalidRegionCode(f"the {level} group is set below an empty higher group")
        seen_zero_group = seen_zero_group or is_zero
        start = end
    return code


def is_valid_code(code: str) -> bool:
    try:
        validate_code(code)
    except InvalidRegionCode:
        return False
    return True


def level_of(code: str) -> Level:
    validate_code(code)
    return _level_of_prefix_length(len(region_prefix(code)))


def _level_of_prefix_length(length: int) -> Level:
    if length == 0:
        return "national"
    return next(level for level, end in GROUPS if end == length)


def region_prefix(code: str) -> str:
    """``620522000000`` → ``620522``; ``620522100201`` → itself; the national code → ``""``."""
    prefix = code
    for _, end in reversed(GROUPS):
        start = max((e for _, e in GROUPS if e < end), default=0)
        if set(code[start:end]) == {"0"}:
            prefix = code[:start]
        else:
            break
    return prefix


def code_of_prefix(prefix: str) -> str:
    if len(prefix) not in _PREFIX_LENGTHS:
        raise InvalidRegionCode(f"{prefix!r} is not a region prefix (2, 4, 6, 9 or 12 digits)")
    return validate_code(prefix.ljust(CODE_LENGTH, "0"))


def parent_of(code: str) -> str | None:
    """The code of the region directly above, or None for the national root."""
    prefix = region_prefix(validate_code(code))
    if not prefix:
        return None
    shorter = max(length for length in _PREFIX_LENGTHS if length < len(prefix))
    return prefix[:shorter].ljust(CODE_LENGTH, "0")


def ancestors_of(code: str) -> list[str]:
    """Codes from the national root down to the parent of ``code``."""
    chain: list[str] = []
    parent = parent_of(code)
    while parent is not None:
        chain.append(parent)
        parent = parent_of(parent)
    return list(reversed(chain))


def subtree_bounds(prefix: str) -> tuple[str, str]:
    """The closed range of codes under a prefix: one index range scan with collation "C"."""
    return prefix.ljust(CODE_LENGTH, "0"), prefix.ljust(CODE_LENGTH, "9")


def is_within(code: str, prefix: str) -> bool:
    return code.startswith(prefix)
