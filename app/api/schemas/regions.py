from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.api.schemas.common import ReadModel
from app.domain.regions.codes import Level


class RegionSummary(ReadModel):
    code: str = Field(description="12-digit statistical division code (统计用区划代码)")
    name: str
    level: Level


class RegionRead(RegionSummary):
    region_code: str = Field(description="Same as `code`: the region a region belongs to is itself")
    parent_code: str | None = Field(
        description="Code of the region directly above; null for the national root"
    )
    created_at: datetime
    updated_at: datetime


class RegionDetail(RegionRead):
    ancestors: list[RegionSummary] = Field(description="From the national root down to the parent")


class RegionImportReport(ReadModel):
    created: int
    updated: int = Field(description="Regions whose name changed")
    unchanged: int
