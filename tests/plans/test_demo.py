"""The demo county gains plans, measures in every status and (with the responsibility demo's pairings)
visits; loading twice adds nothing; the five-coverages report shows gaps on it."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db.models import Assignment, AssistancePlan, PlanMeasure, Visit
from app.db.session import Database
from app.domain.demo import load_demo
from app.domain.plans.coverage import CoverageQuery, coverage_report
from app.domain.plans.demo import load_demo_plans
from app.domain.system import system_principal


async def test_demo_plans_measures_and_visits(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        await load_demo(session)
    async with db.sessionmaker() as session:
        plans = await session.scalar(select(func.count()).select_from(AssistancePlan))
        statuses = set((await session.scalars(select(PlanMeasure.status).distinct())).all())
        categories = set((await session.scalars(select(PlanMeasure.category).distinct())).all())
        visits = await session.scalar(select(func.count()).select_from(Visit))
        pairings = await session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.kind == "pairing")
        )
        report = await coverage_report(session, system_principal(), CoverageQuery("620522000000", 2020))
    assert plans is not None
    assert plans > 1000
    assert statuses == {"planned", "in_progress", "done", "cancelled"}
    assert {"education", "house_renovation", "employment", "photovoltaic"} <= categories
    assert bool(visits) == bool(pairings)
    assert len(report["children"]) == 17
    for coverage in report["coverages"].values():
        assert 0 < coverage["lacking"] < coverage["eligible"]
    async with db.sessionmaker() as session, session.begin():
        assert await load_demo_plans(session) == 0
