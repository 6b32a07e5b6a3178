"""The project library (项目库): projects, their status workflow, beneficiary households and income sharing
(分红)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status

from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page, RegionCodeStr
from app.api.schemas.plans import Category
from app.api.schemas.projects import (
    BeneficiariesAdd,
    BeneficiariesAdded,
    BeneficiaryRead,
    IncomeSharingCreate,
    IncomeSharingRead,
    ProjectCreate,
    ProjectRead,
    ProjectStatus,
    ProjectTransition,
    ProjectUpdate,
    to_fen,
)
from app.domain.projects import beneficiaries, service, sharing

router = APIRouter(prefix="/api/v1", tags=["projects"])

IfMatch = Annotated[
    str | None, Header(description="The ETag of the project as you read it; a stale one is refused with 412")
]
ProjectId = Annotated[uuid.UUID, Path(description="Project id")]
PRECONDITIONS: dict[int | str, dict[str, Any]] = {
    412: {"description": "Changed since it was read"},
    428: {"description": "No If-Match"},
}


@router.get(
    "/projects",
    summary="Projects of the library (项目库) in your scope",
    description="Ordered by region and id; paged by cursor. Filters: `region` (a subtree in your scope), "
    "`status`, `category`, `fiscal_year`.",
    response_model=Page[ProjectRead],
)
async def list_projects(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    region: Annotated[RegionCodeStr | None, Query(description="Only this subtree")] = None,
    project_status: Annotated[ProjectStatus | None, Query(alias="status")] = None,
    category: Annotated[Category | None, Query()] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[ProjectRead]:
    result = await service.list_projects(
        session,
        principal,
        service.ProjectFilter(
            region=region, status=project_status, category=category, fiscal_year=fiscal_year
        ),
        page,
    )
    return Page[ProjectRead](
        items=[ProjectRead.of(project) for project in result.items], next_cursor=result.next_cursor
    )


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    summary="Enter a project into the library (入库)",
    description="County officers (`projects:write`). The project starts `planned`. Refused with 422 and the "
    "rule's code: no performance targets (`project.performance_targets_required`), a region that is not a "
    "village or township (`project.region_level`), financing that does not add up to the budget "
    "(`project.financing_mismatch`).",
    response_model=ProjectRead,
)
async def create_project(
    body: ProjectCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> ProjectRead:
    fields = body.domain_fields(exclude_unset=False) | {"region_code": body.region_code}
    project = await service.create_project(session, principal, fields)
    response.headers["Location"] = f"/api/v1/projects/{project.id}"
    response.headers["ETag"] = service.etag(project)
    return ProjectRead.of(project)


@router.get(
    "/projects/{project_id}",
    summary="A project",
    description="Carries an `ETag`: send it back as `If-Match` when changing the project.",
    response_model=ProjectRead,
)
async def get_project(
    project_id: ProjectId, principal: PrincipalDep, session: SessionDep, response: Response
) -> ProjectRead:
    project = await service.get_project(session, principal, project_id)
    response.headers["ETag"] = service.etag(project)
    return ProjectRead.of(project)


@router.patch(
    "/projects/{project_id}",
    summary="Change a project",
    description="Requires `If-Match`. Budget, financing, category, construction type and year are fixed once "
    "approved (`project.fixed_after_approval`); an accepted project is closed (`project.closed`).",
    response_model=ProjectRead,
    responses=PRECONDITIONS,
)
async def update_project(
    project_id: ProjectId,
    body: ProjectUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectRead:
    project = await service.update_project(
        session, principal, project_id, body.domain_fields(exclude_unset=True), if_match=if_match
    )
    response.headers["ETag"] = service.etag(project)
    return ProjectRead.of(project)


@router.delete(
    "/projects/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a project entered by mistake",
    description="Only while `planned` and before any fund account, transfer or notice names it. Requires "
    "`If-Match`.",
    responses=PRECONDITIONS,
)
async def delete_project(
    project_id: ProjectId, principal: PrincipalDep, session: SessionDep, if_match: IfMatch = None
) -> None:
    await service.delete_project(session, principal, project_id, if_match=if_match)


@router.post(
    "/projects/{project_id}/transitions",
    summary="Move a project one step forward",
    description="planned → approved (批复: only a county officer at the county or above) → "
    "under_construction (开工, sets the actual start) → completed (完工, sets the actual end) → "
    "accepted (验收). "
    "Forward only, one step at a time (422 `project.status_transition`). `If-Match` is optional here.",
    response_model=ProjectRead,
)
async def advance_project(
    project_id: ProjectId,
    body: ProjectTransition,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectRead:
    project = await service.advance_project(
        session,
        principal,
        project_id,
        to=body.status,
        on=body.on,
        approval_document=body.approval_document,
        if_match=if_match,
    )
    response.headers["ETag"] = service.etag(project)
    return ProjectRead.of(project)


@router.get(
    "/projects/{project_id}/beneficiaries",
    summary="A project's beneficiary households (带贫户)",
    description="By household id; paged by cursor. Household numbers only, no personal data.",
    response_model=Page[BeneficiaryRead],
)
async def list_beneficiaries(
    project_id: ProjectId, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[BeneficiaryRead]:
    result = await beneficiaries.list_beneficiaries(session, principal, project_id, page)
    return Page[BeneficiaryRead](
        items=[BeneficiaryRead.model_validate(row) for row in result.items], next_cursor=result.next_cursor
    )


@router.post(
    "/projects/{project_id}/beneficiaries",
    summary="Add beneficiary households (or change their share weights)",
    description="Registered or exited households living in the project's region (422 "
    "`project.beneficiary_region`, `project.beneficiary_status`); all or nothing.",
    response_model=BeneficiariesAdded,
)
async def add_beneficiaries(
    project_id: ProjectId, body: BeneficiariesAdd, principal: PrincipalDep, session: SessionDep
) -> BeneficiariesAdded:
    written = await beneficiaries.add_beneficiaries(
        session, principal, project_id, [entry.model_dump() for entry in body.households]
    )
    return BeneficiariesAdded(written=written)


@router.delete(
    "/projects/{project_id}/beneficiaries/{household_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a beneficiary household",
    description="Idempotent: removing a household that is not (or no longer) a beneficiary changes nothing.",
)
async def remove_beneficiary(
    project_id: ProjectId,
    household_id: Annotated[uuid.UUID, Path(description="Household id")],
    principal: PrincipalDep,
    session: SessionDep,
) -> None:
    await beneficiaries.remove_beneficiary(session, principal, project_id, household_id)


@router.post(
    "/projects/{project_id}/income-sharing",
    status_code=status.HTTP_201_CREATED,
    summary="Share a project's income out to its beneficiaries (分红)",
    description="Finance officers (`funds:write`). A batch of disbursements from the project's account to "
    "each beneficiary household's payee account, equal or by weight, to the fen (the parts add up to the "
    "amount). Only from a completed or accepted project that shares income and has beneficiaries. All "
    "or nothing. Requires `Idempotency-Key`: the same key with the same body pays nothing twice.",
    response_model=IncomeSharingRead,
)
async def share_income(
    project_id: ProjectId,
    body: IncomeSharingCreate,
    principal: PrincipalDep,
    session: SessionDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=200, description="A key unique to this sharing out"),
    ] = None,
) -> IncomeSharingRead:
    result = await sharing.share_income(
        session,
        principal,
        project_id,
        amount_fen=to_fen(body.amount),
        fiscal_year=body.fiscal_year,
        document_number=body.document_number,
        purpose=body.purpose,
        idempotency_key=idempotency_key,
    )
    return IncomeSharingRead.model_validate(result.as_dict())
