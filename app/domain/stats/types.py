"""The figures of a region's statistics (区域统计) as plain frozen dataclasses: what REST and GraphQL show.

Definitions (README, "Region statistics"):

* **households / people**: households in the register (建档立卡: status ``registered`` or ``exited``) in the
  region's subtree and their active members; the ``by_*`` and ``monitoring`` buckets count those households;
  ``by_status`` counts every household on record (applicants, removed and rejected ones included);
* **poor**: registered households not yet out of poverty (status ``registered``) and their people;
* **poverty incidence** (贫困发生率) = poor people / rural population (农村人口) of the region for the year,
  as the county maintains it; None when no population is on record;
* **exits** (脱贫) per year: register households by their exit year (脱贫年度); **returns** (返贫) per year:
  county approvals of a return, by the year they were approved; people are the households' members now;
* **coverage** (责任覆盖): register households, and those with an active cadre pairing (结对帮扶干部);
* **funds** (资金): the fund report's received, disbursed, balance and balance ratio (结余率) of the region's
  subtree for the fiscal year (app/domain/funds/reports.py), in yuan; None when the caller may not read funds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Count:
    """One bucket: a status, attribute, cause, category or monitoring kind (its code-list key)."""

    key: str
    households: int
    people: int


@dataclass(frozen=True, slots=True)
class YearCount:
    year: int
    households: int
    people: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """责任覆盖: register households that need a responsible person, and those that have one."""

    households: int  # registered or exited: each needs a responsible person
    covered: int  # with at least one active cadre pairing
    uncovered: int
    ratio: float | None  # covered / households, None when there are none


@dataclass(frozen=True, slots=True)
class FundFigures:
    """Money of the fiscal year in the region's subtree, in yuan (2 places)."""

    received: Decimal
    disbursed: Decimal
    balance: Decimal
    balance_ratio: float | None  # 结余率 = balance / received, None when nothing was received


@dataclass(frozen=True, slots=True)
class RegionStats:
    region_code: str
    year: int
    households: int  # register (建档立卡) households in the subtree: registered or exited
    people: int  # their active members
    by_status: tuple[Count, ...]  # every household on record, by status
    by_attribute: tuple[Count, ...]  # 贫困户属性
    by_cause: tuple[Count, ...]  # 主要致贫原因
    by_category: tuple[Count, ...]  # 精准扶贫户 / 政策保障户 / 巩固提升户; key "" when not set
    poor_households: int  # registered, not yet out of poverty
    poor_people: int
    rural_population: int | None  # 农村人口 of the region for the year, maintained by counties
    poverty_incidence: float | None  # 贫困发生率 = poor_people / rural_population
    exits: tuple[YearCount, ...]  # 脱贫 per exit year, ascending
    returns: tuple[YearCount, ...]  # 返贫 per year of approval, ascending
    monitoring: tuple[Count, ...]  # 防返贫监测, by monitoring kind
    coverage: Coverage
    funds: FundFigures | None  # None when the caller may not read funds
