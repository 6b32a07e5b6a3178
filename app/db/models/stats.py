"""Statistics rollups (区域统计): per-village and per-township counts kept current on every write, the
fund flows per region and fiscal year, the lock rows that serialise their refresh, and the rural population
(农村人口) that counties maintain per region and year.

The rollups are derived data: ``fupin stats rebuild`` recomputes all of them from the registry and the ledger
(app/domain/stats/rollups.py keeps them current)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, RegionCode, TimestampMixin

# What a rollup row counts: households (and their active members) per ...
DIMENSIONS = (
    "status",  # every household on record, by status
    "attribute",  # register households (registered or exited) by 贫困户属性
    "cause",  # ... by primary cause (主要致贫原因)
    "category",  # ... by category ("" when not set)
    "monitoring",  # ... by monitoring kind (防返贫监测)
    "exit_year",  # ... by exit year (脱贫年度)
    "return_year",  # county approvals of a return (返贫), by year
    "coverage",  # key "households": register households; key "covered": with an active cadre pairing
)


class VillageRollup(Base):
    """Counts of one village: ``households`` and ``people`` (active members) per dimension and key."""

    __tablename__ = "village_rollups"
    __table_args__ = (CheckConstraint(f"dimension IN {DIMENSIONS!r}", name="dimension_known"),)

    region_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)  # the village
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    households: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)


class TownshipRollup(Base):
    """The same counts summed over a township's villages: what regions above a village read."""

    __tablename__ = "township_rollups"
    __table_args__ = (CheckConstraint(f"dimension IN {DIMENSIONS!r}", name="dimension_known"),)

    region_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)  # the township
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    households: Mapped[int] = mapped_column(BigInteger)
    people: Mapped[int] = mapped_column(BigInteger)


class FundRollup(Base):
    """The fund report's figures of one fiscal year's transfers whose deeper account is in ``region_code``
    and whose other account is in ``other_code``, in fen, counted for a region that holds both accounts
    (``*_inside``) and for one that holds only the deeper one (``*_outside``)."""

    __tablename__ = "fund_rollups"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    other_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    received_inside: Mapped[int] = mapped_column(BigInteger)
    disbursed_inside: Mapped[int] = mapped_column(BigInteger)
    balance_inside: Mapped[int] = mapped_column(BigInteger)
    received_outside: Mapped[int] = mapped_column(BigInteger)
    disbursed_outside: Mapped[int] = mapped_column(BigInteger)
    balance_outside: Mapped[int] = mapped_column(BigInteger)


class RollupLock(Base):
    """One row per rollup unit (``village:<code>``, ``township:<code>``, ``funds:<year>:<code>``): its
    refresh locks the row first, so concurrent refreshes of one unit take turns and the later one sees the
    earlier one's committed writes."""

    __tablename__ = "rollup_locks"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    refreshed_at: Mapped[datetime]


class RuralPopulation(TimestampMixin, Base):
    """农村人口 of a region in a year, as its county keeps it: the denominator of 贫困发生率."""

    __tablename__ = "rural_populations"
    __table_args__ = (
        CheckConstraint("population >= 0", name="population_not_negative"),
        CheckConstraint("year BETWEEN 1980 AND 2100", name="year_range"),
    )

    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    population: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(64))  # subject of who set it
