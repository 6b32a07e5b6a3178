"""Responsibility chains (责任链): work units, cadres and assignments (``workUnits``, ``cadres``,
``assignments`` with the filters of the REST lists, and each by id), ``responsibilityChain`` — who is
responsible for one household — and ``responsibilityCoverage`` of a region, from the same domain services as
REST (their types in :mod:`.responsibility_reports`).

A cadre's phone is personal data: masked without the personal-data grant, and an unmasked phone a client
selects is audited as REST audits it. Related records (a cadre's unit, an assignment's cadre, household and
unit) come through scoped DataLoaders: one the caller cannot see is null, as REST answers 404 for it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import Row

from app.api.schemas.common import RegionCodeStr
from app.api.schemas.responsibility import AssignmentKind, Rank, UnitKind
from app.domain.errors import NotFound
from app.domain.households.idnumbers import mask_phone
from app.domain.households.masking import may_see_personal_data
from app.domain.responsibility import batches, chain, coverage
from app.domain.responsibility.assignments import AssignmentFilter
from app.domain.responsibility.batches import ASSIGNMENT_KEYS
from app.domain.responsibility.directory import CADRE_KEYS, UNIT_KEYS
from app.graphql import loaders
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
from app.graphql.types.responsibility_reports import (
    KINDS,
    RANKS,
    ResponsibilityChain,
    ResponsibilityCoverage,
)
from app.graphql.types.support import attributes, checked

# DataLoader batch functions ------------------------------------------------------------------------------


async def unit_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await batches.units_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def cadre_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await batches.cadres_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def assignment_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await batches.assignments_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def _assignments_by(
    context: GraphQLContext, column: str, keys: Sequence[tuple[uuid.UUID, bool | None]]
) -> list[list[Row[Any]]]:
    """Keyed by (cadre, unit or household id, ``active``): one statement per distinct ``active``."""
    result: dict[tuple[uuid.UUID, bool | None], list[Row[Any]]] = {}
    for active in {active for _, active in keys}:
        ids = [key for key, wanted in keys if wanted is active]
        found = await batches.assignments_by(context.session, context.principal, column, ids, active=active)
        result.update({(key, active): rows for key, rows in found.items()})
    return [result[key] for key in keys]


async def assignments_of_cadre(
    context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, bool | None]]
) -> list[list[Row[Any]]]:
    return await _assignments_by(context, "cadre_id", keys)


async def assignments_of_unit(
    context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, bool | None]]
) -> list[list[Row[Any]]]:
    return await _assignments_by(context, "unit_id", keys)


async def assignments_of_household(
    context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, bool | None]]
) -> list[list[Row[Any]]]:
    return await _assignments_by(context, "household_id", keys)


async def load_region(info: Info, code: str) -> Region | None:
    row = await info.context.loader(loaders.region_by_code).load(code)
    return Region.from_row(row) if row is not None else None


async def load_household(info: Info, household_id: uuid.UUID | None) -> Household | None:
    if household_id is None:
        return None
    row = await info.context.loader(loaders.household_by_id).load(household_id)
    if row is None:
        return None
    return Household.from_row(row, unmasked=may_see_personal_data(info.context.principal))


async def load_unit(info: Info, unit_id: uuid.UUID | None) -> WorkUnit | None:
    if unit_id is None:
        return None
    row = await info.context.loader(unit_by_id).load(unit_id)
    return WorkUnit.from_row(row) if row is not None else None


async def load_cadre(info: Info, cadre_id: uuid.UUID | None) -> Cadre | None:
    if cadre_id is None:
        return None
    row = await info.context.loader(cadre_by_id).load(cadre_id)
    return Cadre.from_row(row, info.context) if row is not None else None


# Types --------------------------------------------------------------------------------------------------


@strawberry.type(description="A work unit (帮扶单位): a department, an enterprise or a social organisation")
class WorkUnit:
    id: uuid.UUID
    region_code: str = strawberry.field(description="The region the unit belongs to")
    name: str
    kind: str = strawberry.field(description="部门 department, 企业 enterprise, 社会组织 social_organisation")
    enterprise_class: int | None = strawberry.field(description="Enterprise class 1–4 (its pairing quota)")
    phone: str | None = strawberry.field(description="Office number (not personal data)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> WorkUnit:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="The unit's region")
    async def region(self, info: Info) -> Region | None:
        return await load_region(info, self.region_code)

    @strawberry.field(description="The unit's own pairings with households (enterprises); `active` as listed")
    async def assignments(self, info: Info, active: bool | None = True) -> list[Assignment]:
        rows = await info.context.loader(assignments_of_unit).load((self.id, active))
        return [Assignment.from_row(row) for row in rows]


@strawberry.type(description="A cadre (帮扶干部)")
class Cadre:
    id: uuid.UUID
    region_code: str = strawberry.field(description="The region the cadre works in")
    name: str
    unit_id: uuid.UUID | None
    unit_name: str | None = strawberry.field(description="The cadre's work unit")
    rank: str = strawberry.field(description=RANKS)
    is_active: bool = strawberry.field(description="false: no longer assignable")
    created_at: datetime
    updated_at: datetime
    _phone: strawberry.Private[str | None]
    _unmasked: strawberry.Private[bool]

    @classmethod
    def from_row(cls, row: Any, context: GraphQLContext) -> Cadre:
        unmasked = may_see_personal_data(context.principal)
        phone = row.phone
        return cls(
            id=row.id,
            region_code=row.region_code,
            name=row.name,
            unit_id=row.unit_id,
            unit_name=row.unit_name,
            rank=row.rank,
            is_active=row.is_active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _phone=phone if unmasked or not phone else mask_phone(phone),
            _unmasked=unmasked,
        )

    @strawberry.field(description="Masked unless you may read personal data (an unmasked read is audited)")
    def phone(self, info: Info) -> str | None:
        if self._unmasked and self._phone:
            info.context.reveal("cadre", self.region_code, str(self.id), ["cadre.phone"])
        return self._phone

    @strawberry.field(description="The cadre's work unit, when you can see it")
    async def unit(self, info: Info) -> WorkUnit | None:
        return await load_unit(info, self.unit_id)

    @strawberry.field(description="The region the cadre works in")
    async def region(self, info: Info) -> Region | None:
        return await load_region(info, self.region_code)

    @strawberry.field(
        description="The cadre's assignments in your scope, oldest first: `active` true (default) the active "
        "ones, false the ended ones, null all"
    )
    async def assignments(self, info: Info, active: bool | None = True) -> list[Assignment]:
        rows = await info.context.loader(assignments_of_cadre).load((self.id, active))
        return [Assignment.from_row(row) for row in rows]


@strawberry.type(
    description="An assignment: 包乡, 包村, 第一书记, 驻村工作队 or 结对帮扶, active until it ends"
)
class Assignment:
    id: uuid.UUID
    kind: str = strawberry.field(description=KINDS)
    region_code: str = strawberry.field(
        description="The township or village covered; for a pairing, the household's village"
    )
    cadre_id: uuid.UUID | None
    cadre_name: str | None
    unit_id: uuid.UUID | None = strawberry.field(description="An enterprise or organisation paired by itself")
    unit_name: str | None
    household_id: uuid.UUID | None = strawberry.field(description="The household (pairings)")
    is_team_leader: bool = strawberry.field(description="队长 of the work team")
    starts_on: date
    ends_on: date | None = strawberry.field(description="Null while active")
    end_reason: str | None
    assigned_by: str = strawberry.field(description="Subject of who made it")
    ended_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Assignment:
        return cls(**{name: getattr(row, name) for name in cls.__annotations__})

    @strawberry.field(description="Whether it has not ended")
    def is_active(self) -> bool:
        return self.ends_on is None

    @strawberry.field(description="The cadre, when you can see them (cadres of a region above are not)")
    async def cadre(self, info: Info) -> Cadre | None:
        return await load_cadre(info, self.cadre_id)

    @strawberry.field(description="The enterprise or organisation paired by itself, when you can see it")
    async def unit(self, info: Info) -> WorkUnit | None:
        return await load_unit(info, self.unit_id)

    @strawberry.field(description="The household paired (pairings)")
    async def household(self, info: Info) -> Household | None:
        return await load_household(info, self.household_id)

    @strawberry.field(description="The township or village covered")
    async def region(self, info: Info) -> Region | None:
        return await load_region(info, self.region_code)


# Filters ------------------------------------------------------------------------------------------------


@strawberry.input(description="The work-unit list's filters (the same as GET /api/v1/work-units)")
class WorkUnitFilterInput:
    region: str | None = strawberry.field(default=None, description="Only this region's subtree")
    kind: str | None = strawberry.field(
        default=None, description="department, enterprise, social_organisation"
    )


@strawberry.input(description="The cadre list's filters (the same as GET /api/v1/cadres)")
class CadreFilterInput:
    region: str | None = strawberry.field(default=None, description="Only this region's subtree")
    rank: str | None = strawberry.field(default=None, description=RANKS)
    unit_id: uuid.UUID | None = strawberry.field(default=None, description="Cadres of this unit")
    is_active: bool | None = None


@strawberry.input(description="The assignment list's filters (the same as GET /api/v1/assignments)")
class AssignmentFilterInput:
    kind: str | None = strawberry.field(default=None, description=KINDS)
    region: str | None = strawberry.field(default=None, description="Only this region's subtree")
    cadre: uuid.UUID | None = strawberry.field(default=None, description="Assignments of this cadre")
    unit: uuid.UUID | None = strawberry.field(default=None, description="Pairings of this unit")
    household: uuid.UUID | None = strawberry.field(default=None, description="Pairings of this household")
    active: bool | None = strawberry.field(default=None, description="true: active only; false: ended only")


def _unit_filter(given: WorkUnitFilterInput | None) -> dict[str, Any]:
    given = given or WorkUnitFilterInput()
    return checked({"region": (RegionCodeStr, given.region), "kind": (UnitKind, given.kind)})


def _cadre_filter(given: CadreFilterInput | None) -> dict[str, Any]:
    given = given or CadreFilterInput()
    values = checked({"region": (RegionCodeStr, given.region), "rank": (Rank, given.rank)})
    return {**values, "unit_id": given.unit_id, "is_active": given.is_active}


def _assignment_filter(given: AssignmentFilterInput | None) -> AssignmentFilter:
    given = given or AssignmentFilterInput()
    values = checked({"region": (RegionCodeStr, given.region), "kind": (AssignmentKind, given.kind)})
    return AssignmentFilter(
        kind=values["kind"],
        region=values["region"],
        cadre_id=given.cadre,
        unit_id=given.unit,
        household_id=given.household,
        active=given.active,
    )


First = Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]


@strawberry.type
class ResponsibilityQuery:
    @strawberry.field(description="Work units (帮扶单位) in your scope, by region and id")
    async def work_units(
        self,
        info: Info,
        filter: WorkUnitFilterInput | None = None,
        first: First = DEFAULT_FIRST,
        after: After = None,
    ) -> Connection[WorkUnit]:
        context = info.context
        f = _unit_filter(filter)
        page = await batches.unit_page(context.session, context.principal, page_request(first, after), **f)

        async def count() -> int:
            return await batches.count_units(context.session, context.principal, **f)

        return Connection.of(page, UNIT_KEYS, lambda row: WorkUnit.from_row(attributes(row)), count)

    @strawberry.field(description="A work unit in your scope (an error `work_unit.not_found` otherwise)")
    async def work_unit(self, info: Info, id: uuid.UUID) -> WorkUnit:
        unit = await load_unit(info, id)
        if unit is None:
            raise NotFound("work unit")
        return unit

    @strawberry.field(description="Cadres (帮扶干部) working in your scope, by region and id")
    async def cadres(
        self,
        info: Info,
        filter: CadreFilterInput | None = None,
        first: First = DEFAULT_FIRST,
        after: After = None,
    ) -> Connection[Cadre]:
        context = info.context
        f = _cadre_filter(filter)
        page = await batches.cadre_page(context.session, context.principal, page_request(first, after), **f)

        async def count() -> int:
            return await batches.count_cadres(context.session, context.principal, **f)

        return Connection.of(page, CADRE_KEYS, lambda row: Cadre.from_row(attributes(row), context), count)

    @strawberry.field(description="A cadre working in your scope (an error `cadre.not_found` otherwise)")
    async def cadre(self, info: Info, id: uuid.UUID) -> Cadre:
        cadre = await load_cadre(info, id)
        if cadre is None:
            raise NotFound("cadre")
        return cadre

    @strawberry.field(description="Assignments of regions and households in your scope, active and ended")
    async def assignments(
        self,
        info: Info,
        filter: AssignmentFilterInput | None = None,
        first: First = DEFAULT_FIRST,
        after: After = None,
    ) -> Connection[Assignment]:
        context = info.context
        f = _assignment_filter(filter)
        page = await batches.assignment_page(
            context.session, context.principal, f, page_request(first, after)
        )

        async def count() -> int:
            return await batches.count_assignments(context.session, context.principal, f)

        return Connection.of(page, ASSIGNMENT_KEYS, lambda row: Assignment.from_row(attributes(row)), count)

    @strawberry.field(description="An assignment in your scope (an error `assignment.not_found` otherwise)")
    async def assignment(self, info: Info, id: uuid.UUID) -> Assignment:
        row = await info.context.loader(assignment_by_id).load(id)
        if row is None:
            raise NotFound("assignment")
        return Assignment.from_row(row)

    @strawberry.field(
        description="Who is responsible for a household in your scope (责任链): its pairings, its village's "
        "first secretary, work team and covering cadres, its township's covering leaders and its county's "
        "leaders (an unmasked chain is audited)"
    )
    async def responsibility_chain(self, info: Info, household_id: uuid.UUID) -> ResponsibilityChain:
        context = info.context
        document = await chain.household_chain(context.session, context.principal, household_id)
        return ResponsibilityChain.from_document(document)

    @strawberry.field(
        description="Coverage of a region in your scope, any level (as GET /api/v1/regions/{code}/coverage): "
        "per child region, households without an active responsible person, poor villages without a first "
        "secretary or a work team, cadres and enterprises below or above their pairing quota"
    )
    async def responsibility_coverage(self, info: Info, region_code: str) -> ResponsibilityCoverage:
        checked({"regionCode": (RegionCodeStr, region_code)}, "report")
        context = info.context
        document = await coverage.coverage_report(context.session, context.principal, region_code)
        return ResponsibilityCoverage.from_document(document)
