"""The household lifecycle: steps of procedures (transitions), history, objections, public notice lists."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response, status

from app.api.deps import PrincipalDep, SessionDep
from app.api.schemas.common import RegionCodeStr
from app.api.schemas.households import HouseholdRead
from app.api.schemas.lifecycle import (
    AvailableActionRead,
    EventRead,
    NoticeItem,
    NoticeList,
    ObjectionCreate,
    ObjectionRead,
    ObjectionResolve,
    PublicityRead,
    PublicityWithObjections,
    Reason,
    TransitionCreate,
    TransitionsRead,
)
from app.domain.households import history as household_history
from app.domain.households import lifecycle, notices, objections, service

router = APIRouter(prefix="/api/v1", tags=["household lifecycle"])

HouseholdId = Annotated[uuid.UUID, Path(description="Household id")]
HOUSEHOLD = "/households/{household_id}"


@router.get(
    HOUSEHOLD + "/history",
    summary="A household's history (动态管理记录)",
    description="Every step in time order: who, when, from and to which status and step, comment, document "
    "numbers, and the publicity a step opened with the objections raised in it.",
    response_model=list[EventRead],
)
async def history(household_id: HouseholdId, principal: PrincipalDep, session: SessionDep) -> list[EventRead]:
    entries = await household_history.history(session, principal, household_id)
    return [
        EventRead.model_validate(
            {
                **{
                    name: getattr(entry.event, name) for name in EventRead.model_fields if name != "publicity"
                },
                "publicity": None
                if entry.publicity is None
                else PublicityWithObjections.model_validate(
                    {
                        **PublicityRead.model_validate(entry.publicity).model_dump(),
                        "objections": [ObjectionRead.model_validate(o) for o in entry.objections],
                    }
                ),
            }
        )
        for entry in entries
    ]


@router.get(
    HOUSEHOLD + "/transitions",
    summary="The steps you could take now",
    description="Each step that applies to the household's procedure (or that would start one), with "
    "`allowed` and, when not allowed, the reasons: wrong role or level, publicity not ended, open "
    "objection, exit conditions unmet, …",
    response_model=TransitionsRead,
)
async def available_transitions(
    household_id: HouseholdId, principal: PrincipalDep, session: SessionDep
) -> TransitionsRead:
    view = await lifecycle.available_transitions(session, principal, household_id)
    household = view.household
    return TransitionsRead(
        household_id=household.id,
        status=household.status,
        procedure=household.procedure,
        procedure_step=household.procedure_step,
        procedure_started_on=household.procedure_started_on,
        publicity=PublicityRead.model_validate(view.publicity) if view.publicity is not None else None,
        decision_deadline=view.deadline,
        actions=[
            AvailableActionRead(
                action=item.transition.action,
                procedure=item.transition.procedure,
                label=item.transition.label,
                taken_by=item.transition.authority.describe(),
                to_step=item.transition.to_step,
                to_status=item.transition.to_status,
                requires=list(item.transition.requires),
                accepts=list(item.transition.accepts),
                allowed=item.allowed,
                reasons=[Reason(code=reason.code, detail=reason.detail) for reason in item.reasons],
            )
            for item in view.actions
        ],
    )


@router.post(
    HOUSEHOLD + "/transitions",
    summary="Take a step of the household's procedure",
    description="Applies one action, records it in the history and returns the household (with its new "
    "`ETag`). `If-Match` is optional here. A refused step changes nothing: 403 wrong role or level, "
    "409 wrong step, publicity not ended or objection open, 422 missing document number or reason, or "
    "exit conditions unmet (one error per failing condition).",
    response_model=HouseholdRead,
    responses={403: {"description": "Not your role or level"}, 409: {"description": "Not now"}},
)
async def take_transition(
    household_id: HouseholdId,
    body: TransitionCreate,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="Optional: the ETag you read")] = None,
) -> HouseholdRead:
    request = lifecycle.TransitionRequest(
        **{**body.model_dump(), "document_numbers": tuple(body.document_numbers)}
    )
    household = await lifecycle.take_transition(session, principal, household_id, request, if_match=if_match)
    view = await service.read_household(session, principal, household.id)
    response.headers["ETag"] = service.etag(household)
    return HouseholdRead.model_validate({**view.household, "members": view.members})


@router.post(
    HOUSEHOLD + "/objections",
    status_code=status.HTTP_201_CREATED,
    summary="Record an objection (异议) to the household's publicity",
    description="Attached to the household's latest publicity. Until it is resolved, approvals are refused.",
    response_model=ObjectionRead,
)
async def raise_objection(
    household_id: HouseholdId, body: ObjectionCreate, principal: PrincipalDep, session: SessionDep
) -> ObjectionRead:
    objection = await objections.raise_objection(
        session,
        principal,
        household_id,
        raised_on=body.raised_on,
        raised_by=body.raised_by,
        content=body.content,
    )
    return ObjectionRead.model_validate(objection)


@router.post(
    HOUSEHOLD + "/objections/{objection_id}/resolve",
    summary="Resolve an objection",
    description="By a township reviewer (township level) or a county officer (county level).",
    response_model=ObjectionRead,
)
async def resolve_objection(
    household_id: HouseholdId,
    objection_id: uuid.UUID,
    body: ObjectionResolve,
    principal: PrincipalDep,
    session: SessionDep,
) -> ObjectionRead:
    objection = await objections.resolve_objection(
        session, principal, household_id, objection_id, resolution=body.resolution
    )
    return ObjectionRead.model_validate(objection)


@router.get(
    "/publicity-lists",
    summary="Public notice list (公示名单)",
    description="Households under publicity in a village or township on a day (`on`, default today) or "
    "over a period (`from`–`to`): household number, head, village, group, members, attribute, primary "
    "cause, what is publicised, level and dates. Never ID numbers, phones, bank accounts or health. "
    "`format=csv` gives a spreadsheet with Chinese headings (UTF-8 with BOM).",
    response_model=NoticeList,
    responses={200: {"content": {"text/csv": {}}}},
)
async def publicity_list(
    principal: PrincipalDep,
    session: SessionDep,
    region: Annotated[RegionCodeStr, Query(description="A village or township in your scope")],
    on: Annotated[date | None, Query(description="The day (default today)")] = None,
    from_: Annotated[date | None, Query(alias="from", description="First day of a period")] = None,
    to: Annotated[date | None, Query(description="Last day of a period (inclusive)")] = None,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response | NoticeList:
    period = notices.Period.of(on, from_, to)
    items = await notices.publicity_list(session, principal, region, period)
    if format_ == "csv":
        filename = f"publicity-{region}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        return Response(
            notices.notice_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return NoticeList(items=[NoticeItem.model_validate(item) for item in items])
