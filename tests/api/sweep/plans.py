"""Sweep declarations of assistance plans: plans, measures, visits, visit counts, the five-coverages report
and the household book.

Every village holds a registered household with a 2020 plan, a measure and a visit by the village's cadre
(the cadre the responsibility sweep stores in every region, so this module comes after it in DOMAINS).
Plans are one per household and year, so each plan a principal makes takes a year of its own.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from app.db.models import AssistancePlan, PlanMeasure, Visit
from app.db.session import Database
from app.domain.principal import Permission
from app.settings import Settings
from tests.api.sweep import TARGETS, VILLAGES, Listing, Spec, Targeted, World, unique_suffix
from tests.factories import make_household

HOUSEHOLD = "/api/v1/households/{household_id}"
PLAN = "/api/v1/plans/{plan_id}"
MEASURE = "/api/v1/measures/{measure_id}"


async def build(db: Database, settings: Settings, world: World) -> None:
    for region in VILLAGES:
        household = await make_household(db, region, housing_safety_grade="C")
        world.extra_households.append(region)
        world.add("plan_household", region, household.id)
        async with db.sessionmaker() as session, session.begin():
            plan = AssistancePlan(
                household_id=household.id, region_code=region, year=2020, created_by="user:sweep"
            )
            session.add(plan)
            await session.flush()
            measure = PlanMeasure(
                plan_id=plan.id,
                household_id=household.id,
                region_code=region,
                year=2020,
                category="industry",
                description="种植花椒 2 亩",
                status="planned",
                created_by="user:sweep",
            )
            visit = Visit(
                cadre_id=world.id("cadre", region),
                household_id=household.id,
                region_code=region,
                visited_on=date(2020, 5, 6),
                kind="visit",
                content="入户走访",
                created_by="user:sweep",
                created_by_name="sweep",
            )
            session.add_all([measure, visit])
            await session.flush()
        world.add("plan", region, plan.id)
        world.add("plan_years", region, itertools.count(2021))
        world.add("measure", region, measure.id)
        world.add("visit", region, visit.id)


def _household(world: World, region: str) -> dict[str, Any]:
    return {"household_id": world.id("plan_household", region)}


def _read(kind: str, name: str) -> Targeted:
    return Targeted(
        Permission.HOUSEHOLDS_READ,
        lambda w, region, p: {"path": {name: w.id(kind, region)}},
        targets=VILLAGES,
    )


def _region_report(path: dict[str, str] | None = None, **params: Any) -> Targeted:
    return Targeted(
        Permission.HOUSEHOLDS_READ,
        lambda w, region, p: {"path": {"code": region, **(path or {})}, "params": params},
        targets=TARGETS,
    )


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", HOUSEHOLD + "/plans"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
    ("POST", HOUSEHOLD + "/plans"): Targeted(
        Permission.PLANS_WRITE,
        lambda w, region, p: {
            "path": _household(w, region),
            "json": {"year": next(w.id("plan_years", region))},
        },
        targets=VILLAGES,
    ),
    ("GET", PLAN): _read("plan", "plan_id"),
    ("PATCH", PLAN): Targeted(
        Permission.PLANS_WRITE,
        lambda w, region, p: {
            "path": {"plan_id": w.id("plan", region)},
            "json": {"notes": f"调整 {unique_suffix()}"},
            "headers": {"If-Match": "*"},
        },
        targets=VILLAGES,
    ),
    ("GET", PLAN + "/measures"): _read("plan", "plan_id"),
    ("POST", PLAN + "/measures"): Targeted(
        Permission.PLANS_WRITE,
        lambda w, region, p: {
            "path": {"plan_id": w.id("plan", region)},
            "json": {"category": "employment", "description": "公益性岗位"},
        },
        targets=VILLAGES,
    ),
    ("GET", MEASURE): _read("measure", "measure_id"),
    ("PATCH", MEASURE): Targeted(
        Permission.PLANS_WRITE,
        lambda w, region, p: {
            "path": {"measure_id": w.id("measure", region)},
            "json": {"description": f"种植花椒 {unique_suffix()}"},
            "headers": {"If-Match": "*"},
        },
        targets=VILLAGES,
    ),
    ("GET", "/api/v1/visits"): Listing(
        Permission.HOUSEHOLDS_READ, "/api/v1/visits", lambda w: w.regions("visit")
    ),
    ("POST", "/api/v1/visits"): Targeted(
        Permission.VISITS_WRITE,
        lambda w, region, p: {
            "json": {
                "household_id": str(w.id("plan_household", region)),
                "cadre_id": str(w.id("cadre", region)),
                "visited_on": "2020-06-01",
                "content": "了解务工情况",
            }
        },
        targets=VILLAGES,
    ),
    ("GET", "/api/v1/regions/{code}/visit-counts"): _region_report(**{"from": "2020-01", "to": "2020-12"}),
    ("GET", "/api/v1/regions/{code}/five-coverages"): _region_report(year=2020),
    ("GET", "/api/v1/regions/{code}/five-coverages/{coverage_name}/households"): _region_report(
        {"coverage_name": "house_renovation"}, year=2020
    ),
    ("GET", HOUSEHOLD + "/book"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
}
