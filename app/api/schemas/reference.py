"""Reference data models: code list entries, poverty lines, per-region settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.api.schemas.common import InputModel, PatchModel, ReadModel, RegionCodeStr

ListName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Year = Annotated[int, Field(ge=1980, le=2100)]


class CodeEntryCreate(InputModel):
    list_name: ListName
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    label: Label
    region_code: RegionCodeStr = Field(description="Where the entry applies (with its subtree)")
    valid_from: Year | None = None
    valid_to: Year | None = None
    sort_order: int = Field(100, ge=0, le=10_000)
    is_active: bool = Field(True, description="false retires an inherited entry in this region")


class CodeEntryUpdate(PatchModel):
    label: Label | None = None
    valid_from: Year | None = None
    valid_to: Year | None = None
    sort_order: int | None = Field(None, ge=0, le=10_000)
    is_active: bool | None = None


class CodeEntryRead(ReadModel):
    id: int
    list_name: str
    code: str
    label: str
    region_code: str = Field(description="000000000000 for the national defaults")
    valid_from: int | None
    valid_to: int | None
    sort_order: int
    is_active: bool
    updated_at: datetime


class PovertyLineWrite(InputModel):
    region_code: RegionCodeStr
    year: Year
    standard: Annotated[str, StringConstraints(pattern=r"^(national|provincial|prefecture)$")]
    amount: Annotated[
        Decimal, Field(gt=0, max_digits=12, decimal_places=2, description="Yuan per person a year")
    ]


class PovertyLineRead(ReadModel):
    region_code: str
    year: int
    standard: str
    amount: Decimal
    updated_at: datetime


class SettingWrite(InputModel):
    value: Any = Field(description="An integer number of days for the settings known today")


class SettingRead(ReadModel):
    region_code: str
    key: str
    value: Any
