"""Use cases of the project library (项目库): enter, read, list, change, advance and remove projects.

A project lives in a village or township; out of the caller's scope it is not found. Entering and changing
projects needs ``projects:write`` (county officers); approving one needs a county officer at the county.
Reading needs ``funds:read``. Every write is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import NoticePublication, Project, ProjectBeneficiary, WorkUnit
from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import Conflict, FieldError, NotFound, RuleViolation
from app.domain.households.service import PreconditionFailed, PreconditionRequired
from app.domain.pagination import Page, PageRequest, fetch_page
from app.domain.principal import Permission, Principal
from app.domain.projects import rules
from app.domain.regions import codes
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import applicable, ensure_in_scope, restrict, scoped, within_prefix

# Fields a caller gives; the rest (status, approval, sharing totals, version) belong to the server.
EDITABLE = (
    "name",
    "category",
    "construction_type",
    "content",
    "location",
    "fiscal_year",
    "planned_start",
    "planned_end",
    "responsible_unit_id",
    "responsible_unit_name",
    "budget_fen",
    "financing",
    "performance_targets",
    "benefit_mechanism",
    "income_sharing_basis",
    "expected_annual_income_fen",
)


PROJECT_KEYS = (Project.region_code, Project.id)  # the list's order (index ix_projects_region_code_id)
T = TypeVar("T")


def etag(project: Project) -> str:
    return f'"{project.id}.{project.version}"'


def ensure_version(project: Project, if_match: str | None) -> None:
    if if_match is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the project you read, so that no one else's change is lost.",
            "project.if_match_required",
        )
    accepted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in accepted and etag(project) not in accepted:
        raise PreconditionFailed(
            f"The project changed since you read it (now version {project.version}); read it again.",
            "project.version_mismatch",
        )


async def _flush_versioned(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError:  # a concurrent change passed the same check first
        raise PreconditionFailed(
            "The project changed while your change was being made; read it again.", "project.version_mismatch"
        ) from None


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    project: Project,
    fields: list[str],
    details: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        session,
        principal,
        action=action,
        record_type="project",
        record_ids=[str(project.id)],
        region_code=project.region_code,
        fields=sorted(fields),
        details=details,
    )


# Reading ------------------------------------------------------------------------------------------------


async def get_project(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> Project:
    """A project in scope (404 otherwise: missing and out of scope are indistinguishable)."""
    project = await session.scalar(scoped(Project, principal).where(Project.id == project_id))
    if project is None:
        raise NotFound("project")
    require(principal, Permission.FUNDS_READ)
    return project


@dataclass(frozen=True)
class ProjectFilter:
    region: str | None = None
    status: str | None = None
    category: str | None = None
    fiscal_year: int | None = None


async def list_projects(
    session: AsyncSession, principal: Principal, f: ProjectFilter, page: PageRequest
) -> Page[Project]:
    """Projects in scope, by region then id (index ``ix_projects_region_code_id``)."""
    require(principal, Permission.FUNDS_READ)
    return await fetch_page(
        session, project_filters(scoped(Project, principal), principal, f), PROJECT_KEYS, page
    )


def project_filters(statement: Select[T], principal: Principal, f: ProjectFilter) -> Select[T]:
    """The project list's filters (REST and GraphQL) on a statement over projects already in scope; a
    ``region`` outside the scope is not found."""
    if f.region is not None:
        ensure_in_scope(principal, f.region)
        statement = statement.where(within_prefix(Project.region_code, codes.region_prefix(f.region)))
    if f.status is not None:
        statement = statement.where(Project.status == f.status)
    if f.category is not None:
        statement = statement.where(Project.category == f.category)
    if f.fiscal_year is not None:
        statement = statement.where(Project.fiscal_year == f.fiscal_year)
    return statement


async def beneficiary_counts(
    session: AsyncSession, principal: Principal, project_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many beneficiary households each project has (those the caller can see)."""
    if not project_ids:
        return {}
    statement = restrict(
        select(ProjectBeneficiary.project_id, func.count())  # type: ignore[arg-type]
        .where(ProjectBeneficiary.project_id.in_(project_ids))
        .group_by(ProjectBeneficiary.project_id),
        ProjectBeneficiary,
        principal,
    )
    return {row[0]: row[1] for row in (await session.execute(statement)).all()}


# Writing ------------------------------------------------------------------------------------------------


async def _responsible_unit(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID, region_code: str
) -> WorkUnit:
    """A work unit in the caller's scope, or one over the project's region (a county department)."""
    unit = await session.scalar(scoped(WorkUnit, principal).where(WorkUnit.id == unit_id))
    if unit is None:
        unit = await session.scalar(applicable(WorkUnit, region_code).where(WorkUnit.id == unit_id))
    if unit is None:
        error = NotFound("work unit")
        error.errors.append(FieldError(("body", "responsible_unit_id"), "no such work unit in your scope"))
        raise error
    return unit


def _check(values: dict[str, Any]) -> None:
    rules.check_performance_targets(values["performance_targets"])
    rules.check_schedule(values["planned_start"], values["planned_end"])
    rules.check_financing(values["budget_fen"], values["financing"])


async def create_project(session: AsyncSession, principal: Principal, fields: dict[str, Any]) -> Project:
    require(principal, Permission.PROJECTS_WRITE)
    region_code = fields["region_code"]
    await ensure_region_exists(session, principal, region_code)
    rules.check_project_region(region_code)
    values = {name: fields.get(name) for name in EDITABLE}
    values["financing"] = values["financing"] or []
    values["content"] = values["content"] or ""
    values["benefit_mechanism"] = values["benefit_mechanism"] or ""
    _check(values)
    if values["responsible_unit_id"] is not None:
        unit = await _responsible_unit(session, principal, values["responsible_unit_id"], region_code)
        values["responsible_unit_name"] = values["responsible_unit_name"] or unit.name
    if not values["responsible_unit_name"]:
        raise RuleViolation(
            "Name the responsible unit (责任单位): responsible_unit_id or responsible_unit_name.",
            "project.responsible_unit_required",
            errors=[FieldError(("body", "responsible_unit_name"), "required", "missing")],
        )
    project = Project(
        region_code=region_code,
        county_code=region_code[:6].ljust(12, "0"),
        status="planned",
        income_shared_fen=0,
        created_by=principal.subject,
        **values,
    )
    session.add(project)
    await session.flush()
    await _audit(session, principal, "create", project, [k for k, v in values.items() if v is not None])
    return project


async def update_project(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    if_match: str | None,
) -> Project:
    project = await get_project(session, principal, project_id)
    require(principal, Permission.PROJECTS_WRITE)
    ensure_version(project, if_match)
    rules.check_changeable(project.status, set(changes))
    values = {name: getattr(project, name) for name in EDITABLE} | changes
    _check(values)
    if changes.get("responsible_unit_id") is not None:
        unit = await _responsible_unit(
            session, principal, changes["responsible_unit_id"], project.region_code
        )
        if "responsible_unit_name" not in changes:
            changes["responsible_unit_name"] = unit.name
    for name, value in changes.items():
        setattr(project, name, value)
    await _flush_versioned(session)
    await _audit(session, principal, "update", project, list(changes))
    return project


async def advance_project(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    to: str,
    on: date | None,
    approval_document: str | None,
    if_match: str | None,
) -> Project:
    """One step of the workflow (入库 → 批复 → 开工 → 完工 → 验收), forward only."""
    project = await get_project(session, principal, project_id)
    require(principal, Permission.PROJECTS_WRITE)
    if if_match is not None:
        ensure_version(project, if_match)
    today = clock.today()
    day = on or today
    rules.check_transition(
        project.status, to, on=day, today=today, actual_start=project.actual_start, principal=principal
    )
    fields = ["status"]
    if to == "approved":
        project.approved_by = principal.subject
        project.approved_at = clock.now()
        if approval_document is not None:
            project.approval_document = approval_document
        fields += ["approved_by", "approved_at", "approval_document"]
    elif to == "under_construction":
        project.actual_start = day
        fields.append("actual_start")
    elif to == "completed":
        project.actual_end = day
        fields.append("actual_end")
    elif to == "accepted":
        project.accepted_at = clock.now()
        fields.append("accepted_at")
    previous = project.status
    project.status = to
    await _flush_versioned(session)
    await _audit(session, principal, "transition", project, fields, {"from": previous, "to": to})
    return project


async def delete_project(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, *, if_match: str | None
) -> None:
    """Remove a project entered by mistake: only while it is planned and no money or notice refers to it."""
    project = await get_project(session, principal, project_id)
    require(principal, Permission.PROJECTS_WRITE)
    ensure_version(project, if_match)
    if project.status != "planned":
        raise RuleViolation(
            "Only a planned project can be removed; an approved one stays in the library.",
            "project.delete_not_planned",
        )
    published = await session.scalar(
        restrict(
            select(func.count())
            .select_from(NoticePublication)
            .where(NoticePublication.project_id == project.id),
            NoticePublication,
            principal,
        )
    )
    if published:
        raise Conflict("A notice of this project was published: it cannot be removed.", "project.has_notices")
    await _audit(session, principal, "delete", project, ["id"])
    try:
        async with session.begin_nested():
            await session.execute(
                restrict(
                    delete(ProjectBeneficiary).where(ProjectBeneficiary.project_id == project.id),  # type: ignore[arg-type]
                    ProjectBeneficiary,
                    principal,
                )
            )
            await session.delete(project)
            await session.flush()
    except IntegrityError:  # a fund account or a transfer names it
        raise Conflict(
            "Fund accounts or transfers refer to this project: it cannot be removed.", "project.has_funds"
        ) from None
