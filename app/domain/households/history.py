"""A household's history (动态管理记录): every lifecycle step in time order, with the publicity a step
opened and the objections raised in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import HouseholdEvent, Objection, Publicity
from app.domain.households import service
from app.domain.principal import Principal
from app.domain.scope import scoped


@dataclass(frozen=True)
class HistoryEntry:
    event: HouseholdEvent
    publicity: Publicity | None
    objections: list[Objection]


async def history(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> list[HistoryEntry]:
    """Every step of the household in time order, with the publicity it opened and its objections."""
    household = await service.get_household(session, principal, household_id)
    events = (
        await session.scalars(
            scoped(HouseholdEvent, principal)
            .where(HouseholdEvent.household_id == household.id)
            .order_by(HouseholdEvent.at, HouseholdEvent.id)
        )
    ).all()
    publicities = {
        row.id: row
        for row in (
            await session.scalars(scoped(Publicity, principal).where(Publicity.household_id == household.id))
        ).all()
    }
    objections: dict[uuid.UUID | None, list[Objection]] = {}
    for objection in (
        await session.scalars(
            scoped(Objection, principal)
            .where(Objection.household_id == household.id)
            .order_by(Objection.raised_on, Objection.created_at)
        )
    ).all():
        objections.setdefault(objection.publicity_id, []).append(objection)
    return [
        HistoryEntry(
            event,
            publicities.get(event.publicity_id) if event.publicity_id else None,
            objections.get(event.publicity_id, []) if event.publicity_id else [],
        )
        for event in events
    ]
