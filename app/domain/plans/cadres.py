"""Which cadre may be named on a household's measure or visit: an active cadre who works in the caller's
scope, or in the household's village or a region above it (the township or county cadres who serve it)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Cadre
from app.domain.errors import FieldError, NotFound, RuleViolation
from app.domain.principal import Principal
from app.domain.scope import applicable, scoped


async def usable_cadre(
    session: AsyncSession,
    principal: Principal,
    cadre_id: uuid.UUID,
    household_region: str,
    *,
    field: str,
) -> Cadre:
    cadre = await session.scalar(scoped(Cadre, principal).where(Cadre.id == cadre_id))
    if cadre is None:
        cadre = await session.scalar(applicable(Cadre, household_region).where(Cadre.id == cadre_id))
    if cadre is None:
        error = NotFound("cadre")
        error.errors.append(FieldError(("body", field), "no such cadre in your scope or over the household"))
        raise error
    if not cadre.is_active:
        raise RuleViolation(
            f"The cadre {cadre.name} is no longer active: name an active cadre.",
            "cadre.inactive",
            errors=[FieldError(("body", field), "the cadre is not active", "inactive")],
        )
    return cadre
