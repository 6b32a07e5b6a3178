"""The project library (项目库): ``projects`` (the filters of ``GET /projects``), ``project(id)``, each with
its beneficiary households (带贫户, a connection; numbers only, no personal data), its responsible unit and
its fund account. Money in yuan as decimal strings with two places, as REST shows it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from pydantic import Field
from sqlalchemy import Row

from app.api.schemas.common import RegionCodeStr
from app.api.schemas.plans import Category
from app.api.schemas.projects import ProjectStatus, to_yuan
from app.domain.errors import NotFound
from app.domain.pagination import Page, PageRequest
from app.domain.projects import batches
from app.domain.projects.rules import FUNDABLE_STATUSES
from app.domain.projects.service import PROJECT_KEYS, ProjectFilter
from app.graphql.connections import (
    AFTER_DESCRIPTION,
    DEFAULT_FIRST,
    FIRST_DESCRIPTION,
    Connection,
    page_request,
)
from app.graphql.context import GraphQLContext, Info
from app.graphql.types.households import Household
from app.graphql.types.regions import Region
from app.graphql.types.responsibility import WorkUnit, load_household, load_region, load_unit
from app.graphql.types.support import attributes, checked

if TYPE_CHECKING:
    from app.graphql.types.funds import FundAccount

STATUSES = "planned, approved (批复), under_construction (开工), completed (完工), accepted (验收)"

# DataLoader batch functions ------------------------------------------------------------------------------


async def project_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await batches.projects_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def beneficiary_pages(
    context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, int, str | None]]
) -> list[Page[dict[str, Any]]]:
    """Keyed by (project id, first, after): one statement per distinct page asked for."""
    result: dict[tuple[uuid.UUID, int, str | None], Page[dict[str, Any]]] = {}
    for first, after in {(first, after) for _, first, after in keys}:
        ids = [project_id for project_id, f, a in keys if (f, a) == (first, after)]
        found = await batches.beneficiary_pages(
            context.session, context.principal, ids, PageRequest(limit=first, cursor=after)
        )
        result.update({(project_id, first, after): page for project_id, page in found.items()})
    return [result[key] for key in keys]


async def beneficiary_counts(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[int]:
    found = await batches.count_beneficiaries(context.session, context.principal, keys)
    return [found.get(key, 0) for key in keys]


async def projects_of_household(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await batches.projects_of_households(context.session, context.principal, keys)
    return [found[key] for key in keys]


# Types --------------------------------------------------------------------------------------------------


@strawberry.type(description="How much of the budget a source finances")
class FinancingPart:
    source: str = strawberry.field(description="central, provincial, prefecture, county, integrated, …")
    amount: Decimal = strawberry.field(description="Yuan")


@strawberry.type(description="A performance target (绩效目标)")
class PerformanceTarget:
    kind: str = strawberry.field(description="产出指标 output, 效益指标 benefit, 满意度指标 satisfaction")
    indicator: str
    target: str


@strawberry.type(description="A beneficiary household of a project (带贫户): no names, no ID numbers")
class Beneficiary:
    household_id: uuid.UUID
    household_number: str = strawberry.field(description="户编号")
    region_code: str = strawberry.field(description="The household's village")
    household_status: str
    share_weight: int = strawberry.field(description="Weight of the household's share of 分红")
    added_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Beneficiary:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="The household")
    async def household(self, info: Info) -> Household | None:
        return await load_household(info, self.household_id)


@strawberry.type(description="A project of the library (项目库)")
class Project:
    id: uuid.UUID
    region_code: str = strawberry.field(description="The village or township where it is built")
    county_code: str
    fiscal_year: int = strawberry.field(description="年度")
    name: str
    category: str
    construction_type: str = strawberry.field(description="建设性质: new, expansion, renovation, …")
    content: str = strawberry.field(description="建设内容及规模")
    location: str | None = strawberry.field(description="建设地点 beyond the region's name")
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    responsible_unit_id: uuid.UUID | None
    responsible_unit_name: str = strawberry.field(description="责任单位")
    budget: Decimal = strawberry.field(description="总投资, yuan")
    financing: list[FinancingPart] = strawberry.field(description="How it is financed, by source")
    performance_targets: list[PerformanceTarget] = strawberry.field(description="绩效目标")
    benefit_mechanism: str = strawberry.field(description="联农带贫机制")
    status: str = strawberry.field(description=STATUSES)
    accepts_funds: bool = strawberry.field(description="Whether money may go to it (approved or later)")
    approval_document: str | None = strawberry.field(description="立项批复文号")
    approved_by: str | None
    approved_at: datetime | None
    accepted_at: datetime | None
    income_sharing_basis: str | None = strawberry.field(description="分红: equal or by_weight")
    expected_annual_income: Decimal | None = strawberry.field(description="Yuan a year")
    income_shared: Decimal = strawberry.field(description="Income shared out (分红) so far, yuan")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Project:
        row = attributes(row)
        return cls(
            id=row.id,
            region_code=row.region_code,
            county_code=row.county_code,
            fiscal_year=row.fiscal_year,
            name=row.name,
            category=row.category,
            construction_type=row.construction_type,
            content=row.content,
            location=row.location,
            planned_start=row.planned_start,
            planned_end=row.planned_end,
            actual_start=row.actual_start,
            actual_end=row.actual_end,
            responsible_unit_id=row.responsible_unit_id,
            responsible_unit_name=row.responsible_unit_name,
            budget=to_yuan(row.budget_fen) or Decimal("0.00"),
            financing=[
                FinancingPart(source=part["source"], amount=to_yuan(part["amount_fen"]) or Decimal("0.00"))
                for part in row.financing
            ],
            performance_targets=[
                PerformanceTarget(
                    kind=target.get("kind", "output"), indicator=target["indicator"], target=target["target"]
                )
                for target in row.performance_targets
            ],
            benefit_mechanism=row.benefit_mechanism,
            status=row.status,
            accepts_funds=row.status in FUNDABLE_STATUSES,
            approval_document=row.approval_document,
            approved_by=row.approved_by,
            approved_at=row.approved_at,
            accepted_at=row.accepted_at,
            income_sharing_basis=row.income_sharing_basis,
            expected_annual_income=to_yuan(row.expected_annual_income_fen),
            income_shared=to_yuan(row.income_shared_fen) or Decimal("0.00"),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The village or township")
    async def region(self, info: Info) -> Region | None:
        return await load_region(info, self.region_code)

    @strawberry.field(description="The responsible unit, when you can see it")
    async def responsible_unit(self, info: Info) -> WorkUnit | None:
        return await load_unit(info, self.responsible_unit_id)

    @strawberry.field(description="Beneficiary households you can see (带贫户), by household id")
    async def beneficiaries(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_FIRST,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Beneficiary]:
        request = page_request(first, after)
        page = await info.context.loader(beneficiary_pages).load((self.id, request.limit, request.cursor))

        async def count() -> int:
            return int(await info.context.loader(beneficiary_counts).load(self.id))

        return Connection.of(
            page, batches.BENEFICIARY_KEYS, lambda row: Beneficiary.from_row(attributes(row)), count
        )

    @strawberry.field(description="The project's fund account, once money has been moved for it")
    async def account(
        self, info: Info
    ) -> Annotated[FundAccount, strawberry.lazy("app.graphql.types.funds")] | None:
        from app.graphql.types.funds import FundAccount, accounts_of_project

        rows = await info.context.loader(accounts_of_project).load(self.id)
        return FundAccount.from_row(rows[0]) if rows else None


async def household_projects(info: Info, household_id: uuid.UUID) -> list[Project]:
    """The projects a household benefits from (a link from the household)."""
    return [
        Project.from_row(row) for row in await info.context.loader(projects_of_household).load(household_id)
    ]


# Root fields --------------------------------------------------------------------------------------------


@strawberry.input(description="The project list's filters (the same as GET /api/v1/projects)")
class ProjectFilterInput:
    region: str | None = strawberry.field(default=None, description="Only this subtree (in your scope)")
    status: str | None = strawberry.field(default=None, description=STATUSES)
    category: str | None = None
    fiscal_year: int | None = None


def _project_filter(given: ProjectFilterInput | None) -> ProjectFilter:
    given = given or ProjectFilterInput()
    values = checked(
        {
            "region": (RegionCodeStr, given.region),
            "status": (ProjectStatus, given.status),
            "category": (Category, given.category),
            "fiscal_year": (Annotated[int, Field(ge=2000, le=2100)], given.fiscal_year),
        }
    )
    return ProjectFilter(**values)


@strawberry.type
class ProjectQuery:
    @strawberry.field(description="Projects of the library in your scope, by region and id")
    async def projects(
        self,
        info: Info,
        filter: ProjectFilterInput | None = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_FIRST,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Project]:
        context = info.context
        f = _project_filter(filter)
        page = await batches.project_page(context.session, context.principal, f, page_request(first, after))

        async def count() -> int:
            return await batches.count_projects(context.session, context.principal, f)

        return Connection.of(page, PROJECT_KEYS, Project.from_row, count)

    @strawberry.field(description="A project in your scope (an error `project.not_found` otherwise)")
    async def project(self, info: Info, id: uuid.UUID) -> Project:
        row = await info.context.loader(project_by_id).load(id)
        if row is None:
            raise NotFound("project")
        return Project.from_row(row)
