"""Use cases of the region tree: look up, list children, import a region list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Region
from app.domain.access import require
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.pagination import Page, PageRequest, fetch_page
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.regions.importer import RegionRow, parse_region_csv
from app.domain.scope import ensure_in_scope, is_in_scope, scoped


@dataclass(frozen=True)
class RegionWithAncestors:
    region: Region
    ancestors: list[Region]


async def get_region(session: AsyncSession, principal: Principal, code: str) -> Region:
    if not codes.is_valid_code(code):
        raise NotFound("region")
    region = await session.scalar(scoped(Region, principal).where(Region.code == code))
    if region is None:
        raise NotFound("region")
    return region


async def get_region_with_ancestors(
    session: AsyncSession, principal: Principal, code: str
) -> RegionWithAncestors:
    region = await get_region(session, principal, code)
    return RegionWithAncestors(region, await ancestors_of(session, region))


async def ancestors_of(session: AsyncSession, region: Region) -> list[Region]:
    """The chain above a region the caller can see: the caller's own ancestors, so no scope applies."""
    chain = codes.ancestors_of(region.code)
    rows = (await session.scalars(select(Region).where(Region.code.in_(chain)))).all()  # scope: ancestors
    by_code = {row.code: row for row in rows}
    return [by_code[code] for code in chain if code in by_code]


async def list_regions(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    parent: str | None = None,
    level: codes.Level | None = None,
) -> Page[Region]:
    statement = scoped(Region, principal)
    if parent is not None:
        if not codes.is_valid_code(parent):
            raise InvalidInput(
                "parent must be a 12-digit region code",
                "region.invalid_code",
                errors=[FieldError(("query", "parent"), "not a well-formed region code")],
            )
        statement = statement.where(Region.parent_code == parent)
    if level is not None:
        statement = statement.where(Region.level == level)
    return await fetch_page(session, statement, [Region.code], page)


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int


async def import_regions(
    session: AsyncSession, principal: Principal, rows: Sequence[RegionRow]
) -> ImportReport:
    """Create or rename regions, all or nothing. Idempotent: importing the same list twice changes nothing.

    Each region must lie in the caller's scope and have its parent already stored or in the same list.
    """
    require(principal, Permission.REGIONS_WRITE)
    errors: list[FieldError] = []
    for row in rows:
        if not is_in_scope(principal, row.code):
            errors.append(FieldError(("file", row.line, "code"), "outside your scope", "out_of_scope"))
    if errors:
        raise InvalidInput(
            "Some regions lie outside your scope; nothing was imported.", "region.import", errors
        )

    in_file = {row.code for row in rows}
    existing = {
        region.code: region
        for region in (await session.scalars(scoped(Region, principal).where(Region.code.in_(in_file)))).all()
    }
    parents = {codes.parent_of(row.code) for row in rows} - in_file - set(existing)
    parents.discard(None)
    # scope: parents may lie above the caller's scope (a county admin adds townships under the county)
    parent_lookup = select(Region.code).where(Region.code.in_(parents))  # scope: see above
    stored_parents = set((await session.scalars(parent_lookup)).all())
    for row in rows:
        parent = codes.parent_of(row.code)
        if (
            parent is not None
            and parent not in in_file
            and parent not in existing
            and parent not in stored_parents
        ):
            errors.append(
                FieldError(("file", row.line, "code"), f"parent region {parent} does not exist", "no_parent")
            )
    if errors:
        raise InvalidInput("Some regions have no parent; nothing was imported.", "region.import", errors)

    created = updated = unchanged = 0
    for row in sorted(rows, key=lambda r: len(codes.region_prefix(r.code))):
        region = existing.get(row.code)
        if region is None:
            session.add(
                Region(
                    code=row.code,
                    name=row.name,
                    level=codes.level_of(row.code),
                    parent_code=codes.parent_of(row.code),
                )
            )
            created += 1
            await session.flush()
        elif region.name != row.name:
            region.name = row.name
            updated += 1
        else:
            unchanged += 1
    await session.flush()
    return ImportReport(created, updated, unchanged)


async def import_region_file(session: AsyncSession, principal: Principal, data: bytes) -> ImportReport:
    require(principal, Permission.REGIONS_WRITE)
    return await import_regions(session, principal, parse_region_csv(data))


async def ensure_region_exists(session: AsyncSession, principal: Principal, code: str) -> Region:
    """The region a write is aimed at: in scope and stored, else 404 (changing nothing)."""
    ensure_in_scope(principal, code)
    return await get_region(session, principal, code)
