"""Whether money may go to a project: only projects in the library that have been approved (立项批复).

The ledger (app/domain/funds, helper L) calls these before allocating or disbursing to a project account.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Project
from app.domain.errors import NotFound, RuleViolation
from app.domain.principal import Principal
from app.domain.projects.rules import FUNDABLE_STATUSES
from app.domain.scope import scoped


def project_accepts_funds(project: Project) -> bool:
    """True once the project is approved: approved, under construction, completed or accepted (final
    payments, 尾款, follow acceptance). A planned project is not in the library yet and takes no money."""
    return project.status in FUNDABLE_STATUSES


async def ensure_project_accepts_funds(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID
) -> Project:
    """The project, if money may go to it; NotFound (not in the library or out of scope) or
    RuleViolation ``project.not_approved`` otherwise."""
    project = await session.scalar(scoped(Project, principal).where(Project.id == project_id))
    if project is None:
        raise NotFound("project", "project.not_in_library")
    if not project_accepts_funds(project):
        raise RuleViolation(
            f"The project {project.name} is {project.status}: money goes only to approved projects of the "
            "library (立项批复).",
            "project.not_approved",
        )
    return project
