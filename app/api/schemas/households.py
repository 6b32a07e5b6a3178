"""Household registry models: input (``…Create``/``…Update``/``…Write``) and output (``…Read``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas.common import InputModel, PatchModel, ReadModel, RegionCodeStr
from app.domain.households.queries import HouseholdFilter, Sort
from app.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest

Code = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$"), Field(description="Code list entry")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=50)]
IdNumber = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{17}[0-9Xx]$"),
    Field(
        description="身份证号, 18 characters, check digit validated (GB 11643)",
        examples=["620522199001011230"],
    ),
]
HouseholdNumber = Annotated[
    str, StringConstraints(pattern=r"^[0-9A-Za-z-]{1,32}$"), Field(description="户编号")
]
Phone = Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{5,20}$")]
Account = Annotated[str, StringConstraints(pattern=r"^[0-9 ]{6,40}$")]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="Yuan")]
Indicator = Literal["food", "clothing", "education", "medical", "housing", "water"]
Status = Literal["applicant", "registered", "exited", "removed", "rejected"]


class HouseholdQuery(BaseModel):
    """The filters of the household list and of the export, as query parameters."""

    model_config = ConfigDict(frozen=True)

    region: RegionCodeStr | None = Field(None, description="Only this region's subtree")
    status: Status | None = None
    attribute: Code | None = None
    category: Code | None = None
    cause: Code | None = Field(None, description="Primary or other cause")
    monitoring_kind: Code | None = None
    registered_year: int | None = Field(None, ge=1980, le=2100)
    exited_year: int | None = Field(None, ge=1980, le=2100)
    q: str | None = Field(None, min_length=1, max_length=50, description="In head name or number")
    id_number: IdNumber | None = Field(None, description="Exact ID number of any member")
    sort: Sort = Field(
        "region", description="`region`: village then id; `number`: household number within the county"
    )

    def to_filter(self) -> HouseholdFilter:
        return HouseholdFilter(
            region=self.region,
            status=self.status,
            attribute=self.attribute,
            category=self.category,
            cause=self.cause,
            monitoring_kind=self.monitoring_kind,
            registered_year=self.registered_year,
            exited_year=self.exited_year,
            q=self.q,
            id_number=self.id_number,
            sort=self.sort,
        )


class HouseholdListQuery(HouseholdQuery):
    """The household list's query parameters: the filters and the page."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page")
    cursor: str | None = Field(
        None, max_length=1024, description="`next_cursor` of the previous page; omit for the first"
    )

    @property
    def page(self) -> PageRequest:
        return PageRequest(limit=self.limit, cursor=self.cursor)


class MemberFields(InputModel):
    name: Name
    id_number: IdNumber
    relation: Code = Field(description="与户主关系 (code list `relation`; `head` for the head)")
    education: Code | None = Field(None, description="文化程度 (code list `education`)")
    schooling: Code | None = Field(None, description="在校生状况 (code list `schooling`)")
    health: Code | None = Field(None, description="健康状况 (code list `health`)")
    labour_ability: Code | None = Field(None, description="劳动技能 (code list `labour_ability`)")
    migrant_work_months: int | None = Field(None, ge=0, le=12, description="务工时间, months a year")
    has_medical_insurance: bool = Field(False, description="城乡居民基本医疗保险")
    has_pension_insurance: bool = Field(False, description="城乡居民基本养老保险")


class MemberCreate(MemberFields):
    pass


class MemberUpdate(PatchModel):
    name: Name | None = None
    id_number: IdNumber | None = None
    relation: Code | None = None
    education: Code | None = None
    schooling: Code | None = None
    health: Code | None = None
    labour_ability: Code | None = None
    migrant_work_months: int | None = Field(None, ge=0, le=12)
    has_medical_insurance: bool | None = None
    has_pension_insurance: bool | None = None
    is_active: bool | None = Field(None, description="false: the member left the household (never deleted)")
    left_on: date | None = None
    left_reason: Annotated[str, StringConstraints(max_length=100)] | None = None


class MemberRead(ReadModel):
    id: uuid.UUID
    household_id: uuid.UUID
    region_code: str
    name: str
    id_number: str = Field(description="Masked (620522********1234) without the personal-data grant")
    sex: Literal["M", "F"] = Field(description="Derived from the ID number")
    birth_date: date = Field(description="Derived from the ID number")
    relation: str
    education: str | None
    schooling: str | None
    health: str | None
    labour_ability: str | None
    migrant_work_months: int | None
    has_medical_insurance: bool
    has_pension_insurance: bool
    is_active: bool
    left_on: date | None
    left_reason: str | None


class HouseholdFields(InputModel):
    household_number: HouseholdNumber
    group_name: Annotated[str, StringConstraints(max_length=50)] | None = Field(None, description="村民小组")
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Phone | None = None
    bank_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    bank_account: Account | None = Field(None, description="Account for subsidy payments (sensitive)")
    identification_standard: Code = Field(description="识别标准 (code list `identification_standard`)")
    attribute: Code = Field(description="贫困户属性 (code list `attribute`)")
    category: Code | None = Field(None, description="精准扶贫户/政策保障户/巩固提升户 (code list `category`)")
    primary_cause: Code = Field(description="主要致贫原因 (code list `cause`)")
    other_causes: list[Code] = Field(
        default_factory=list, max_length=2, description="At most two other causes"
    )
    housing_area: Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)] | None = Field(
        None, description="Square metres"
    )
    housing_structure: Code | None = None
    housing_year_built: int | None = Field(None, ge=1900, le=2100)
    housing_safety_grade: Literal["A", "B", "C", "D"] | None = Field(
        None, description="住房安全等级: A/B safe, C/D must be rebuilt"
    )
    is_relocated: bool = Field(False, description="易地扶贫搬迁")
    has_electricity: bool | None = None
    fuel: Code | None = None
    drinking_water: Code | None = None


class HouseholdCreate(HouseholdFields):
    """An application (农户申请): the household starts as an applicant in the identification procedure."""

    region_code: RegionCodeStr = Field(description="The household's village")
    members: list[MemberCreate] = Field(
        min_length=1, max_length=30, description="Exactly one with relation head"
    )
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None


class HouseholdUpdate(PatchModel):
    region_code: RegionCodeStr | None = Field(None, description="Move to another village of the same county")
    household_number: HouseholdNumber | None = None
    group_name: Annotated[str, StringConstraints(max_length=50)] | None = None
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Phone | None = None
    bank_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    bank_account: Account | None = None
    identification_standard: Code | None = None
    attribute: Code | None = None
    category: Code | None = None
    primary_cause: Code | None = None
    other_causes: list[Code] | None = Field(None, max_length=2)
    housing_area: Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)] | None = None
    housing_structure: Code | None = None
    housing_year_built: int | None = Field(None, ge=1900, le=2100)
    housing_safety_grade: Literal["A", "B", "C", "D"] | None = None
    is_relocated: bool | None = None
    has_electricity: bool | None = None
    fuel: Code | None = None
    drinking_water: Code | None = None


class HouseholdSummary(ReadModel):
    """A row of the household list: no personal data."""

    id: uuid.UUID
    region_code: str
    county_code: str
    household_number: str
    group_name: str | None
    head_name: str
    status: Status
    attribute: str
    category: str | None
    primary_cause: str
    other_causes: list[str]
    monitoring_kind: str | None
    procedure: str | None = Field(description="Procedure under way: identification, exit, return, removal, …")
    procedure_step: str | None
    registered_year: int | None
    exited_year: int | None
    version: int
    updated_at: datetime


class HouseholdRead(ReadModel):
    id: uuid.UUID
    region_code: str
    county_code: str
    household_number: str
    group_name: str | None
    head_name: str
    address: str | None
    phone: str | None = Field(description="Masked without the personal-data grant")
    bank_name: str | None
    bank_account: str | None = Field(description="Masked without the personal-data grant")
    identification_standard: str
    attribute: str
    category: str | None
    primary_cause: str
    other_causes: list[str]
    housing_area: Decimal | None
    housing_structure: str | None
    housing_year_built: int | None
    housing_safety_grade: str | None
    is_relocated: bool
    has_electricity: bool | None
    fuel: str | None
    drinking_water: str | None
    status: Status
    procedure: str | None
    procedure_step: str | None
    procedure_started_on: date | None
    monitoring_kind: str | None
    monitoring_since: date | None
    has_returned_to_poverty: bool = Field(description="返贫: registered again after an exit")
    registered_year: int | None
    exited_year: int | None
    version: int = Field(description="Increases with every change; the ETag carries it")
    created_at: datetime
    updated_at: datetime
    members: list[MemberRead]


class IncomeWrite(InputModel):
    wage_income: Money = Field(description="工资性收入")
    business_income: Money = Field(description="家庭经营性收入")
    property_income: Money = Field(description="财产性收入")
    transfer_income: Money = Field(description="转移性收入")
    production_costs: Money = Field(description="生产经营性支出")


class IncomeRead(ReadModel):
    household_id: uuid.UUID
    region_code: str
    year: int
    wage_income: Decimal
    business_income: Decimal
    property_income: Decimal
    transfer_income: Decimal
    production_costs: Decimal
    household_size: int = Field(description="Active members when the income was recorded")
    net_income: Decimal = Field(description="纯收入 = the four parts − production costs (computed)")
    per_capita_net_income: Decimal = Field(description="人均纯收入 = net income / members (computed)")
    updated_at: datetime


class IndicatorWrite(InputModel):
    holds: bool
    verified_on: date
    note: Annotated[str, StringConstraints(max_length=200)] | None = None


class IndicatorRead(ReadModel):
    household_id: uuid.UUID
    region_code: str
    indicator: Indicator = Field(description="不愁吃, 不愁穿, 义务教育, 基本医疗, 住房安全, 饮水安全")
    holds: bool
    verified_on: date
    verified_by_name: str
    note: str | None
    updated_at: datetime
