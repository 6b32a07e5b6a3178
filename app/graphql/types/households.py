"""The household registry (建档立卡): households with their members, incomes, indicators (两不愁三保障) and
lifecycle history; ``households`` (the REST list's filters) and ``household(id)``.

Personal data (phone, bank account, ID numbers) is masked by :mod:`app.domain.households.masking` for
callers without the personal-data permission; an unmasked value a client selects is audited as REST
audits it (one audit row per record, written when the operation ends)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON

from app.api.schemas.households import HouseholdQuery as HouseholdFilterModel
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.households import batches, masking
from app.domain.households.queries import SORT_KEYS, HouseholdFilter
from app.graphql import loaders
from app.graphql.connections import (
    AFTER_DESCRIPTION,
    DEFAULT_FIRST,
    FIRST_DESCRIPTION,
    Connection,
    page_request,
)
from app.graphql.context import GraphQLContext, Info
from app.graphql.types.regions import Region

if TYPE_CHECKING:  # the links to other areas (their modules import this one)
    from app.graphql.types.funds import FundAccount
    from app.graphql.types.plans import Plan, Visit
    from app.graphql.types.projects import Project
    from app.graphql.types.responsibility import Assignment


def _reveal(context: GraphQLContext, record: str, region_code: str, record_id: uuid.UUID, field: str) -> None:
    context.reveal(record, region_code, str(record_id), [f"{record}.{field}"])


@strawberry.type(description="Annual income (年收入); net and per-capita income are computed, never typed")
class Income:
    household_id: uuid.UUID
    region_code: str
    year: int
    wage_income: Decimal = strawberry.field(description="工资性收入")
    business_income: Decimal = strawberry.field(description="家庭经营性收入")
    property_income: Decimal = strawberry.field(description="财产性收入")
    transfer_income: Decimal = strawberry.field(description="转移性收入")
    production_costs: Decimal = strawberry.field(description="生产经营性支出")
    household_size: int = strawberry.field(description="Active members when the income was recorded")
    net_income: Decimal = strawberry.field(description="纯收入 = the four parts − production costs")
    per_capita_net_income: Decimal = strawberry.field(description="人均纯收入 = net income / members")
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Income:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})


@strawberry.type(description="One of 两不愁三保障 and safe drinking water, as last verified")
class Indicator:
    household_id: uuid.UUID
    region_code: str
    indicator: str = strawberry.field(description="food, clothing, education, medical, housing or water")
    holds: bool
    verified_on: date
    verified_by_name: str
    note: str | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Indicator:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})


@strawberry.type(description="An objection (异议) raised during a publicity")
class Objection:
    id: uuid.UUID
    household_id: uuid.UUID
    region_code: str
    publicity_id: uuid.UUID | None
    raised_on: date
    raised_by: str | None
    content: str
    status: str = strawberry.field(description="open or resolved")
    resolution: str | None
    resolved_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Objection:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})


@strawberry.type(description="A publicity (公示) a lifecycle step opened")
class Publicity:
    id: uuid.UUID
    household_id: uuid.UUID
    region_code: str
    procedure: str
    step: str = strawberry.field(description="The step that opened it")
    level: str = strawberry.field(description="village, township or county")
    starts_on: date
    ends_on: date = strawberry.field(description="Last day of the period (inclusive)")

    @classmethod
    def from_row(cls, row: Any) -> Publicity:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="The objections raised in it, in the order they were raised")
    async def objections(self, info: Info) -> list[Objection]:
        rows = await info.context.loader(loaders.publicity_objections).load(self.id)
        return [Objection.from_row(row) for row in rows]


@strawberry.type(description="One step of a household's history (动态管理记录)")
class HouseholdEvent:
    id: uuid.UUID
    household_id: uuid.UUID
    region_code: str
    procedure: str | None
    action: str
    from_status: str | None
    to_status: str | None
    from_step: str | None
    to_step: str | None
    actor_name: str
    actor_roles: list[str]
    at: datetime
    comment: str | None
    document_numbers: list[str] = strawberry.field(description="文号")
    details: JSON = strawberry.field(description="year, monitoring_kind, include, deadline, overdue, …")
    publicity_id: uuid.UUID | None

    @classmethod
    def from_row(cls, row: Any) -> HouseholdEvent:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="The publicity this step opened, with the objections raised in it")
    async def publicity(self, info: Info) -> Publicity | None:
        if self.publicity_id is None:
            return None
        row = await info.context.loader(loaders.publicity_by_id).load(self.publicity_id)
        return Publicity.from_row(row) if row is not None else None


@strawberry.type(description="A member of a household")
class Member:
    id: uuid.UUID
    household_id: uuid.UUID
    region_code: str
    name: str
    sex: str = strawberry.field(description="M or F, derived from the ID number")
    birth_date: date = strawberry.field(description="Derived from the ID number")
    relation: str = strawberry.field(description="与户主关系 (code list `relation`)")
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
    _id_number: strawberry.Private[str]
    _unmasked: strawberry.Private[bool]

    @classmethod
    def from_row(cls, row: Any, *, unmasked: bool) -> Member:
        values = masking.member_dict(row, unmasked=unmasked)
        id_number = values.pop("id_number")
        return cls(**values, _id_number=id_number, _unmasked=unmasked)

    @strawberry.field(description="身份证号; masked (620522********1234) without the personal-data grant")
    def id_number(self, info: Info) -> str:
        if self._unmasked and self._id_number:
            _reveal(info.context, "member", self.region_code, self.id, "id_number")
        return self._id_number


@strawberry.type(description="A household of the registry (建档立卡户)")
class Household:
    id: uuid.UUID
    region_code: str = strawberry.field(description="The village")
    county_code: str
    household_number: str = strawberry.field(description="户编号, unique in the county")
    group_name: str | None = strawberry.field(description="村民小组")
    head_name: str = strawberry.field(description="户主")
    address: str | None
    bank_name: str | None
    identification_standard: str = strawberry.field(description="识别标准")
    attribute: str = strawberry.field(description="贫困户属性")
    category: str | None
    primary_cause: str = strawberry.field(description="主要致贫原因")
    other_causes: list[str]
    housing_area: Decimal | None
    housing_structure: str | None
    housing_year_built: int | None
    housing_safety_grade: str | None
    is_relocated: bool = strawberry.field(description="易地扶贫搬迁")
    has_electricity: bool | None
    fuel: str | None
    drinking_water: str | None
    status: str = strawberry.field(description="applicant, registered, exited, removed or rejected")
    procedure: str | None
    procedure_step: str | None
    procedure_started_on: date | None
    monitoring_kind: str | None = strawberry.field(description="防返贫监测: the kind while monitored")
    monitoring_since: date | None
    has_returned_to_poverty: bool = strawberry.field(description="返贫")
    registered_year: int | None
    exited_year: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    _phone: strawberry.Private[str | None]
    _bank_account: strawberry.Private[str | None]
    _unmasked: strawberry.Private[bool]

    @classmethod
    def from_row(cls, row: Any, *, unmasked: bool) -> Household:
        values = masking.household_dict(row, unmasked=unmasked)
        phone, bank_account = values.pop("phone"), values.pop("bank_account")
        return cls(**values, _phone=phone, _bank_account=bank_account, _unmasked=unmasked)

    @strawberry.field(description="Masked without the personal-data grant")
    def phone(self, info: Info) -> str | None:
        if self._unmasked and self._phone:
            _reveal(info.context, "household", self.region_code, self.id, "phone")
        return self._phone

    @strawberry.field(description="Masked without the personal-data grant")
    def bank_account(self, info: Info) -> str | None:
        if self._unmasked and self._bank_account:
            _reveal(info.context, "household", self.region_code, self.id, "bank_account")
        return self._bank_account

    @strawberry.field(description="The village the household lives in")
    async def region(self, info: Info) -> Region | None:
        row = await info.context.loader(loaders.region_by_code).load(self.region_code)
        return Region.from_row(row) if row is not None else None

    @strawberry.field(description="Members, head first; with `includeLeft`, also those who left")
    async def members(self, info: Info, include_left: bool = False) -> list[Member]:
        rows = await info.context.loader(loaders.household_members).load((self.id, include_left))
        return [Member.from_row(row, unmasked=self._unmasked) for row in rows]

    @strawberry.field(description="Incomes by year")
    async def incomes(self, info: Info) -> list[Income]:
        rows = await info.context.loader(loaders.household_incomes).load(self.id)
        return [Income.from_row(row) for row in rows]

    @strawberry.field(description="两不愁三保障 and safe drinking water")
    async def indicators(self, info: Info) -> list[Indicator]:
        rows = await info.context.loader(loaders.household_indicators).load(self.id)
        return [Indicator.from_row(row) for row in rows]

    @strawberry.field(description="Every lifecycle step (identification, exit, return, …) in time order")
    async def history(self, info: Info) -> list[HouseholdEvent]:
        rows = await info.context.loader(loaders.household_events).load(self.id)
        return [HouseholdEvent.from_row(row) for row in rows]

    # Links to other areas (responsibility, plans, projects, funds): fields added by their owners ----------

    @strawberry.field(
        description="Its pairings (结对帮扶) with cadres and enterprises, oldest first: `active` true "
        "(default) the active ones, false the ended ones, null all"
    )
    async def assignments(
        self, info: Info, active: bool | None = True
    ) -> list[Annotated[Assignment, strawberry.lazy("app.graphql.types.responsibility")]]:
        from app.graphql.types.responsibility import Assignment, assignments_of_household

        rows = await info.context.loader(assignments_of_household).load((self.id, active))
        return [Assignment.from_row(row) for row in rows]

    @strawberry.field(description="Assistance plans (帮扶计划), by year, with their measures")
    async def plans(self, info: Info) -> list[Annotated[Plan, strawberry.lazy("app.graphql.types.plans")]]:
        from app.graphql.types.plans import household_plans

        return await household_plans(info, self.id)

    @strawberry.field(description="The latest visits and work logs (走访), newest first (`latest`: 1 to 50)")
    async def visits(
        self, info: Info, latest: int = 10
    ) -> list[Annotated[Visit, strawberry.lazy("app.graphql.types.plans")]]:
        from app.graphql.types.plans import household_visits

        return await household_visits(info, self.id, latest)

    @strawberry.field(
        description="The projects of the library it benefits from (带贫户 of), by region and id"
    )
    async def projects(
        self, info: Info
    ) -> list[Annotated[Project, strawberry.lazy("app.graphql.types.projects")]]:
        from app.graphql.types.projects import household_projects

        return await household_projects(info, self.id)

    @strawberry.field(description="Its payee accounts (for payments to the household)")
    async def fund_accounts(
        self, info: Info
    ) -> list[Annotated[FundAccount, strawberry.lazy("app.graphql.types.funds")]]:
        from app.graphql.types.funds import FundAccount, accounts_of_household

        rows = await info.context.loader(accounts_of_household).load(self.id)
        return [FundAccount.from_row(row) for row in rows]


@strawberry.input(description="The household list's filters (the same as GET /api/v1/households)")
class HouseholdFilterInput:
    region: str | None = strawberry.field(default=None, description="Only this region's subtree")
    status: str | None = None
    attribute: str | None = None
    category: str | None = None
    cause: str | None = strawberry.field(default=None, description="Primary or other cause")
    monitoring_kind: str | None = None
    registered_year: int | None = None
    exited_year: int | None = None
    q: str | None = strawberry.field(default=None, description="In head name or household number")
    id_number: str | None = strawberry.field(default=None, description="Exact ID number of any member")


@strawberry.enum(description="`REGION`: village then id; `NUMBER`: household number within the county")
class HouseholdSort(Enum):
    REGION = "region"
    NUMBER = "number"


def household_filter(given: HouseholdFilterInput | None, sort: HouseholdSort) -> HouseholdFilter:
    """The domain filter, validated by the REST list's own model (same rules, same messages)."""
    values = {k: v for k, v in vars(given).items() if v is not None} if given is not None else {}
    try:
        return HouseholdFilterModel.model_validate({**values, "sort": sort.value}).to_filter()
    except ValidationError as error:
        errors = [
            FieldError(("args", "filter", *map(str, e["loc"])), e["msg"], e["type"]) for e in error.errors()
        ]
        raise InvalidInput(f"{len(errors)} filter(s) failed validation.", "validation", errors) from None


@strawberry.type
class HouseholdQuery:
    @strawberry.field(description="Households in your scope, with the filters and orders of the REST list")
    async def households(
        self,
        info: Info,
        filter: HouseholdFilterInput | None = None,
        sort: HouseholdSort = HouseholdSort.REGION,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_FIRST,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Household]:
        context = info.context
        f = household_filter(filter, sort)
        page = await batches.household_page(context.session, context.principal, f, page_request(first, after))
        unmasked = masking.may_see_personal_data(context.principal)

        async def count() -> int:
            return await batches.count_households(context.session, context.principal, f)

        return Connection.of(page, SORT_KEYS[f.sort], lambda row: _household(row, unmasked), count)

    @strawberry.field(description="A household in your scope (an error `household.not_found` otherwise)")
    async def household(self, info: Info, id: uuid.UUID) -> Household:
        row = await info.context.loader(loaders.household_by_id).load(id)
        if row is None:
            raise NotFound("household")
        return Household.from_row(row, unmasked=masking.may_see_personal_data(info.context.principal))


def _household(row: dict[str, Any], unmasked: bool) -> Household:
    return Household.from_row(_Attributes(row), unmasked=unmasked)


class _Attributes:
    """A dict row read by attribute, as the masking helpers read rows."""

    __slots__ = ("_row",)

    def __init__(self, row: dict[str, Any]) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return self._row[name]
