"""The household registry: list, apply, read, edit; members, incomes and indicators (两不愁三保障)."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Path, Query, Response, status

from app.api.deps import DatabaseDep, PrincipalDep, SessionDep
from app.api.direct import DirectRoute
from app.api.schemas.common import Page
from app.api.schemas.households import (
    HouseholdCreate,
    HouseholdListQuery,
    HouseholdRead,
    HouseholdSummary,
    HouseholdUpdate,
    IncomeRead,
    IncomeWrite,
    Indicator,
    IndicatorRead,
    IndicatorWrite,
    MemberCreate,
    MemberRead,
    MemberUpdate,
)
from app.domain.households import service
from app.domain.households.rules import IncomeParts

router = APIRouter(prefix="/api/v1/households", tags=["households"])

IfMatch = Annotated[
    str | None,
    Header(description="The ETag of the household as you read it; a stale one is refused with 412"),
]
HouseholdId = Annotated[uuid.UUID, Path(description="Household id")]
JSON_OPTIONS = orjson.OPT_UTC_Z


def _json_default(value: object) -> str:
    """asyncpg's own UUID class, which orjson does not take for a uuid.UUID."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _household_response(view: service.HouseholdView, response: Response, etag: str) -> HouseholdRead:
    response.headers["ETag"] = etag
    return HouseholdRead.model_validate({**view.household, "members": view.members})


async def list_households(
    principal: PrincipalDep,
    query: Annotated[HouseholdListQuery, Query()],
    database: DatabaseDep,
) -> Response:
    result = await service.list_households(database.reader, principal, query.to_filter(), query.page)
    # The hot path: rows straight to JSON bytes, no model objects (see PERFORMANCE.md).
    body = orjson.dumps(
        {"items": result.items, "next_cursor": result.next_cursor}, default=_json_default, option=JSON_OPTIONS
    )
    return Response(body, media_type="application/json")


router.add_api_route(
    "",
    list_households,
    methods=["GET"],
    summary="List households in your scope",
    description="Summaries without personal data, ordered by an index (`sort=region`: village then id; "
    "`sort=number`: household number within the county), paged by cursor.",
    response_model=Page[HouseholdSummary],
    responses={200: {"model": Page[HouseholdSummary]}},
    route_class_override=DirectRoute,  # the registry's hottest read (bench/RESULTS.md)
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an application (农户申请)",
    description="Creates the household with its members as an applicant: the first step of identification.",
    response_model=HouseholdRead,
)
async def create_household(
    body: HouseholdCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> HouseholdRead:
    fields = body.model_dump(exclude={"members", "comment"})
    members = [member.model_dump() for member in body.members]
    household = await service.create_household(session, principal, fields, members, comment=body.comment)
    view = await service.read_household(session, principal, household.id)
    response.headers["Location"] = f"/api/v1/households/{household.id}"
    return _household_response(view, response, service.etag(household))


@router.get(
    "/{household_id}",
    summary="A household with its members",
    description="Carries an `ETag`: send it back as `If-Match` when changing the household.",
    response_model=HouseholdRead,
)
async def get_household(
    household_id: HouseholdId, principal: PrincipalDep, session: SessionDep, response: Response
) -> HouseholdRead:
    view = await service.read_household(session, principal, household_id)
    return _household_response(view, response, f'"{household_id}.{view.household["version"]}"')


@router.patch(
    "/{household_id}",
    summary="Change a household",
    description="Only the fields sent change. Requires `If-Match`; status changes go through transitions.",
    response_model=HouseholdRead,
    responses={
        412: {"description": "The household changed since it was read"},
        428: {"description": "No If-Match"},
    },
)
async def update_household(
    household_id: HouseholdId,
    body: HouseholdUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> HouseholdRead:
    changes = body.model_dump(exclude_unset=True)
    household = await service.update_household(session, principal, household_id, changes, if_match=if_match)
    view = await service.read_household(session, principal, household.id)
    return _household_response(view, response, service.etag(household))


@router.get("/{household_id}/members", summary="Members of a household", response_model=list[MemberRead])
async def list_members(
    household_id: HouseholdId,
    principal: PrincipalDep,
    session: SessionDep,
    include_left: Annotated[bool, Query(description="Also members who left")] = False,
) -> list[MemberRead]:
    view = await service.read_household(session, principal, household_id, include_left=include_left)
    return [MemberRead.model_validate(member) for member in view.members]


@router.post(
    "/{household_id}/members",
    status_code=status.HTTP_201_CREATED,
    summary="Add a member",
    description="Requires `If-Match`. A person already active in another household is refused (409).",
    response_model=MemberRead,
)
async def add_member(
    household_id: HouseholdId,
    body: MemberCreate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> MemberRead:
    member = await service.add_member(session, principal, household_id, body.model_dump(), if_match=if_match)
    return MemberRead.model_validate(await service.present_member(session, principal, member))


@router.patch(
    "/{household_id}/members/{member_id}",
    summary="Change a member, or record that they left",
    response_model=MemberRead,
)
async def update_member(
    household_id: HouseholdId,
    member_id: uuid.UUID,
    body: MemberUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> MemberRead:
    changes = body.model_dump(exclude_unset=True)
    member = await service.update_member(
        session, principal, household_id, member_id, changes, if_match=if_match
    )
    return MemberRead.model_validate(await service.present_member(session, principal, member))


@router.get("/{household_id}/incomes", summary="Incomes by year", response_model=list[IncomeRead])
async def list_incomes(
    household_id: HouseholdId, principal: PrincipalDep, session: SessionDep
) -> list[IncomeRead]:
    return [
        IncomeRead.model_validate(income)
        for income in await service.list_incomes(session, principal, household_id)
    ]


@router.put(
    "/{household_id}/incomes/{year}",
    summary="Record a year's income",
    description="Creates or replaces the year. Net and per-capita net income (人均纯收入) are computed from "
    "the parts and the household's active members.",
    response_model=IncomeRead,
)
async def set_income(
    household_id: HouseholdId,
    year: Annotated[int, Path(ge=1980, le=2100)],
    body: IncomeWrite,
    principal: PrincipalDep,
    session: SessionDep,
) -> IncomeRead:
    income = await service.set_income(
        session, principal, household_id, year, IncomeParts(**body.model_dump())
    )
    return IncomeRead.model_validate(income)


@router.get(
    "/{household_id}/indicators", summary="两不愁三保障 and safe water", response_model=list[IndicatorRead]
)
async def list_indicators(
    household_id: HouseholdId, principal: PrincipalDep, session: SessionDep
) -> list[IndicatorRead]:
    rows = await service.list_indicators(session, principal, household_id)
    return [IndicatorRead.model_validate(row) for row in rows]


@router.put(
    "/{household_id}/indicators/{indicator}",
    summary="Record a verified indicator",
    description="Whether it holds, on which date it was verified; the verifier is the caller.",
    response_model=IndicatorRead,
)
async def set_indicator(
    household_id: HouseholdId,
    indicator: Indicator,
    body: IndicatorWrite,
    principal: PrincipalDep,
    session: SessionDep,
) -> IndicatorRead:
    row = await service.set_indicator(
        session,
        principal,
        household_id,
        indicator,
        holds=body.holds,
        verified_on=body.verified_on,
        note=body.note,
    )
    return IndicatorRead.model_validate(row)
