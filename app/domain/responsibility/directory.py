"""Work units (帮扶单位) and cadres (帮扶干部): create, read, change, list, each in its region.

A cadre's phone is personal data: masked for callers without the personal-data permission, and every
unmasked read is audited. Lists carry no phones. Every write is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Assignment, Cadre, WorkUnit
from app.domain import audit
from app.domain.access import require
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.households.idnumbers import mask_phone
from app.domain.households.masking import may_see_personal_data
from app.domain.pagination import Page, PageRequest, fetch_rows
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.regions.service import ensure_region_exists
from app.domain.responsibility.rules import violation
from app.domain.scope import restrict, scoped, within_prefix

UNIT_FIELDS = ("id", "region_code", "name", "kind", "enterprise_class", "phone", "created_at", "updated_at")
CADRE_FIELDS = (
    "id",
    "region_code",
    "name",
    "unit_id",
    "rank",
    "phone",
    "is_active",
    "created_at",
    "updated_at",
)
UNIT_KEYS = (WorkUnit.region_code, WorkUnit.id)  # the lists' order
CADRE_KEYS = (Cadre.region_code, Cadre.id)


def _check_enterprise_class(kind: str, enterprise_class: int | None) -> None:
    if enterprise_class is not None and kind != "enterprise":
        raise InvalidInput(
            "Only an enterprise has a class (1 to 4).",
            "work_unit.class_not_enterprise",
            errors=[FieldError(("body", "enterprise_class"), "only enterprises have a class", "invalid")],
        )


async def _audit_write(
    session: AsyncSession,
    principal: Principal,
    action: str,
    record_type: str,
    record_id: uuid.UUID,
    region_code: str,
    fields: list[str],
) -> None:
    await audit.record(
        session,
        principal,
        action=action,
        record_type=record_type,
        record_ids=[str(record_id)],
        region_code=region_code,
        fields=sorted(fields),
    )


# Work units ---------------------------------------------------------------------------------------------


async def get_unit(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> WorkUnit:
    unit = await session.scalar(scoped(WorkUnit, principal).where(WorkUnit.id == unit_id))
    if unit is None:
        raise NotFound("work unit")
    require(principal, Permission.HOUSEHOLDS_READ)
    return unit


def unit_dict(unit: WorkUnit) -> dict[str, Any]:
    return {name: getattr(unit, name) for name in UNIT_FIELDS}


async def create_unit(session: AsyncSession, principal: Principal, fields: dict[str, Any]) -> WorkUnit:
    require(principal, Permission.RESPONSIBILITY_WRITE)
    await ensure_region_exists(session, principal, fields["region_code"])
    _check_enterprise_class(fields["kind"], fields.get("enterprise_class"))
    unit = WorkUnit(**fields)
    session.add(unit)
    await session.flush()
    await _audit_write(session, principal, "create", "work_unit", unit.id, unit.region_code, list(fields))
    return unit


async def update_unit(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID, changes: dict[str, Any]
) -> WorkUnit:
    unit = await get_unit(session, principal, unit_id)
    require(principal, Permission.RESPONSIBILITY_WRITE)
    _check_enterprise_class(unit.kind, changes.get("enterprise_class", unit.enterprise_class))
    for name, value in changes.items():
        setattr(unit, name, value)
    await session.flush()
    await _audit_write(session, principal, "update", "work_unit", unit.id, unit.region_code, list(changes))
    return unit


async def list_units(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    region: str | None = None,
    kind: str | None = None,
) -> Page[dict[str, Any]]:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = unit_list(principal, region=region, kind=kind)
    return await fetch_rows(session, statement, UNIT_KEYS, page)


def unit_list(principal: Principal, *, region: str | None = None, kind: str | None = None) -> Select[Any]:
    """The work units of the list (REST and GraphQL), unordered: rows of :data:`UNIT_FIELDS`."""
    statement = restrict(select(*(getattr(WorkUnit, name) for name in UNIT_FIELDS)), WorkUnit, principal)
    if region is not None:
        statement = statement.where(within_prefix(WorkUnit.region_code, codes.region_prefix(region)))
    if kind is not None:
        statement = statement.where(WorkUnit.kind == kind)
    return statement


# Cadres -------------------------------------------------------------------------------------------------


async def get_cadre(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> Cadre:
    cadre = await session.scalar(scoped(Cadre, principal).where(Cadre.id == cadre_id))
    if cadre is None:
        raise NotFound("cadre")
    require(principal, Permission.HOUSEHOLDS_READ)
    return cadre


async def present_cadre(session: AsyncSession, principal: Principal, cadre: Cadre) -> dict[str, Any]:
    """The cadre with their phone masked for the caller; an unmasked read is audited."""
    values = {name: getattr(cadre, name) for name in CADRE_FIELDS}
    if not may_see_personal_data(principal):
        values["phone"] = mask_phone(cadre.phone) if cadre.phone else cadre.phone
    elif cadre.phone:
        await audit.record(
            session,
            principal,
            action="read_personal_data",
            record_type="cadre",
            record_ids=[str(cadre.id)],
            region_code=cadre.region_code,
            fields=["cadre.phone"],
        )
    return values


async def _ensure_unit(session: AsyncSession, principal: Principal, unit_id: uuid.UUID | None) -> None:
    """The cadre's unit must be one the caller can see (else 404, as if it did not exist)."""
    if unit_id is not None and (
        await session.scalar(scoped(WorkUnit, principal).where(WorkUnit.id == unit_id)) is None
    ):
        raise NotFound("work unit")


async def create_cadre(session: AsyncSession, principal: Principal, fields: dict[str, Any]) -> Cadre:
    require(principal, Permission.RESPONSIBILITY_WRITE)
    await ensure_region_exists(session, principal, fields["region_code"])
    await _ensure_unit(session, principal, fields.get("unit_id"))
    cadre = Cadre(**fields, is_active=True)
    session.add(cadre)
    await session.flush()
    await _audit_write(session, principal, "create", "cadre", cadre.id, cadre.region_code, list(fields))
    return cadre


async def update_cadre(
    session: AsyncSession, principal: Principal, cadre_id: uuid.UUID, changes: dict[str, Any]
) -> Cadre:
    cadre = await get_cadre(session, principal, cadre_id)
    require(principal, Permission.RESPONSIBILITY_WRITE)
    if "unit_id" in changes:
        await _ensure_unit(session, principal, changes["unit_id"])
    if changes.get("is_active") is False and cadre.is_active:
        # Counted over every assignment of the cadre, wherever it is: a cadre of the county may cover a
        # village the caller cannot see, and must not be left assigned there while inactive.
        active = await session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(  # scope: counting, nothing is shown
                Assignment.cadre_id == cadre.id, Assignment.ends_on.is_(None)
            )
        )
        if active:
            raise violation(
                "cadre_has_active_assignments",
                f"{cadre.name} has {active} active assignment(s).",
                field="is_active",
            )
    for name, value in changes.items():
        setattr(cadre, name, value)
    await session.flush()
    await _audit_write(session, principal, "update", "cadre", cadre.id, cadre.region_code, list(changes))
    return cadre


async def list_cadres(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    region: str | None = None,
    rank: str | None = None,
    unit_id: uuid.UUID | None = None,
    is_active: bool | None = None,
) -> Page[dict[str, Any]]:
    """Cadres whose region of work is in scope, without phones, with their unit's name."""
    require(principal, Permission.HOUSEHOLDS_READ)
    columns = [getattr(Cadre, name) for name in CADRE_FIELDS if name != "phone"]
    statement = cadre_filters(
        restrict(
            select(*columns, WorkUnit.name.label("unit_name")).outerjoin(
                WorkUnit, WorkUnit.id == Cadre.unit_id
            ),
            Cadre,
            principal,
        ),
        region=region,
        rank=rank,
        unit_id=unit_id,
        is_active=is_active,
    )
    return await fetch_rows(session, statement, CADRE_KEYS, page)


def cadre_filters(
    statement: Select[Any],
    *,
    region: str | None = None,
    rank: str | None = None,
    unit_id: uuid.UUID | None = None,
    is_active: bool | None = None,
) -> Select[Any]:
    """The cadre list's filters (REST and GraphQL) on a statement over cadres already in scope."""
    if region is not None:
        statement = statement.where(within_prefix(Cadre.region_code, codes.region_prefix(region)))
    if rank is not None:
        statement = statement.where(Cadre.rank == rank)
    if unit_id is not None:
        statement = statement.where(Cadre.unit_id == unit_id)
    if is_active is not None:
        statement = statement.where(Cadre.is_active == is_active)
    return statement
