"""Sweep declarations of the responsibility chain: work units, cadres, assignments, chain, coverage.

Making and ending assignments changes the world, so every village holds a pool of fresh cadres (to assign)
and a pool of active assignments (to end), one per principal the sweep expects to succeed there. Which rule
refuses what is tested in tests/responsibility; the sweep proves scope.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from app.db.models import Assignment, Cadre, WorkUnit
from app.db.session import Database
from app.domain.principal import Permission, Principal, Role
from app.domain.regions import codes
from app.settings import Settings
from tests.api.sweep import SWEEP_LEVELS, TARGETS, VILLAGES, Listing, Spec, Targeted, World, unique_suffix

CADRE = "/api/v1/cadres/{cadre_id}"
STARTED = date(2020, 3, 1)
UNIT = "/api/v1/work-units/{unit_id}"
ASSIGNMENT = "/api/v1/assignments/{assignment_id}"


def _writes_in(principal: Principal, region: str) -> bool:
    return codes.is_within(region, principal.scope_prefix) and principal.can(Permission.RESPONSIBILITY_WRITE)


def _pool_size(region: str) -> int:
    principals = [
        Principal.build(kind="user", id=uuid.uuid4(), name="x", region_code=level, roles=[role])
        for level in SWEEP_LEVELS
        for role in Role
    ]
    return sum(1 for principal in principals if _writes_in(principal, region))


async def build(db: Database, settings: Settings, world: World) -> None:
    """A unit and a cadre in every target region; in every village an active village cover (the target
    of reads), a pool of fresh cadres to assign and a pool of active assignments to end."""
    unit_regions: list[str] = []
    cadre_regions: list[str] = []
    assignment_regions: list[str] = []
    async with db.sessionmaker() as session, session.begin():
        for region in TARGETS:
            unit = WorkUnit(region_code=region, name="县扶贫办", kind="department", phone="0938-6500000")
            cadre = Cadre(
                region_code=region, name="周建华", rank="section", phone="13800000001", is_active=True
            )
            session.add_all([unit, cadre])
            await session.flush()
            world.add("work_unit", region, unit.id)
            world.add("cadre", region, cadre.id)
            unit_regions.append(region)
            cadre_regions.append(region)
        for region in VILLAGES:
            size = _pool_size(region)
            fresh = [
                Cadre(region_code=region, name="吴明", rank="general", is_active=True)
                for _ in range(size + 1)
            ]
            session.add_all(fresh)
            await session.flush()
            cadre_regions += [region] * len(fresh)
            covers = [
                Assignment(
                    kind="village_cover",
                    region_code=region,
                    cadre_id=cadre.id,
                    starts_on=STARTED,
                    assigned_by="user:sweep",
                )
                for cadre in fresh
            ]
            read_target = Assignment(
                kind="village_cover",
                region_code=region,
                cadre_id=world.id("cadre", region),
                starts_on=STARTED,
                assigned_by="user:sweep",
            )
            session.add_all([*covers, read_target])
            await session.flush()
            assignment_regions += [region] * (len(covers) + 1)
            world.add("assignment", region, read_target.id)
            world.add("end_pool", region, [cover.id for cover in covers])
            # Cadres to make work team members of; the first one stays for the refused requests.
            world.add("assign_pool", region, [cadre.id for cadre in fresh])
    world.add("unit_regions", "all", unit_regions)
    world.add("cadre_regions", "all", cadre_regions)
    world.add("assignment_regions", "all", assignment_regions)


def _assign(world: World, region: str, principal: Principal) -> dict[str, Any]:
    pool: list[uuid.UUID] = world.id("assign_pool", region)
    # Each succeeding principal takes a cadre no one has assigned yet in this village.
    cadre = pool.pop() if _writes_in(principal, region) and len(pool) > 1 else pool[0]
    return {"json": {"kind": "work_team", "region_code": region, "cadre_id": str(cadre)}}


def _end(world: World, region: str, principal: Principal) -> dict[str, Any]:
    pool: list[uuid.UUID] = world.id("end_pool", region)
    target = pool.pop() if _writes_in(principal, region) and len(pool) > 1 else pool[0]
    return {"path": {"assignment_id": target}, "json": {"reason": "轮换"}}


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/work-units"): Listing(
        Permission.HOUSEHOLDS_READ, "/api/v1/work-units", lambda w: w.id("unit_regions", "all")
    ),
    ("POST", "/api/v1/work-units"): Targeted(
        Permission.RESPONSIBILITY_WRITE,
        lambda w, region, p: {
            "json": {
                "region_code": region,
                "name": f"企业{unique_suffix()}",
                "kind": "enterprise",
                "enterprise_class": 3,
            }
        },
        permission_first=True,
    ),
    ("GET", UNIT): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": {"unit_id": w.id("work_unit", region)}}
    ),
    ("PATCH", UNIT): Targeted(
        Permission.RESPONSIBILITY_WRITE,
        lambda w, region, p: {
            "path": {"unit_id": w.id("work_unit", region)},
            "json": {"name": f"县扶贫办{unique_suffix()}"},
        },
    ),
    ("GET", "/api/v1/cadres"): Listing(
        Permission.HOUSEHOLDS_READ, "/api/v1/cadres", lambda w: w.id("cadre_regions", "all")
    ),
    ("POST", "/api/v1/cadres"): Targeted(
        Permission.RESPONSIBILITY_WRITE,
        lambda w, region, p: {"json": {"region_code": region, "name": "郑国华", "rank": "general"}},
        permission_first=True,
    ),
    ("GET", CADRE): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": {"cadre_id": w.id("cadre", region)}}
    ),
    ("PATCH", CADRE): Targeted(
        Permission.RESPONSIBILITY_WRITE,
        lambda w, region, p: {
            "path": {"cadre_id": w.id("cadre", region)},
            "json": {"phone": f"139{uuid.uuid4().int % 10**8:08d}"},
        },
    ),
    ("GET", "/api/v1/assignments"): Listing(
        Permission.HOUSEHOLDS_READ, "/api/v1/assignments", lambda w: w.id("assignment_regions", "all")
    ),
    ("POST", "/api/v1/assignments"): Targeted(
        Permission.RESPONSIBILITY_WRITE,
        lambda w, region, p: _assign(w, region, p),
        permission_first=True,
        targets=VILLAGES,
    ),
    ("GET", ASSIGNMENT): Targeted(
        Permission.HOUSEHOLDS_READ,
        lambda w, region, p: {"path": {"assignment_id": w.id("assignment", region)}},
        targets=VILLAGES,
    ),
    ("POST", ASSIGNMENT + "/end"): Targeted(
        Permission.RESPONSIBILITY_WRITE, lambda w, region, p: _end(w, region, p), targets=VILLAGES
    ),
    ("GET", "/api/v1/households/{household_id}/responsibility-chain"): Targeted(
        Permission.HOUSEHOLDS_READ,
        lambda w, region, p: {"path": {"household_id": w.id("household", region)}},
        targets=VILLAGES,
    ),
    ("GET", "/api/v1/regions/{code}/coverage"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": {"code": region}}
    ),
}
