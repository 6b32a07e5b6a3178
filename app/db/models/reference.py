"""Reference data that varies by year and by place: code lists, poverty lines and per-region settings.

Each row belongs to a region: defaults to the national root, local additions to a province or county.
What applies to a record is the most specific row among the record's region and its ancestors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JsonDocument, RegionCode, TimestampMixin


class CodeEntry(TimestampMixin, Base):
    """One entry of a code list (致贫原因, 贫困户属性, 与户主关系, 文化程度, …), valid for a span of years."""

    __tablename__ = "code_entries"
    __table_args__ = (
        UniqueConstraint("list_name", "code", "region_code"),
        Index("ix_code_entries_region_code_list_name", "region_code", "list_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(RegionCode)
    valid_from: Mapped[int | None] = mapped_column(comment="First year the entry applies (inclusive)")
    valid_to: Mapped[int | None] = mapped_column(comment="Last year the entry applies (inclusive)")
    sort_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class PovertyLine(TimestampMixin, Base):
    """The poverty line (贫困线) in yuan per person per year, for a year and an identification standard."""

    __tablename__ = "poverty_lines"
    __table_args__ = (
        UniqueConstraint("region_code", "year", "standard"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode)
    year: Mapped[int]
    standard: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class RegionSetting(TimestampMixin, Base):
    """A local policy value (publicity period, quotas, thresholds) set for a region and its subtree."""

    __tablename__ = "region_settings"

    region_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JsonDocument)
