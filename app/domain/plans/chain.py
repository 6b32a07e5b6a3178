"""The responsibility chain as the household book prints it: one row per person or unit, in the order of
the chain (pairing first, county leaders last), from :func:`app.domain.responsibility.chain.household_chain`
(which masks cadres' phones by role and audits an unmasked read)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Cadre, Household
from app.domain.principal import Principal
from app.domain.responsibility.chain import household_chain

RANK_LABELS = {
    "county_leader": "县级领导",
    "section": "科级干部",
    "general": "一般干部",
    "village": "村两委干部",
}
# (key of the chain, kind of assignment), in the order the book prints them
CHAIN_KEYS = (
    ("pairings", "pairing"),
    ("first_secretary", "first_secretary"),
    ("work_team", "work_team"),
    ("village_cover", "village_cover"),
    ("township_cover", "township_cover"),
)
ROLE_LABELS = {
    "pairing": "结对帮扶责任人",
    "first_secretary": "驻村第一书记",
    "work_team": "驻村工作队员",
    "village_cover": "包村干部",
    "township_cover": "包乡领导",
    "county_leader": "县级领导",
}


def _row(role: str, cadre: dict[str, Any] | None, unit: dict[str, Any] | None, since: Any) -> dict[str, Any]:
    if cadre is None:  # an enterprise or organisation paired by itself
        return {
            "role": role,
            "name": (unit or {}).get("name"),
            "rank": None,
            "unit": None,
            "phone": (unit or {}).get("phone"),
            "since": since,
        }
    return {
        "role": role,
        "name": cadre["name"],
        "rank": RANK_LABELS.get(cadre["rank"], cadre["rank"]),
        "unit": (unit or {}).get("name"),
        "phone": cadre["phone"],
        "since": since,
    }


async def chain_rows(
    session: AsyncSession, principal: Principal, household: Household
) -> list[dict[str, Any]]:
    chain = await household_chain(session, principal, household.id)
    rows = []
    for key, kind in CHAIN_KEYS:
        entries = chain.get(key) or []
        for entry in entries if isinstance(entries, list) else [entries]:
            role = ROLE_LABELS[kind]
            if kind == "work_team" and entry.get("is_team_leader"):
                role = "驻村工作队队长"
            unit = entry.get("cadre_unit") or entry.get("unit")
            rows.append(_row(role, entry.get("cadre"), unit, entry.get("starts_on")))
    for leader in chain.get("county_leaders") or []:
        rows.append(_row(ROLE_LABELS["county_leader"], leader, leader.get("unit"), None))
    return rows


async def cadre_names(session: AsyncSession, cadre_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the cadres responsible for measures of a household in scope (their names only)."""
    if not cadre_ids:
        return {}
    # The cadres named on measures of a household in scope, wherever they work.
    statement = select(Cadre.id, Cadre.name).where(Cadre.id.in_(cadre_ids))  # scope: see above
    return {cadre_id: name for cadre_id, name in await session.execute(statement)}
