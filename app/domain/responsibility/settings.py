"""The responsibility rules as per-region settings (RegionSetting), with the seeds' values as defaults.

Registered into :data:`app.domain.reference.service.SETTINGS`, so they are read and set through
``/api/v1/regions/{code}/settings`` like every other setting; what applies to a region is the most specific
value among the region and its ancestors. For set-based reports, :func:`SettingResolver.sql` turns the few
values set inside a subtree into one SQL ``CASE`` over a region-code column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, literal
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import RegionSetting
from app.domain.principal import Principal
from app.domain.reference.service import SETTINGS, SettingSpec, setting
from app.domain.regions import codes
from app.domain.scope import readable_reference, within_prefix

RANKS = ("county_leader", "section", "general", "village")
ENTERPRISE_CLASSES = ("1", "2", "3", "4")
POOR_VILLAGE_VALUES = ("derived", "poor", "not_poor")

FIRST_SECRETARY_REQUIRED = "first_secretary_required"
WORK_TEAM_REQUIRED = "work_team_required"
MAX_PAIRINGS_NOT_EXITED = "max_pairings_not_exited"
MAX_PAIRINGS_EXITED = "max_pairings_exited"
QUOTA_BY_RANK = "pairing_quota_by_rank"
QUOTA_BY_ENTERPRISE_CLASS = "pairing_quota_by_enterprise_class"
KEEP_TEAM_UNTIL_EXIT = "keep_team_until_village_exits"
POOR_VILLAGE = "poor_village"


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _int(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: _is_int(value, low, high)


def _quotas(keys: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda value: (
        isinstance(value, dict)
        and set(value) == set(keys)
        and all(_is_int(v, 0, 10_000) for v in value.values())
    )


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


RESPONSIBILITY_SETTINGS: dict[str, SettingSpec] = {
    FIRST_SECRETARY_REQUIRED: SettingSpec(
        True, "Whether every poor village needs a first secretary (第一书记): true or false", _is_bool
    ),
    WORK_TEAM_REQUIRED: SettingSpec(
        True, "Whether every poor village needs a work team (驻村工作队): true or false", _is_bool
    ),
    MAX_PAIRINGS_NOT_EXITED: SettingSpec(
        1, "Active cadre pairings a household not out of poverty may have (1-to-1: 1)", _int(1, 10)
    ),
    MAX_PAIRINGS_EXITED: SettingSpec(
        2, "Active cadre pairings an exited household may have (1-to-2: 2)", _int(1, 10)
    ),
    QUOTA_BY_RANK: SettingSpec(
        {"county_leader": 10, "section": 8, "general": 6, "village": 2},
        "Households each cadre should be paired with, by rank: an object with the keys " + ", ".join(RANKS),
        _quotas(RANKS),
    ),
    QUOTA_BY_ENTERPRISE_CLASS: SettingSpec(
        {"1": 80, "2": 30, "3": 10, "4": 5},
        'Households each enterprise should be paired with, by class: an object with the keys "1" to "4"',
        _quotas(ENTERPRISE_CLASSES),
    ),
    KEEP_TEAM_UNTIL_EXIT: SettingSpec(
        True,
        "Whether a poor village's first secretary and work team stay until the village is out of poverty "
        "(ending needs a successor): true or false",
        _is_bool,
    ),
    POOR_VILLAGE: SettingSpec(
        "derived",
        "Whether villages count as poor (贫困村): derived (a village with a registered household), "
        "poor or not_poor",
        lambda value: value in POOR_VILLAGE_VALUES,
    ),
}
SETTINGS.update(RESPONSIBILITY_SETTINGS)


async def value_for(session: AsyncSession, region_code: str, key: str) -> Any:
    """The value that applies to one region."""
    return await setting(session, region_code, key)


@dataclass(frozen=True)
class SettingResolver:
    """The values of one setting that matter inside a subtree: (prefix, value), most specific first,
    ending with the default."""

    key: str
    values: list[tuple[str, Any]]

    @property
    def is_uniform(self) -> bool:
        return len(self.values) == 1

    @property
    def default(self) -> Any:
        return self.values[-1][1]

    def sql(self, column: Any, render: Callable[[Any], ColumnElement[Any]]) -> ColumnElement[Any]:
        """A SQL expression giving, for the region code in ``column``, ``render(value)`` of the value
        that applies there (a constant when one value applies to the whole subtree)."""
        if self.is_uniform:
            return render(self.default)
        whens = [(within_prefix(column, prefix), render(value)) for prefix, value in self.values[:-1]]
        return case(*whens, else_=render(self.default))


async def resolver(
    session: AsyncSession, principal: Principal, region_code: str, key: str
) -> SettingResolver:
    """The values of ``key`` that apply anywhere in the subtree of ``region_code`` (in the caller's
    scope): those set at the region or above it, and those set inside it."""
    prefix = codes.region_prefix(region_code)
    rows = (
        await session.scalars(readable_reference(RegionSetting, principal).where(RegionSetting.key == key))
    ).all()
    above = [row for row in rows if codes.is_within(region_code, codes.region_prefix(row.region_code))]
    inside = [
        row for row in rows if codes.is_within(row.region_code, prefix) and row.region_code != region_code
    ]
    default = (
        max(above, key=lambda row: len(codes.region_prefix(row.region_code))).value
        if above
        else SETTINGS[key].default
    )
    overrides = sorted(inside, key=lambda row: -len(codes.region_prefix(row.region_code)))
    return SettingResolver(
        key, [(codes.region_prefix(row.region_code), row.value) for row in overrides] + [("", default)]
    )


def constant(value: Any) -> ColumnElement[Any]:
    return literal(value)
