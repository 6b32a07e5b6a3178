"""The responsibility chain of one household (谁在帮这户): its pairing cadres and units, its village's first
secretary, work team and covering cadres, its township's covering leaders and its county's leaders.

The household must be in the caller's scope; the people responsible for it are shown whatever region they
work in (a village clerk sees the county leader covering their township). Cadres' phones are masked for
callers without the personal-data permission; an unmasked chain is audited. Core rows, two queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Assignment, Cadre, Household, Region, WorkUnit
from app.domain import audit
from app.domain.households.idnumbers import mask_phone
from app.domain.households.masking import may_see_personal_data
from app.domain.households.service import get_household
from app.domain.principal import Principal
from app.domain.regions import codes

ENTRY_COLUMNS = (
    Assignment.id.label("assignment_id"),
    Assignment.kind,
    Assignment.region_code,
    Assignment.is_team_leader,
    Assignment.starts_on,
    Cadre.id.label("cadre_id"),
    Cadre.name.label("cadre_name"),
    Cadre.rank.label("cadre_rank"),
    Cadre.phone.label("cadre_phone"),
    Cadre.region_code.label("cadre_region_code"),
    WorkUnit.id.label("unit_id"),
    WorkUnit.name.label("unit_name"),
    WorkUnit.kind.label("unit_kind"),
    WorkUnit.enterprise_class.label("unit_enterprise_class"),
    WorkUnit.phone.label("unit_phone"),
)


def _unit(row: Any) -> dict[str, Any] | None:
    if row.unit_id is None:
        return None
    return {
        "id": row.unit_id,
        "name": row.unit_name,
        "kind": row.unit_kind,
        "enterprise_class": row.unit_enterprise_class,
        "phone": row.unit_phone,  # an office number, not personal data
    }


def _cadre(row: Any, unmasked: bool) -> dict[str, Any] | None:
    if row.cadre_id is None:
        return None
    phone = row.cadre_phone
    return {
        "id": row.cadre_id,
        "name": row.cadre_name,
        "rank": row.cadre_rank,
        "region_code": row.cadre_region_code,
        "phone": phone if unmasked or not phone else mask_phone(phone),
    }


def _entry(row: Any, unmasked: bool) -> dict[str, Any]:
    cadre = _cadre(row, unmasked)
    unit = _unit(row)
    return {
        "assignment_id": row.assignment_id,
        "kind": row.kind,
        "region_code": row.region_code,
        "is_team_leader": row.is_team_leader,
        "starts_on": row.starts_on,
        # A cadre's unit is where they come from; a unit paired by itself stands alone.
        "cadre": cadre,
        "unit": unit if cadre is None else None,
        "cadre_unit": unit if cadre is not None else None,
    }


async def household_chain(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> dict[str, Any]:
    household = await get_household(session, principal, household_id)  # scope and the read permission
    village = household.region_code
    township = codes.parent_of(village) or village
    county = household.county_code
    unmasked = may_see_personal_data(principal)

    # Whoever covers this household, its village or its township, and the county's leaders.
    rows = (
        await session.execute(
            select(*ENTRY_COLUMNS)  # scope: the chain of a household in scope names who covers it
            .select_from(Assignment)
            .outerjoin(Cadre, Cadre.id == Assignment.cadre_id)
            .outerjoin(WorkUnit, WorkUnit.id == func.coalesce(Assignment.unit_id, Cadre.unit_id))
            .where(
                Assignment.ends_on.is_(None),
                or_(
                    Assignment.household_id == household.id,
                    and_(
                        Assignment.region_code == village,
                        Assignment.kind.in_(("village_cover", "first_secretary", "work_team")),
                    ),
                    and_(Assignment.region_code == township, Assignment.kind == "township_cover"),
                ),
            )
            .order_by(Assignment.kind, Assignment.is_team_leader.desc(), Assignment.starts_on, Assignment.id)
        )
    ).all()
    leaders = (
        await session.execute(
            select(  # scope: the county's leaders, named in the chain of a household in scope
                Cadre.id.label("cadre_id"),
                Cadre.name.label("cadre_name"),
                Cadre.rank.label("cadre_rank"),
                Cadre.phone.label("cadre_phone"),
                Cadre.region_code.label("cadre_region_code"),
                WorkUnit.id.label("unit_id"),
                WorkUnit.name.label("unit_name"),
                WorkUnit.kind.label("unit_kind"),
                WorkUnit.enterprise_class.label("unit_enterprise_class"),
                WorkUnit.phone.label("unit_phone"),
            )
            .outerjoin(WorkUnit, WorkUnit.id == Cadre.unit_id)
            .where(Cadre.region_code == county, Cadre.rank == "county_leader", Cadre.is_active)
            .order_by(Cadre.name, Cadre.id)
        )
    ).all()
    names = dict(
        (
            await session.execute(
                select(Region.code, Region.name).where(  # scope: names of the household's own regions
                    Region.code.in_((village, township, county))
                )
            )
        ).all()
    )

    entries = [_entry(row, unmasked) for row in rows]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_kind.setdefault(entry["kind"], []).append(entry)
    county_leaders = [{**(_cadre(row, unmasked) or {}), "unit": _unit(row)} for row in leaders]
    if unmasked:
        await _audit_phones(session, principal, household, [*rows, *leaders])
    first_secretaries = by_kind.get("first_secretary", [])
    return {
        "household": {
            "id": household.id,
            "region_code": household.region_code,
            "household_number": household.household_number,
            "head_name": household.head_name,
            "status": household.status,
        },
        "village": {"code": village, "name": names.get(village)},
        "township": {"code": township, "name": names.get(township)},
        "county": {"code": county, "name": names.get(county)},
        "pairings": by_kind.get("pairing", []),
        "first_secretary": first_secretaries[0] if first_secretaries else None,
        "work_team": by_kind.get("work_team", []),
        "village_cover": by_kind.get("village_cover", []),
        "township_cover": by_kind.get("township_cover", []),
        "county_leaders": county_leaders,
        "has_responsible_person": any(entry["cadre"] for entry in by_kind.get("pairing", [])),
    }


async def _audit_phones(
    session: AsyncSession, principal: Principal, household: Household, rows: Sequence[Any]
) -> None:
    cadres = sorted({str(row.cadre_id) for row in rows if row.cadre_id is not None and row.cadre_phone})
    if cadres:
        await audit.record(
            session,
            principal,
            action="read_personal_data",
            record_type="cadre",
            record_ids=cadres,
            region_code=household.region_code,
            fields=["cadre.phone"],
            details={"household_id": str(household.id), "via": "responsibility_chain"},
        )
