"""Sweep declarations of the household lifecycle: transitions, history, objections, notice lists.

Steps change a household, so a step that succeeds once cannot succeed again on the same household: the
world holds, per village, a pool of fresh households (one per principal the sweep expects to succeed) for
``report_lead``, the one step every account with ``households:write`` may take at any level, and a pool of
open objections for resolving. Who takes which step at which level is tested in
tests/households/test_lifecycle.py; the sweep proves scope.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.db.base import utcnow
from app.db.models import Household, Objection, Publicity
from app.db.session import Database
from app.domain import clock
from app.domain.households.lifecycle_rules import OBJECTION_RESOLVER
from app.domain.principal import Permission, Principal, Role
from app.domain.regions import codes
from app.settings import Settings
from tests.api.sweep import SWEEP_LEVELS, VILLAGES, Spec, Targeted, World
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B
from tests.factories import household_number, make_household

HOUSEHOLD = "/api/v1/households/{household_id}"
LEAD = {"action": "report_lead", "monitoring_kind": "edge", "lead_source": "cadre"}


def _writes_in(principal: Principal, region: str) -> bool:
    return codes.is_within(region, principal.scope_prefix) and principal.can(Permission.HOUSEHOLDS_WRITE)


def _resolves_in(principal: Principal, region: str) -> bool:
    return codes.is_within(region, principal.scope_prefix) and OBJECTION_RESOLVER.permits(principal)


def _pool_size(region: str, succeeds: Any) -> int:
    """How many of the sweep's principals will succeed in ``region``."""
    principals = [
        Principal.build(kind="user", id=uuid.uuid4(), name="x", region_code=level, roles=[role])
        for level in SWEEP_LEVELS
        for role in Role
    ]
    return sum(1 for principal in principals if succeeds(principal, region))


async def build(db: Database, settings: Settings, world: World) -> None:
    """In every village: an application under village publicity with open objections (the target of
    reads and of objections), and fresh registered households for ``report_lead``."""
    today = clock.today()
    for region in VILLAGES:
        applicant = await make_household(
            db,
            region,
            status="applicant",
            procedure="identification",
            procedure_step="village_publicity",
            procedure_started_on=today,
        )
        world.add("lifecycle_household", region, applicant.id)
        async with db.sessionmaker() as session, session.begin():
            publicity = Publicity(
                household_id=applicant.id,
                region_code=region,
                procedure="identification",
                step="village_publicity",
                level="village",
                starts_on=today,
                ends_on=today,
                created_at=utcnow(),
            )
            session.add(publicity)
            await session.flush()
            objections = [
                Objection(
                    household_id=applicant.id,
                    publicity_id=publicity.id,
                    region_code=region,
                    raised_on=today,
                    content="收入不实",
                    status="open",
                    created_at=utcnow(),
                )
                for _ in range(_pool_size(region, _resolves_in) + 1)
            ]
            session.add_all(objections)
            leads = [
                Household(
                    region_code=region,
                    county_code=region[:6].ljust(12, "0"),
                    household_number=household_number(region),
                    head_name="孙有田",
                    identification_standard="national",
                    attribute="general",
                    primary_cause="illness",
                    other_causes=[],
                    status="registered",
                    registered_year=2015,
                )
                for _ in range(_pool_size(region, _writes_in))
            ]
            session.add_all(leads)
            await session.flush()
        world.add("objection_pool", region, [objection.id for objection in objections])
        world.add("lead_pool", region, [lead.id for lead in leads])
        world.extra_households += [region] * (1 + len(leads))


def _household(world: World, region: str) -> dict[str, Any]:
    return {"household_id": world.id("lifecycle_household", region)}


def _lead(world: World, region: str, principal: Principal) -> dict[str, Any]:
    pool: list[uuid.UUID] = world.id("lead_pool", region)
    target = pool.pop() if _writes_in(principal, region) else world.id("lifecycle_household", region)
    return {"path": {"household_id": target}, "json": LEAD}


def _resolution(world: World, region: str, principal: Principal) -> dict[str, Any]:
    pool: list[uuid.UUID] = world.id("objection_pool", region)
    objection = pool.pop() if _resolves_in(principal, region) else pool[0]
    return {
        "path": {**_household(world, region), "objection_id": objection},
        "json": {"resolution": "经核实, 异议不成立"},
    }


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", HOUSEHOLD + "/history"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
    ("GET", HOUSEHOLD + "/transitions"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
    ("POST", HOUSEHOLD + "/transitions"): Targeted(
        Permission.HOUSEHOLDS_WRITE, lambda w, region, p: _lead(w, region, p), targets=VILLAGES
    ),
    ("POST", HOUSEHOLD + "/objections"): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: {
            "path": _household(w, region),
            "json": {"raised_on": clock.today().isoformat(), "content": "家有小汽车"},
        },
        targets=VILLAGES,
    ),
    ("POST", HOUSEHOLD + "/objections/{objection_id}/resolve"): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: _resolution(w, region, p),
        targets=VILLAGES,
        allows=OBJECTION_RESOLVER.permits,
    ),
    ("GET", "/api/v1/publicity-lists"): Targeted(
        Permission.HOUSEHOLDS_READ,
        lambda w, region, p: {"params": {"region": region}},
        targets=(TOWNSHIP_A, TOWNSHIP_B, *VILLAGES),
    ),
}
