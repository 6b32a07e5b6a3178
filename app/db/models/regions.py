"""The administrative hierarchy (行政区划): one row per region, keyed by its 12-digit code."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, RegionCode, TimestampMixin

REGION_LEVELS = ("national", "province", "prefecture", "county", "township", "village")


class Region(TimestampMixin, Base):
    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint(
            "level IN ('national', 'province', 'prefecture', 'county', 'township', 'village')",
            name="level_known",
        ),
        CheckConstraint("length(code) = 12", name="code_length"),
        Index("ix_regions_parent_code", "parent_code", "code"),
    )

    __scope_column__ = "code"

    code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(RegionCode, ForeignKey("regions.code"))

    # Region-bound tables carry ``region_code``; the region itself is bound to its own code.
    @property
    def region_code(self) -> str:
        return self.code
