"""Assistance plans, measures, visits and the five-coverages report: input and output models."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.api.schemas.common import InputModel, PatchModel, ReadModel

Year = Annotated[int, Field(ge=2013, le=2100)]
Yuan = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="Yuan")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Category = Literal[
    "industry",
    "employment",
    "education",
    "health",
    "social_security",
    "house_renovation",
    "relocation",
    "ecology",
    "infrastructure",
    "village_renovation",
    "photovoltaic",
    "microcredit",
]
CATEGORY_DESCRIPTION = (
    "产业 industry, 就业 employment, 教育 education, 健康 health, 社会保障兜底 social_security, "
    "安居: 危房改造 house_renovation and 易地搬迁 relocation, 生态 ecology, 基础设施 infrastructure, "
    "村庄整治 village_renovation, 光伏 photovoltaic, 金融/小额信贷 microcredit"
)
MeasureStatus = Literal["planned", "in_progress", "done", "cancelled"]
VisitKind = Literal["visit", "work_log"]


class PlanCreate(InputModel):
    year: Year = Field(description="The plan's year; one plan per household and year")
    goal_income: Yuan | None = Field(
        None, description="Target per-capita net income (人均纯收入) for the year"
    )
    planned_exit_year: Year | None = Field(None, description="计划脱贫年度, not before the plan's year")
    notes: Text | None = None


class PlanUpdate(PatchModel):
    goal_income: Yuan | None = None
    planned_exit_year: Year | None = None
    notes: Text | None = None


class MeasureRead(ReadModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    household_id: uuid.UUID
    region_code: str = Field(description="The household's village")
    year: int = Field(description="The plan's year")
    category: Category = Field(description=CATEGORY_DESCRIPTION)
    description: str
    responsible_cadre_id: uuid.UUID | None
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    status: MeasureStatus
    expected_benefit: Decimal | None
    actual_benefit: Decimal | None
    project_ref: str | None = Field(description="The project (项目库) paying for it, when known")
    fund_transfer_ref: str | None = Field(description="The fund transfer paying for it, when known")
    version: int
    created_at: datetime
    updated_at: datetime


class PlanRead(ReadModel):
    id: uuid.UUID
    household_id: uuid.UUID
    region_code: str = Field(description="The household's village")
    year: int
    goal_income: Decimal | None
    planned_exit_year: int | None
    notes: str | None
    version: int = Field(description="Increases with every change; the ETag carries it")
    created_at: datetime
    updated_at: datetime


class PlanWithMeasures(PlanRead):
    measures: list[MeasureRead]


class MeasureCreate(InputModel):
    category: Category = Field(description=CATEGORY_DESCRIPTION)
    description: Text
    responsible_cadre_id: uuid.UUID | None = Field(
        None, description="An active cadre working in your scope or over the household's village"
    )
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = Field(None, description="Only once in progress or done; not in the future")
    actual_end: date | None = Field(None, description="Only when done; not in the future")
    status: Literal["planned", "in_progress", "done"] = Field(
        "planned", description="A measure already under way or finished may be recorded as such"
    )
    expected_benefit: Yuan | None = None
    actual_benefit: Yuan | None = Field(None, description="Only once in progress or done")
    project_ref: Reference | None = None
    fund_transfer_ref: Reference | None = None


class MeasureUpdate(PatchModel):
    category: Category | None = None
    description: Text | None = None
    responsible_cadre_id: uuid.UUID | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    status: MeasureStatus | None = Field(
        None,
        description="planned → in_progress → done, or cancelled from planned or in progress; done and "
        "cancelled are final. Starting dates `actual_start` today, finishing dates `actual_end` today, "
        "unless given.",
    )
    expected_benefit: Yuan | None = None
    actual_benefit: Yuan | None = None
    project_ref: Reference | None = None
    fund_transfer_ref: Reference | None = None


class VisitCreate(InputModel):
    household_id: uuid.UUID
    cadre_id: uuid.UUID = Field(description="An active cadre working in your scope or over the household")
    visited_on: date = Field(description="Not in the future")
    kind: VisitKind = Field("visit", description="visit 走访 or work_log 工作日志")
    content: Text = Field(description="What was done")


class VisitRead(ReadModel):
    id: uuid.UUID
    region_code: str = Field(description="The household's village")
    household_id: uuid.UUID
    cadre_id: uuid.UUID
    visited_on: date
    kind: VisitKind
    content: str
    created_by_name: str = Field(description="Who recorded it")
    created_at: datetime


class MonthCount(ReadModel):
    month: str = Field(description="YYYY-MM")
    visits: int
    work_logs: int
    households: int = Field(description="Distinct households visited or logged")


class VisitCountRead(ReadModel):
    region_code: str | None = Field(None, description="The village (by=village)")
    village_name: str | None = None
    cadre_id: uuid.UUID | None = Field(None, description="The cadre (by=cadre)")
    cadre_name: str | None = None
    visits: int
    work_logs: int
    months: list[MonthCount] = Field(description="Months with at least one entry")


class CoverageCount(ReadModel):
    eligible: int
    lacking: int


class CoverageCounts(ReadModel):
    education: CoverageCount = Field(description="教育资助")
    medical_insurance: CoverageCount = Field(description="医疗保险")
    house_renovation: CoverageCount = Field(description="危房改造")
    employment: CoverageCount = Field(description="就业创业")
    photovoltaic: CoverageCount = Field(description="光伏收益")


class CoverageRegion(ReadModel):
    region_code: str
    name: str
    households: int = Field(description="Households in the population")
    coverages: CoverageCounts


class CoverageReport(ReadModel):
    region_code: str
    name: str
    year: int
    include_exited: bool
    households: int
    coverages: CoverageCounts
    children: list[CoverageRegion] = Field(description="One per child region (none below a village)")


class LackingHousehold(ReadModel):
    id: uuid.UUID
    region_code: str
    household_number: str
    head_name: str
    status: str
    housing_safety_grade: str | None
