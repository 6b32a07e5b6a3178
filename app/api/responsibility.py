"""Responsibility chains (责任链): work units, cadres, assignments, the chain of a household, coverage."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page, RegionCodeStr
from app.api.schemas.responsibility import (
    AssignmentCreate,
    AssignmentEnd,
    AssignmentEnded,
    AssignmentKind,
    AssignmentRead,
    AssignmentSummary,
    CadreCreate,
    CadreRead,
    CadreSummary,
    CadreUpdate,
    CoveragePage,
    CoverageReport,
    Rank,
    ResponsibilityChain,
    UnitKind,
    WorkUnitCreate,
    WorkUnitRead,
    WorkUnitUpdate,
)
from app.domain.responsibility import assignments, chain, coverage, directory

router = APIRouter(prefix="/api/v1", tags=["responsibility"])

UnitId = Annotated[uuid.UUID, Path(description="Work unit id")]
CadreId = Annotated[uuid.UUID, Path(description="Cadre id")]
AssignmentId = Annotated[uuid.UUID, Path(description="Assignment id")]
RegionFilter = Annotated[RegionCodeStr | None, Query(description="Only this region's subtree")]
RULES_NOTE = (
    " A refused hard rule answers 422 with the code `rule_violation.<rule>` (see the README for the rules)."
)


def _page(result: Any) -> dict[str, Any]:
    return {"items": result.items, "next_cursor": result.next_cursor}


# Work units ---------------------------------------------------------------------------------------------


@router.get(
    "/work-units", summary="List work units (帮扶单位) in your scope", response_model=Page[WorkUnitRead]
)
async def list_units(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    region: RegionFilter = None,
    kind: Annotated[UnitKind | None, Query()] = None,
) -> dict[str, Any]:
    return _page(await directory.list_units(session, principal, page, region=region, kind=kind))


@router.post(
    "/work-units",
    status_code=status.HTTP_201_CREATED,
    summary="Register a work unit",
    description="County officers. An enterprise may have a class (1–4) that sets its pairing quota.",
    response_model=WorkUnitRead,
)
async def create_unit(
    body: WorkUnitCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> dict[str, Any]:
    unit = await directory.create_unit(session, principal, body.model_dump())
    response.headers["Location"] = f"/api/v1/work-units/{unit.id}"
    return directory.unit_dict(unit)


@router.get("/work-units/{unit_id}", summary="A work unit", response_model=WorkUnitRead)
async def get_unit(unit_id: UnitId, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    return directory.unit_dict(await directory.get_unit(session, principal, unit_id))


@router.patch("/work-units/{unit_id}", summary="Change a work unit", response_model=WorkUnitRead)
async def update_unit(
    unit_id: UnitId, body: WorkUnitUpdate, principal: PrincipalDep, session: SessionDep
) -> dict[str, Any]:
    unit = await directory.update_unit(session, principal, unit_id, body.model_dump(exclude_unset=True))
    return directory.unit_dict(unit)


# Cadres -------------------------------------------------------------------------------------------------


@router.get(
    "/cadres",
    summary="List cadres (帮扶干部) working in your scope",
    description="Without phones; read one cadre for the phone (masked by role).",
    response_model=Page[CadreSummary],
)
async def list_cadres(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    region: RegionFilter = None,
    rank: Annotated[Rank | None, Query()] = None,
    unit_id: Annotated[uuid.UUID | None, Query(description="Cadres of this unit")] = None,
    is_active: Annotated[bool | None, Query()] = None,
) -> dict[str, Any]:
    result = await directory.list_cadres(
        session, principal, page, region=region, rank=rank, unit_id=unit_id, is_active=is_active
    )
    return _page(result)


@router.post(
    "/cadres",
    status_code=status.HTTP_201_CREATED,
    summary="Register a cadre",
    description="County officers. The unit, if given, must be in your scope.",
    response_model=CadreRead,
)
async def create_cadre(
    body: CadreCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> dict[str, Any]:
    cadre = await directory.create_cadre(session, principal, body.model_dump())
    response.headers["Location"] = f"/api/v1/cadres/{cadre.id}"
    return await directory.present_cadre(session, principal, cadre)


@router.get(
    "/cadres/{cadre_id}",
    summary="A cadre",
    description="The phone is masked unless you may read personal data (an unmasked read is audited).",
    response_model=CadreRead,
)
async def get_cadre(cadre_id: CadreId, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    return await directory.present_cadre(
        session, principal, await directory.get_cadre(session, principal, cadre_id)
    )


@router.patch(
    "/cadres/{cadre_id}",
    summary="Change a cadre",
    description="Deactivating (`is_active: false`) needs every assignment of the cadre ended first."
    + RULES_NOTE,
    response_model=CadreRead,
)
async def update_cadre(
    cadre_id: CadreId, body: CadreUpdate, principal: PrincipalDep, session: SessionDep
) -> dict[str, Any]:
    cadre = await directory.update_cadre(session, principal, cadre_id, body.model_dump(exclude_unset=True))
    return await directory.present_cadre(session, principal, cadre)


# Assignments --------------------------------------------------------------------------------------------


@router.get(
    "/assignments",
    summary="List assignments, active and ended",
    description="Assignments of townships, villages and households in your scope, with their history "
    "(`active=false`: the ended ones).",
    response_model=Page[AssignmentSummary],
)
async def list_assignments(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[AssignmentKind | None, Query()] = None,
    region: RegionFilter = None,
    cadre: Annotated[uuid.UUID | None, Query(description="Assignments of this cadre")] = None,
    unit: Annotated[uuid.UUID | None, Query(description="Pairings of this unit")] = None,
    household: Annotated[uuid.UUID | None, Query(description="Pairings of this household")] = None,
    active: Annotated[bool | None, Query(description="true: active only; false: ended only")] = None,
) -> dict[str, Any]:
    f = assignments.AssignmentFilter(
        kind=kind, region=region, cadre_id=cadre, unit_id=unit, household_id=household, active=active
    )
    return _page(await assignments.list_assignments(session, principal, f, page))


@router.post(
    "/assignments",
    status_code=status.HTTP_201_CREATED,
    summary="Make an assignment",
    description="County officers. The cadre (or unit), and the township, village or household covered, must "
    "be in your scope." + RULES_NOTE,
    response_model=AssignmentRead,
)
async def create_assignment(
    body: AssignmentCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> dict[str, Any]:
    assignment = await assignments.create_assignment(
        session, principal, assignments.AssignmentInput(**body.model_dump())
    )
    response.headers["Location"] = f"/api/v1/assignments/{assignment.id}"
    return assignments.assignment_dict(assignment)


@router.get("/assignments/{assignment_id}", summary="An assignment", response_model=AssignmentRead)
async def get_assignment(
    assignment_id: AssignmentId, principal: PrincipalDep, session: SessionDep
) -> dict[str, Any]:
    return assignments.assignment_dict(await assignments.get_assignment(session, principal, assignment_id))


@router.post(
    "/assignments/{assignment_id}/end",
    summary="End an assignment",
    description="A dated change, never a delete: the assignment stays in the history with its end date and "
    "reason. With `successor_cadre_id` the same assignment passes to that cadre from the same day."
    + RULES_NOTE,
    response_model=AssignmentEnded,
)
async def end_assignment(
    assignment_id: AssignmentId, body: AssignmentEnd, principal: PrincipalDep, session: SessionDep
) -> dict[str, Any]:
    ended = await assignments.end_assignment(
        session,
        principal,
        assignment_id,
        ends_on=body.ends_on,
        reason=body.reason,
        successor_cadre_id=body.successor_cadre_id,
    )
    return {
        "assignment": assignments.assignment_dict(ended.assignment),
        "successor": assignments.assignment_dict(ended.successor) if ended.successor else None,
    }


# The chain and coverage ---------------------------------------------------------------------------------


@router.get(
    "/households/{household_id}/responsibility-chain",
    summary="Who is responsible for this household (责任链)",
    description="Its pairing cadres and enterprises, its village's first secretary, work team and covering "
    "cadres, its township's covering leader and its county's leaders, each with their unit; phones masked "
    "unless you may read personal data (an unmasked chain is audited).",
    response_model=ResponsibilityChain,
)
async def household_chain(
    household_id: Annotated[uuid.UUID, Path(description="Household id")],
    principal: PrincipalDep,
    session: SessionDep,
) -> dict[str, Any]:
    return await chain.household_chain(session, principal, household_id)


@router.get(
    "/regions/{code}/coverage",
    summary="Coverage of a region: who and where is not covered",
    description="Any region in your scope, any level. Without `list`: counts per child region of households "
    "without an active responsible person, poor villages without a first secretary or a work team, cadres "
    "and enterprises below or above their pairing quota. With `list`: that set as a keyset-paged list.",
    response_model=CoverageReport | CoveragePage,
)
async def region_coverage(
    code: Annotated[str, Path(description="Region code")],
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    which: Annotated[
        coverage.CoverageList | None, Query(alias="list", description="Return this set as a list")
    ] = None,
) -> dict[str, Any]:
    if which is None:
        return await coverage.coverage_report(session, principal, code)
    result = await coverage.coverage_list(session, principal, code, which, page)
    return {"list_name": which, **_page(result)}
