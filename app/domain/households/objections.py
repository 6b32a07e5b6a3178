"""Objections (异议) to a household's publicity (公示): recorded by the village, settled by the township or
the county. While one is open, no approval of the household goes ahead (see :mod:`lifecycle`)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Objection, Publicity
from app.domain import clock
from app.domain.access import require
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.households import lifecycle, service
from app.domain.households.lifecycle_rules import OBJECTION_RECORDER, OBJECTION_RESOLVER, Authority
from app.domain.principal import Permission, Principal
from app.domain.scope import scoped


async def raise_objection(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    *,
    raised_on: date,
    raised_by: str | None,
    content: str,
) -> Objection:
    """Record an objection (异议) against the household's latest publicity. Until it is resolved, no
    approval of the household goes ahead."""
    household = await lifecycle.lock_household(session, principal, household_id)  # serialised with approvals
    _ensure_permits(OBJECTION_RECORDER, principal, "record an objection")
    publicity = await session.scalar(
        scoped(Publicity, principal)
        .where(Publicity.household_id == household.id)
        .order_by(Publicity.starts_on.desc(), Publicity.created_at.desc())
        .limit(1)
    )
    if publicity is None:
        raise Conflict(
            "The household has never been publicised; there is nothing to object to.",
            "household.no_publicity",
        )
    today = clock.today()
    if raised_on > today or raised_on < publicity.starts_on:
        raise InvalidInput(
            f"An objection to the publicity of {publicity.starts_on.isoformat()} is raised between that day "
            "and today.",
            "objection.raised_on",
            [FieldError(("body", "raised_on"), "before the publicity or in the future", "range")],
        )
    objection = Objection(
        household_id=household.id,
        publicity_id=publicity.id,
        region_code=household.region_code,
        raised_on=raised_on,
        raised_by=raised_by,
        content=content,
        status="open",
        recorded_by_id=principal.id,
        created_at=clock.now(),
    )
    session.add(objection)
    await session.flush()
    return objection


async def resolve_objection(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    objection_id: uuid.UUID,
    *,
    resolution: str,
) -> Objection:
    household = await service.get_household(session, principal, household_id)
    objection = await session.scalar(
        scoped(Objection, principal).where(
            Objection.id == objection_id, Objection.household_id == household.id
        )
    )
    if objection is None:
        raise NotFound("objection")
    require(principal, Permission.HOUSEHOLDS_WRITE)
    _ensure_permits(OBJECTION_RESOLVER, principal, "resolve an objection")
    if objection.status != "open":
        raise Conflict("The objection is already resolved.", "objection.already_resolved")
    objection.status = "resolved"
    objection.resolution = resolution
    objection.resolved_by_id = principal.id
    objection.resolved_at = clock.now()
    await session.flush()
    return objection


def _ensure_permits(authority: Authority, principal: Principal, what: str) -> None:
    if not authority.permits(principal):
        raise lifecycle.not_allowed_here(authority, f"Only a {authority.describe()} may {what}.")
