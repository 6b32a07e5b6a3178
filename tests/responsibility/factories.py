"""Records of the responsibility chain, stored directly (the rules are tested through the API)."""

from __future__ import annotations

import uuid
from datetime import date

from app.db.models import Assignment, Cadre, WorkUnit
from app.db.session import Database


async def make_unit(
    db: Database,
    region_code: str,
    *,
    name: str = "县农业农村局",
    kind: str = "department",
    enterprise_class: int | None = None,
    phone: str | None = "0938-6512345",
) -> WorkUnit:
    unit = WorkUnit(
        id=uuid.uuid4(),
        region_code=region_code,
        name=name,
        kind=kind,
        enterprise_class=enterprise_class,
        phone=phone,
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(unit)
    return unit


async def make_cadre(
    db: Database,
    region_code: str,
    *,
    name: str = "张志强",
    rank: str = "general",
    unit_id: uuid.UUID | None = None,
    phone: str | None = "13909381234",
    is_active: bool = True,
) -> Cadre:
    cadre = Cadre(
        id=uuid.uuid4(),
        region_code=region_code,
        name=name,
        rank=rank,
        unit_id=unit_id,
        phone=phone,
        is_active=is_active,
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(cadre)
    return cadre


async def make_assignment(
    db: Database,
    kind: str,
    region_code: str,
    *,
    cadre_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
    is_team_leader: bool = False,
    starts_on: date = date(2020, 1, 1),
    ends_on: date | None = None,
) -> Assignment:
    assignment = Assignment(
        id=uuid.uuid4(),
        kind=kind,
        region_code=region_code,
        cadre_id=cadre_id,
        unit_id=unit_id,
        household_id=household_id,
        is_team_leader=is_team_leader,
        starts_on=starts_on,
        ends_on=ends_on,
        end_reason="轮换" if ends_on else None,
        assigned_by="user:test",
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(assignment)
    return assignment
