"""Assistance plans (帮扶计划), measures, visits and work logs, the five-coverages report and the household
book (一户一册)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query, Response, status
from fastapi.responses import HTMLResponse

from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page, RegionCodeStr
from app.api.schemas.plans import (
    CoverageReport,
    LackingHousehold,
    MeasureCreate,
    MeasureRead,
    MeasureUpdate,
    PlanCreate,
    PlanRead,
    PlanUpdate,
    PlanWithMeasures,
    VisitCountRead,
    VisitCreate,
    VisitKind,
    VisitRead,
)
from app.domain import clock
from app.domain.plans import book, coverage, service, visits

router = APIRouter(prefix="/api/v1", tags=["assistance plans"])

IfMatch = Annotated[
    str | None, Header(description="The ETag of the record as you read it; a stale one is refused with 412")
]
HouseholdId = Annotated[uuid.UUID, Path(description="Household id")]
PlanId = Annotated[uuid.UUID, Path(description="Plan id")]
MeasureId = Annotated[uuid.UUID, Path(description="Measure id")]
PRECONDITIONS: dict[int | str, dict[str, Any]] = {
    412: {"description": "Changed since it was read"},
    428: {"description": "No If-Match"},
}


def _rows(items: list[dict[str, object]], next_cursor: str | None) -> Response:
    """The hot path: rows straight to JSON bytes, no model objects (see PERFORMANCE.md)."""
    body = orjson.dumps({"items": items, "next_cursor": next_cursor}, default=str, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


# Plans --------------------------------------------------------------------------------------------------


@router.get(
    "/households/{household_id}/plans",
    summary="A household's assistance plans (一户一策), by year",
    response_model=list[PlanRead],
)
async def list_plans(
    household_id: HouseholdId, principal: PrincipalDep, session: SessionDep
) -> list[PlanRead]:
    return [
        PlanRead.model_validate(plan) for plan in await service.list_plans(session, principal, household_id)
    ]


@router.post(
    "/households/{household_id}/plans",
    status_code=status.HTTP_201_CREATED,
    summary="Make a household's plan for a year",
    description="One plan per household and year (409 if it exists); only for registered or exited "
    "households (422 `plan.household_status`).",
    response_model=PlanRead,
)
async def create_plan(
    household_id: HouseholdId,
    body: PlanCreate,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
) -> PlanRead:
    plan = await service.create_plan(session, principal, household_id, body.model_dump())
    response.headers["Location"] = f"/api/v1/plans/{plan.id}"
    response.headers["ETag"] = service.etag(plan)
    return PlanRead.model_validate(plan)


@router.get(
    "/plans/{plan_id}",
    summary="A plan with its measures",
    description="Carries an `ETag`: send it back as `If-Match` when changing the plan.",
    response_model=PlanWithMeasures,
)
async def get_plan(
    plan_id: PlanId, principal: PrincipalDep, session: SessionDep, response: Response
) -> PlanWithMeasures:
    plan = await service.get_plan(session, principal, plan_id)
    measures = await service.list_measures(session, principal, plan_id)
    response.headers["ETag"] = service.etag(plan)
    return PlanWithMeasures.model_validate(
        {
            **PlanRead.model_validate(plan).model_dump(),
            "measures": [MeasureRead.model_validate(m) for m in measures],
        }
    )


@router.patch(
    "/plans/{plan_id}",
    summary="Change a plan's goal",
    description="Only the fields sent change. Requires `If-Match`.",
    response_model=PlanRead,
    responses=PRECONDITIONS,
)
async def update_plan(
    plan_id: PlanId,
    body: PlanUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> PlanRead:
    plan = await service.update_plan(
        session, principal, plan_id, body.model_dump(exclude_unset=True), if_match=if_match
    )
    response.headers["ETag"] = service.etag(plan)
    return PlanRead.model_validate(plan)


# Measures -----------------------------------------------------------------------------------------------


@router.get("/plans/{plan_id}/measures", summary="A plan's measures", response_model=list[MeasureRead])
async def list_measures(plan_id: PlanId, principal: PrincipalDep, session: SessionDep) -> list[MeasureRead]:
    return [MeasureRead.model_validate(m) for m in await service.list_measures(session, principal, plan_id)]


@router.post(
    "/plans/{plan_id}/measures",
    status_code=status.HTTP_201_CREATED,
    summary="Add a measure to a plan",
    description="A refused date or status rule is 422 with the rule's code "
    "(`measure.actual_end_requires_done`, `measure.future_date`, …) and the failing fields.",
    response_model=MeasureRead,
)
async def create_measure(
    plan_id: PlanId, body: MeasureCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> MeasureRead:
    measure = await service.create_measure(session, principal, plan_id, body.model_dump(exclude_unset=True))
    response.headers["Location"] = f"/api/v1/measures/{measure.id}"
    response.headers["ETag"] = service.etag(measure)
    return MeasureRead.model_validate(measure)


@router.get("/measures/{measure_id}", summary="A measure", response_model=MeasureRead)
async def get_measure(
    measure_id: MeasureId, principal: PrincipalDep, session: SessionDep, response: Response
) -> MeasureRead:
    measure = await service.get_measure(session, principal, measure_id)
    response.headers["ETag"] = service.etag(measure)
    return MeasureRead.model_validate(measure)


@router.patch(
    "/measures/{measure_id}",
    summary="Change a measure or its status",
    description="Requires `If-Match`. Status: planned → in_progress → done, or cancelled; done and cancelled "
    "are final (a done measure still takes its actual benefit and references).",
    response_model=MeasureRead,
    responses=PRECONDITIONS,
)
async def update_measure(
    measure_id: MeasureId,
    body: MeasureUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> MeasureRead:
    measure = await service.update_measure(
        session, principal, measure_id, body.model_dump(exclude_unset=True), if_match=if_match
    )
    response.headers["ETag"] = service.etag(measure)
    return MeasureRead.model_validate(measure)


# Visits -------------------------------------------------------------------------------------------------


@router.get(
    "/visits",
    summary="Visits and work logs (走访, 工作日志) in your scope",
    description="Ordered by village, date and id; paged by cursor.",
    response_model=Page[VisitRead],
)
async def list_visits(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    region: Annotated[RegionCodeStr | None, Query(description="Only this region's subtree")] = None,
    household_id: uuid.UUID | None = None,
    cadre_id: uuid.UUID | None = None,
    kind: VisitKind | None = None,
    from_: Annotated[date | None, Query(alias="from", description="First day (inclusive)")] = None,
    to: Annotated[date | None, Query(description="Last day (inclusive)")] = None,
) -> Response:
    filters = visits.VisitFilter(
        region=region, household_id=household_id, cadre_id=cadre_id, kind=kind, start=from_, end=to
    )
    result = await visits.list_visits(session, principal, filters, page)
    return _rows(result.items, result.next_cursor)


@router.post(
    "/visits",
    status_code=status.HTTP_201_CREATED,
    summary="Record a visit or a work log entry",
    description="The cadre must be active and work in your scope or over the household's village; the date "
    "may not be in the future.",
    response_model=VisitRead,
)
async def create_visit(body: VisitCreate, principal: PrincipalDep, session: SessionDep) -> VisitRead:
    visit = await visits.create_visit(session, principal, **body.model_dump())
    return VisitRead.model_validate(visit)


@router.get(
    "/regions/{code}/visit-counts",
    summary="Monthly visit counts per village or per cadre (月汇报)",
    description="For a region in scope and a range of months (`from`/`to`, YYYY-MM, at most 36 months; "
    "default this year up to this month): per village (`by=village`) or cadre (`by=cadre`), the visits, "
    "work logs and distinct households of each month. Paged by village or cadre.",
    response_model=Page[VisitCountRead],
)
async def visit_counts(
    code: RegionCodeStr,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    from_: Annotated[
        str | None, Query(alias="from", pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM")
    ] = None,
    to: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM")] = None,
    by: visits.CountBy = "village",
) -> Page[VisitCountRead]:
    months = visits.MonthRange.parse(from_, to)
    result = await visits.visit_counts(session, principal, code, months, by=by, page=page)
    return Page[VisitCountRead](
        items=[VisitCountRead.model_validate(item) for item in result.items], next_cursor=result.next_cursor
    )


# Reports ------------------------------------------------------------------------------------------------


@router.get(
    "/regions/{code}/five-coverages",
    summary="Five full coverages (五个全覆盖)",
    description="For a region in scope, per child region: households, and for each coverage (education aid, "
    "medical insurance, dangerous-house renovation, employment support, photovoltaic income) how many "
    "households are eligible and how many of those lack it in the year. Eligibility and what counts as "
    "covered are in the README.",
    response_model=CoverageReport,
)
async def five_coverages(
    code: RegionCodeStr,
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2013, le=2100, description="Default: this year")] = None,
    include_exited: Annotated[
        bool, Query(description="Exited households too (default: registered only)")
    ] = False,
) -> CoverageReport:
    query = coverage.CoverageQuery(code, year or clock.today().year, include_exited)
    return CoverageReport.model_validate(await coverage.coverage_report(session, principal, query))


@router.get(
    "/regions/{code}/five-coverages/{coverage_name}/households",
    summary="The eligible households lacking one coverage",
    description="Ordered by village and id, paged by cursor; no personal data.",
    response_model=Page[LackingHousehold],
)
async def lacking_households(
    code: RegionCodeStr,
    coverage_name: coverage.Coverage,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2013, le=2100, description="Default: this year")] = None,
    include_exited: bool = False,
) -> Response:
    query = coverage.CoverageQuery(code, year or clock.today().year, include_exited)
    result = await coverage.lacking_households(session, principal, query, coverage_name, page)
    return _rows(result.items, result.next_cursor)


@router.get(
    "/households/{household_id}/book",
    summary="The household's book (一户一册), printable",
    description="One HTML document in Chinese, with print styles (print it or save it as PDF from a "
    "browser): the household, its members, incomes, 两不愁三保障, responsibility chain, plans with measures "
    "and visits. Personal data masked as in every read; reading it is audited.",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}},
)
async def household_book(
    household_id: HouseholdId, principal: PrincipalDep, session: SessionDep
) -> HTMLResponse:
    document = await book.household_book(session, principal, household_id)
    return HTMLResponse(
        document, headers={"Content-Disposition": f'inline; filename="book-{household_id}.html"'}
    )
