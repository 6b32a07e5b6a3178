"""Sweep declarations of the household registry and its reference data."""

from __future__ import annotations

from sqlalchemy import select

from app.db.models import CodeEntry, Member
from app.db.session import Database
from app.domain.principal import Permission
from app.settings import Settings
from tests.api.sweep import TARGETS, VILLAGES, Listing, Permitted, Spec, Targeted, World, unique_suffix
from tests.factories import household_number, id_number, make_household

HOUSEHOLD = "/api/v1/households/{household_id}"


async def build(db: Database, settings: Settings, world: World) -> None:
    """A registered household with two members in every village; a code list entry in every region."""
    for region in VILLAGES:
        household = await make_household(db, region)
        world.add("household", region, household.id)
        async with db.sessionmaker() as session:
            member = await session.scalar(
                select(Member.id).where(Member.household_id == household.id).limit(1)
            )
        world.add("member", region, member)
    async with db.sessionmaker() as session, session.begin():
        for region in TARGETS:
            entry = CodeEntry(
                list_name="cause", code=f"local_{region[-6:]}", label="本地原因", region_code=region
            )
            session.add(entry)
            await session.flush()
            world.add("code_entry", region, entry.id)


def _household(world: World, region: str) -> dict[str, object]:
    return {"household_id": world.id("household", region)}


def _application(region: str) -> dict[str, object]:
    return {
        "json": {
            "region_code": region,
            "household_number": household_number(region),
            "identification_standard": "national",
            "attribute": "general",
            "primary_cause": "illness",
            "members": [{"name": "赵大山", "id_number": id_number(), "relation": "head"}],
        }
    }


INCOME = {
    "wage_income": "6000",
    "business_income": "1000",
    "property_income": "0",
    "transfer_income": "500",
    "production_costs": "800",
}

SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/households"): Listing(
        Permission.HOUSEHOLDS_READ,
        "/api/v1/households",
        lambda w: [*w.regions("household"), *w.extra_households],
    ),
    ("POST", "/api/v1/households"): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: _application(region),
        permission_first=True,
        targets=VILLAGES,
    ),
    ("GET", HOUSEHOLD): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
    ("PATCH", HOUSEHOLD): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: {
            "path": _household(w, region),
            "json": {"address": f"{unique_suffix()}号"},
            "headers": {"If-Match": "*"},
        },
        targets=VILLAGES,
    ),
    ("GET", HOUSEHOLD + "/members"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
    ("POST", HOUSEHOLD + "/members"): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: {
            "path": _household(w, region),
            "json": {"name": "王小军", "id_number": id_number(), "relation": "child"},
            "headers": {"If-Match": "*"},
        },
        targets=VILLAGES,
    ),
    ("PATCH", HOUSEHOLD + "/members/{member_id}"): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: {
            "path": {**_household(w, region), "member_id": w.id("member", region)},
            "json": {"migrant_work_months": 6},
            "headers": {"If-Match": "*"},
        },
        targets=VILLAGES,
    ),
    ("GET", HOUSEHOLD + "/incomes"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
    ("PUT", HOUSEHOLD + "/incomes/{year}"): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: {"path": {**_household(w, region), "year": 2019}, "json": INCOME},
        targets=VILLAGES,
    ),
    ("GET", HOUSEHOLD + "/indicators"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": _household(w, region)}, targets=VILLAGES
    ),
    ("PUT", HOUSEHOLD + "/indicators/{indicator}"): Targeted(
        Permission.HOUSEHOLDS_WRITE,
        lambda w, region, p: {
            "path": {**_household(w, region), "indicator": "water"},
            "json": {"holds": True, "verified_on": "2020-09-01"},
        },
        targets=VILLAGES,
    ),
    ("GET", "/api/v1/code-lists"): Permitted(Permission.HOUSEHOLDS_READ),
    ("POST", "/api/v1/code-lists"): Targeted(
        Permission.REFERENCE_WRITE,
        lambda w, region, p: {
            "json": {
                "list_name": "fuel",
                "code": f"f{unique_suffix()}",
                "label": "沼气",
                "region_code": region,
            }
        },
        permission_first=True,
    ),
    ("PATCH", "/api/v1/code-lists/{entry_id}"): Targeted(
        Permission.REFERENCE_WRITE,
        lambda w, region, p: {
            "path": {"entry_id": w.id("code_entry", region)},
            "json": {"label": "本地原因二"},
        },
    ),
    ("GET", "/api/v1/poverty-lines"): Permitted(Permission.HOUSEHOLDS_READ),
    ("PUT", "/api/v1/poverty-lines"): Targeted(
        Permission.REFERENCE_WRITE,
        lambda w, region, p: {
            "json": {"region_code": region, "year": 2021, "standard": "national", "amount": "4100"}
        },
        permission_first=True,
    ),
    ("GET", "/api/v1/regions/{code}/settings"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": {"code": region}}, permission_first=True
    ),
    ("PUT", "/api/v1/regions/{code}/settings/{key}"): Targeted(
        Permission.REFERENCE_WRITE,
        lambda w, region, p: {"path": {"code": region, "key": "publicity_days"}, "json": {"value": 7}},
        permission_first=True,
    ),
}
