"""The project library (项目库), fund reports and fund notices: input and output models.

Money in the API is a decimal string in yuan with two places (``"12.34"``); the database keeps integer fen.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.api.schemas.common import InputModel, PatchModel, ReadModel, RegionCodeStr
from app.api.schemas.plans import CATEGORY_DESCRIPTION, Category
from app.db.models.projects import Project
from app.domain.projects.funding import project_accepts_funds

CENT = Decimal("0.01")
Year = Annotated[int, Field(ge=2013, le=2100)]
Yuan = Annotated[
    Decimal,
    Field(
        ge=0, max_digits=14, decimal_places=2, description="Yuan, two decimal places", examples=["1200.00"]
    ),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=4000)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ConstructionType = Literal["new", "expansion", "renovation", "continued", "purchase", "other"]
CONSTRUCTION_DESCRIPTION = (
    "建设性质: 新建 new, 扩建 expansion, 改建 renovation, 续建 continued, 购置 purchase, other"
)
ProjectStatus = Literal["planned", "approved", "under_construction", "completed", "accepted"]
FinancingSource = Literal[
    "central",
    "provincial",
    "prefecture",
    "county",
    "integrated",
    "donation",
    "enterprise_repayment",
    "self_raised",
    "credit",
    "other",
]
SharingBasis = Literal["equal", "by_weight"]


def to_fen(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def to_yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(CENT)


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """A share as a decimal with 4 places (0.0399 = 3.99%), null when the denominator is zero."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


class PerformanceTarget(InputModel):
    """One performance target (绩效目标): an indicator and the value aimed at."""

    kind: Literal["output", "benefit", "satisfaction"] = Field(
        "output", description="产出指标 output, 效益指标 benefit, 满意度指标 satisfaction"
    )
    indicator: Short = Field(examples=["带动贫困户增收"])
    target: Short = Field(examples=["户均年增收 2000 元"])


class FinancingPart(InputModel):
    source: FinancingSource = Field(
        description="中央 central, 省级 provincial, 市级 prefecture, 县级 county, 统筹整合 integrated, 捐赠 "
        "donation, 企业还款 enterprise_repayment, 自筹 self_raised, 信贷 credit, other"
    )
    amount: Yuan


class FinancingPartRead(ReadModel):
    source: str
    amount: Decimal


class ProjectFields(InputModel):
    name: Name | None = None
    category: Category | None = Field(None, description=CATEGORY_DESCRIPTION)
    construction_type: ConstructionType | None = Field(None, description=CONSTRUCTION_DESCRIPTION)
    content: Text | None = Field(None, description="建设内容及规模: what is built, how much")
    location: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="建设地点 beyond the region's name (a group, a site)"
    )
    fiscal_year: Year | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    responsible_unit_id: uuid.UUID | None = Field(
        None, description="A work unit (帮扶单位/责任单位) in your scope or over the project's region"
    )
    responsible_unit_name: Short | None = Field(None, description="责任单位; defaults to the unit's name")
    budget: Yuan | None = Field(None, description="总投资, yuan")
    financing: list[FinancingPart] | None = Field(
        None, max_length=20, description="How it is financed, by source; must add up to the budget"
    )
    performance_targets: list[PerformanceTarget] | None = Field(
        None,
        max_length=50,
        description="绩效目标: at least one (a project without them cannot enter the library: 422 "
        "`project.performance_targets_required`)",
    )
    benefit_mechanism: Text | None = Field(
        None, description="联农带贫机制: how the project benefits poor households"
    )
    income_sharing_basis: SharingBasis | None = Field(
        None, description="分红: shares income out to beneficiaries equally or by their weights"
    )
    expected_annual_income: Yuan | None = Field(
        None, description="Income the project is expected to yield a year"
    )

    def domain_fields(self, *, exclude_unset: bool) -> dict[str, Any]:
        data = self.model_dump(exclude_unset=exclude_unset)
        if "budget" in data:
            budget = data.pop("budget")
            data["budget_fen"] = None if budget is None else to_fen(budget)
        if "expected_annual_income" in data:
            value = data.pop("expected_annual_income")
            data["expected_annual_income_fen"] = None if value is None else to_fen(value)
        if data.get("financing") is not None:
            data["financing"] = [
                {"source": part["source"], "amount_fen": to_fen(part["amount"])} for part in data["financing"]
            ]
        return data


class ProjectCreate(ProjectFields):
    region_code: RegionCodeStr = Field(description="The village or township where the project is built")
    name: Name
    category: Category = Field(description=CATEGORY_DESCRIPTION)
    construction_type: ConstructionType = Field(description=CONSTRUCTION_DESCRIPTION)
    fiscal_year: Year = Field(description="年度: the year the project enters the library for")
    budget: Yuan = Field(description="总投资, yuan")
    performance_targets: list[PerformanceTarget] = Field(
        default_factory=list,
        max_length=50,
        description="绩效目标: at least one (a project without them cannot enter the library: 422 "
        "`project.performance_targets_required`)",
    )


class ProjectUpdate(PatchModel, ProjectFields):
    """Only the fields sent change. Budget, financing, category, construction type and year are fixed once
    the project is approved; an accepted project does not change."""


class ProjectTransition(InputModel):
    status: ProjectStatus = Field(description="The next status: one step forward only")
    on: date | None = Field(
        None, description="The day it happened (start, completion); today if left out; not in the future"
    )
    approval_document: Short | None = Field(None, description="立项批复文号, when approving")


class ProjectRead(ReadModel):
    id: uuid.UUID
    region_code: str = Field(description="The village or township where it is built")
    county_code: str
    fiscal_year: int
    name: str
    category: str
    construction_type: str
    content: str
    location: str | None
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    responsible_unit_id: uuid.UUID | None
    responsible_unit_name: str
    budget: Decimal
    financing: list[FinancingPartRead]
    performance_targets: list[dict[str, Any]]
    benefit_mechanism: str
    status: ProjectStatus
    accepts_funds: bool = Field(description="Whether money may go to it (approved or later)")
    approval_document: str | None
    approved_by: str | None
    approved_at: datetime | None
    accepted_at: datetime | None
    income_sharing_basis: str | None
    expected_annual_income: Decimal | None
    income_shared: Decimal = Field(description="Income shared out (分红) so far, yuan")
    version: int = Field(description="Increases with every change; the ETag carries it")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, project: Project) -> ProjectRead:
        return cls(
            id=project.id,
            region_code=project.region_code,
            county_code=project.county_code,
            fiscal_year=project.fiscal_year,
            name=project.name,
            category=project.category,
            construction_type=project.construction_type,
            content=project.content,
            location=project.location,
            planned_start=project.planned_start,
            planned_end=project.planned_end,
            actual_start=project.actual_start,
            actual_end=project.actual_end,
            responsible_unit_id=project.responsible_unit_id,
            responsible_unit_name=project.responsible_unit_name,
            budget=to_yuan(project.budget_fen) or Decimal("0.00"),
            financing=[
                FinancingPartRead(source=part["source"], amount=to_yuan(part["amount_fen"]) or Decimal(0))
                for part in project.financing
            ],
            performance_targets=project.performance_targets,
            benefit_mechanism=project.benefit_mechanism,
            status=project.status,
            accepts_funds=project_accepts_funds(project),
            approval_document=project.approval_document,
            approved_by=project.approved_by,
            approved_at=project.approved_at,
            accepted_at=project.accepted_at,
            income_sharing_basis=project.income_sharing_basis,
            expected_annual_income=to_yuan(project.expected_annual_income_fen),
            income_shared=to_yuan(project.income_shared_fen) or Decimal("0.00"),
            version=project.version,
            created_at=project.created_at,
            updated_at=project.updated_at,
        )


class BeneficiaryEntry(InputModel):
    household_id: uuid.UUID
    share_weight: int = Field(1, ge=1, le=1000, description="Weight of the household's share of 分红")


class BeneficiariesAdd(InputModel):
    households: list[BeneficiaryEntry] = Field(min_length=1, max_length=500)


class BeneficiariesAdded(ReadModel):
    written: int = Field(description="Households added or whose weight changed")


class BeneficiaryRead(ReadModel):
    household_id: uuid.UUID
    household_number: str = Field(description="户编号 (no names, no ID numbers)")
    region_code: str = Field(description="The household's village")
    household_status: str
    share_weight: int
    added_at: datetime


class IncomeSharingCreate(InputModel):
    amount: Yuan = Field(description="Total to share out now, yuan; split to the fen, the parts add up to it")
    fiscal_year: Year
    document_number: Short = Field(description="文号 of the decision to share income out")
    purpose: Text | None = Field(None, description="Defaults to 「<project> 收益分红」")


class IncomeSharePayment(ReadModel):
    household_id: uuid.UUID
    amount: Decimal
    transfer_id: uuid.UUID
    status: str


class IncomeSharingRead(ReadModel):
    project_id: uuid.UUID
    amount: Decimal
    households: int
    payments: list[IncomeSharePayment]


# Fund report -------------------------------------------------------------------------------------------


class FiguresRead(ReadModel):
    """Amounts in yuan; ratios as decimals with 4 places (0.0399 = 3.99%), null when nothing was received."""

    received: Decimal = Field(description="到位: posted into the unit's pools and projects from outside it")
    allocated_on: Decimal = Field(
        description="下拨: allocated from the unit's own pool to regions or projects below"
    )
    disbursed: Decimal = Field(
        description="支出: paid to households and contractors, less recoveries from them"
    )
    returned: Decimal = Field(description="收回: recovered out of the unit to a pool above")
    sent_down: Decimal = Field(description="Allocated out of the unit (only the region's own level does)")
    reserved: Decimal = Field(description="Held by pending transfers (part of the balance)")
    balance: Decimal = Field(description="结余 = received − sent_down − returned − disbursed")
    balance_ratio: Decimal | None = Field(description="结余率 = balance / received")
    disbursement_progress: Decimal | None = Field(description="支出进度 = disbursed / received")

    @classmethod
    def of(cls, figures: dict[str, Any]) -> FiguresRead:
        return cls(
            **{
                name: value if name in ("balance_ratio", "disbursement_progress") else to_yuan(value)
                for name, value in figures.items()
            }
        )


class ChildFigures(FiguresRead):
    region_code: str
    name: str


class SourceFigures(FiguresRead):
    source: str = Field(
        description="中央 central, 省级 provincial, 市级 prefecture, 县级 county, 统筹整合 integrated, …"
    )


class CategoryFigures(FiguresRead):
    category: str


class FundReportRead(ReadModel):
    region_code: str
    name: str
    fiscal_year: int
    total: FiguresRead
    by_source: list[SourceFigures]
    by_category: list[CategoryFigures]
    own_level: FiguresRead | None = Field(
        description="本级: the region's own pool and projects (not for a village)"
    )
    children: list[ChildFigures] = Field(description="Per child region (every child, zeros included)")


# Fund notices ------------------------------------------------------------------------------------------


class NoticeItemRead(ReadModel):
    name: str = Field(description="项目名称, or the region an allocation goes to")
    place: str = Field(description="建设地点")
    content: str = Field(description="建设内容 or what the money is for")
    amount: Decimal = Field(description="金额, yuan")
    responsible_unit: str = Field(description="责任单位")
    sources: dict[str, Decimal] = Field(
        description="Amount by source (central, provincial, prefecture, …), yuan"
    )


class NoticeRead(ReadModel):
    """A public fund notice (资金公告公示): no personal data, ever."""

    subject: Literal["batch", "project"]
    title: str
    document_number: str | None = Field(description="文号 (of the allocation, or the project's approval)")
    fiscal_year: int | None
    issued_on: date | None
    issuer: str
    region_code: str
    principle: str = Field(
        description="分配原则 (a batch: the purposes of its allocations; a project: 联农带贫机制)"
    )
    sources: dict[str, Decimal] = Field(
        description="资金来源: central (中央), provincial (省级), prefecture (市级), …"
    )
    items: list[NoticeItemRead]
    total: Decimal
    households_paid: int = Field(description="Households paid directly under this document: a count only")
    households_paid_amount: Decimal
    complaint_telephone: str = Field(description="监督举报电话 (region setting `complaint_telephone`)")
    extra: dict[str, Any] = Field(description="A project's status, schedule, targets and beneficiary count")


class PublicationCreate(InputModel):
    subject: Literal["batch", "project"]
    document_number: Short | None = Field(None, description="The batch's 文号 (subject batch)")
    project_id: uuid.UUID | None = Field(None, description="The project (subject project)")
    region_code: RegionCodeStr = Field(description="The region whose notice board shows it")
    published_on: date = Field(
        description="The day it was put up; not in the future, not before it was issued"
    )
    board_location: Short = Field(description="公示栏位置, e.g. 村委会公示栏")
    taken_down_on: date | None = Field(
        None, description="At least `fund_notice_board_min_days` (10) days later"
    )


class PublicationTakeDown(InputModel):
    taken_down_on: date


class PublicationRead(ReadModel):
    id: uuid.UUID
    region_code: str
    subject: str
    document_number: str | None
    project_id: uuid.UUID | None
    published_on: date
    board_location: str
    taken_down_on: date | None
    created_by: str
    created_at: datetime


class OverdueBatchRead(ReadModel):
    document_number: str
    fiscal_year: int
    region_code: str = Field(description="The issuing region")
    issued_on: date
    deadline: date = Field(description="15 working days (Mon–Fri; public holidays not modelled) after issue")
    transfers: int
    amount: Decimal
    published_on: date | None = Field(description="Null: not published; a date: published after the deadline")
