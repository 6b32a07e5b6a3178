"""Records for the plans tests, stored directly: work units, cadres, plans, measures and visits."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from app.db.models import AssistancePlan, Cadre, PlanMeasure, Visit, WorkUnit
from app.db.session import Database

PLANS = "/api/v1/plans"
MEASURES = "/api/v1/measures"
VISITS = "/api/v1/visits"
CADRE_PHONE = "13912348765"


async def make_cadre(
    db: Database,
    region_code: str,
    *,
    name: str = "张卫东",
    rank: str = "general",
    is_active: bool = True,
    unit_name: str | None = "县农业农村局",
    phone: str | None = CADRE_PHONE,
) -> Cadre:
    async with db.sessionmaker() as session, session.begin():
        unit = None
        if unit_name is not None:
            unit = WorkUnit(region_code=region_code[:6].ljust(12, "0"), name=unit_name, kind="department")
            session.add(unit)
            await session.flush()
        cadre = Cadre(
            region_code=region_code,
            name=name,
            rank=rank,
            phone=phone,
            is_active=is_active,
            unit_id=unit.id if unit else None,
        )
        session.add(cadre)
    return cadre


async def make_plan(db: Database, household: Any, year: int = 2020, **fields: Any) -> AssistancePlan:
    async with db.sessionmaker() as session, session.begin():
        plan = AssistancePlan(
            household_id=household.id,
            region_code=household.region_code,
            year=year,
            created_by="user:test",
            **fields,
        )
        session.add(plan)
    return plan


async def make_measure(
    db: Database, plan: AssistancePlan, category: str = "industry", status: str = "planned", **fields: Any
) -> PlanMeasure:
    if status == "done":
        fields.setdefault("actual_start", date(2020, 3, 1))
        fields.setdefault("actual_end", date(2020, 6, 1))
    if status == "in_progress":
        fields.setdefault("actual_start", date(2020, 3, 1))
    async with db.sessionmaker() as session, session.begin():
        measure = PlanMeasure(
            plan_id=plan.id,
            household_id=plan.household_id,
            region_code=plan.region_code,
            year=plan.year,
            category=category,
            description=fields.pop("description", "发展养殖业, 购买基础母羊 5 只"),
            status=status,
            created_by="user:test",
            **fields,
        )
        session.add(measure)
    return measure


async def make_visit(
    db: Database,
    household: Any,
    cadre: Cadre,
    visited_on: date,
    kind: str = "visit",
    content: str = "入户走访, 了解生产生活情况",
) -> Visit:
    async with db.sessionmaker() as session, session.begin():
        visit = Visit(
            id=uuid.uuid4(),
            cadre_id=cadre.id,
            household_id=household.id,
            region_code=household.region_code,
            visited_on=visited_on,
            kind=kind,
            content=content,
            created_by="user:test",
            created_by_name="test",
        )
        session.add(visit)
    return visit
