"""Use cases of reference data. What applies to a record is the most specific row among its region and
that region's ancestors: national defaults, overridden or extended by a province or a county."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import CodeEntry, PovertyLine, RegionSetting
from app.domain.access import require
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import applicable, readable_reference, scoped

CODE_LISTS = (
    "identification_standard",
    "attribute",
    "category",
    "cause",
    "relation",
    "education",
    "schooling",
    "health",
    "labour_ability",
    "housing_structure",
    "fuel",
    "drinking_water",
    "monitoring_kind",
)
STANDARDS = ("national", "provincial", "prefecture")


def _specificity(region_code: str) -> int:
    return len(codes.region_prefix(region_code))


# Code lists -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeBook:
    """The code lists as they apply to one region in one year: ``{list: {code: label}}``."""

    entries: dict[str, dict[str, str]]
    year: int

    def label(self, list_name: str, code: str) -> str | None:
        return self.entries.get(list_name, {}).get(code)

    def check(self, list_name: str, code: str | None, loc: tuple[str | int, ...]) -> FieldError | None:
        if code is None or code in self.entries.get(list_name, {}):
            return None
        allowed = ", ".join(sorted(self.entries.get(list_name, {})))
        return FieldError(
            loc, f"{code!r} is not in the code list {list_name} for {self.year} (one of: {allowed})", "code"
        )


def _applies_in(entry: CodeEntry, year: int) -> bool:
    return (entry.valid_from is None or entry.valid_from <= year) and (
        entry.valid_to is None or year <= entry.valid_to
    )


async def code_book(session: AsyncSession, region_code: str, year: int) -> CodeBook:
    rows = (await session.scalars(applicable(CodeEntry, region_code))).all()
    chosen: dict[tuple[str, str], CodeEntry] = {}
    for entry in sorted(rows, key=lambda e: _specificity(e.region_code)):
        chosen[(entry.list_name, entry.code)] = entry  # the most specific region wins
    entries: dict[str, dict[str, str]] = {}
    for (list_name, code), entry in sorted(chosen.items(), key=lambda item: (item[1].sort_order, item[0])):
        if entry.is_active and _applies_in(entry, year):
            entries.setdefault(list_name, {})[code] = entry.label
    return CodeBook(entries, year)


async def list_code_entries(
    session: AsyncSession, principal: Principal, *, list_name: str | None = None
) -> list[CodeEntry]:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = readable_reference(CodeEntry, principal)
    if list_name is not None:
        statement = statement.where(CodeEntry.list_name == list_name)
    statement = statement.order_by(
        CodeEntry.list_name, CodeEntry.sort_order, CodeEntry.code, CodeEntry.region_code
    )
    return list((await session.scalars(statement)).all())


async def create_code_entry(
    session: AsyncSession,
    principal: Principal,
    *,
    list_name: str,
    code: str,
    label: str,
    region_code: str,
    valid_from: int | None = None,
    valid_to: int | None = None,
    sort_order: int = 100,
    is_active: bool = True,
) -> CodeEntry:
    """Add an entry for a region and its subtree, or override (relabel, retire) an inherited one."""
    require(principal, Permission.REFERENCE_WRITE)
    await ensure_region_exists(session, principal, region_code)
    _check_list(list_name)
    _check_years(valid_from, valid_to)
    entry = CodeEntry(
        list_name=list_name,
        code=code,
        label=label,
        region_code=region_code,
        valid_from=valid_from,
        valid_to=valid_to,
        sort_order=sort_order,
        is_active=is_active,
    )
    try:
        async with session.begin_nested():
            session.add(entry)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            f"{list_name}/{code} is already set for {region_code}; change that entry.", "codes.exists"
        ) from None
    return entry


async def update_code_entry(
    session: AsyncSession, principal: Principal, entry_id: int, changes: dict[str, Any]
) -> CodeEntry:
    entry = await session.scalar(scoped(CodeEntry, principal).where(CodeEntry.id == entry_id))
    if entry is None:
        raise NotFound("code entry")
    require(principal, Permission.REFERENCE_WRITE)
    _check_years(changes.get("valid_from", entry.valid_from), changes.get("valid_to", entry.valid_to))
    for name, value in changes.items():
        setattr(entry, name, value)
    await session.flush()
    return entry


def _check_list(list_name: str) -> None:
    if list_name not in CODE_LISTS:
        raise InvalidInput(
            f"There is no code list {list_name!r}.",
            "codes.unknown_list",
            errors=[FieldError(("body", "list_name"), f"one of {', '.join(CODE_LISTS)}", "unknown")],
        )


def _check_years(valid_from: int | None, valid_to: int | None) -> None:
    if valid_from is not None and valid_to is not None and valid_from > valid_to:
        raise InvalidInput(
            "valid_from is after valid_to.",
            "codes.years",
            errors=[FieldError(("body", "valid_to"), "before valid_from", "range")],
        )


# Poverty lines --------------------------------------------------------------------------------------


async def poverty_line(session: AsyncSession, region_code: str, year: int, standard: str) -> Decimal | None:
    """The line that applies to a region for a year and a standard: the most specific one set."""
    rows = (
        await session.scalars(
            applicable(PovertyLine, region_code).where(
                PovertyLine.year == year,
                PovertyLine.standard == standard,
            )
        )
    ).all()
    if not rows:
        return None
    return max(rows, key=lambda line: _specificity(line.region_code)).amount


async def list_poverty_lines(session: AsyncSession, principal: Principal) -> list[PovertyLine]:
    require(principal, Permission.HOUSEHOLDS_READ)
    statement = readable_reference(PovertyLine, principal).order_by(
        PovertyLine.year, PovertyLine.standard, PovertyLine.region_code
    )
    return list((await session.scalars(statement)).all())


async def set_poverty_line(
    session: AsyncSession,
    principal: Principal,
    *,
    region_code: str,
    year: int,
    standard: str,
    amount: Decimal,
) -> PovertyLine:
    """Set (create or change) the line of a region, a year and a standard."""
    require(principal, Permission.REFERENCE_WRITE)
    await ensure_region_exists(session, principal, region_code)
    if standard not in STANDARDS:
        raise InvalidInput(
            f"Unknown standard {standard!r}.",
            "poverty_lines.standard",
            errors=[FieldError(("body", "standard"), f"one of {', '.join(STANDARDS)}", "unknown")],
        )
    line = await session.scalar(
        scoped(PovertyLine, principal).where(
            PovertyLine.region_code == region_code, PovertyLine.year == year, PovertyLine.standard == standard
        )
    )
    if line is None:
        line = PovertyLine(region_code=region_code, year=year, standard=standard, amount=amount)
        session.add(line)
    else:
        line.amount = amount
    await session.flush()
    return line


# Settings -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    description: str
    validate: Callable[[Any], bool]


def _days(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


SETTINGS: dict[str, SettingSpec] = {
    "publicity_days": SettingSpec(
        7, "Days a publicity (公示) lasts before approval may follow", _days(1, 60)
    ),
    "monitoring_publicity_days": SettingSpec(
        5, "Days of the village publicity in monitoring (防返贫监测)", _days(1, 60)
    ),
    "monitoring_decision_days": SettingSpec(
        15, "Days from the first lead to the county's monitoring decision", _days(1, 120)
    ),
}


async def setting(session: AsyncSession, region_code: str, key: str) -> Any:
    rows = (
        await session.scalars(applicable(RegionSetting, region_code).where(RegionSetting.key == key))
    ).all()
    if not rows:
        return SETTINGS[key].default
    return max(rows, key=lambda row: _specificity(row.region_code)).value


async def effective_settings(session: AsyncSession, principal: Principal, region_code: str) -> dict[str, Any]:
    require(principal, Permission.HOUSEHOLDS_READ)
    await ensure_region_exists(session, principal, region_code)  # in scope, well-formed and stored, else 404
    return {key: await setting(session, region_code, key) for key in SETTINGS}


async def set_setting(
    session: AsyncSession, principal: Principal, *, region_code: str, key: str, value: Any
) -> RegionSetting:
    require(principal, Permission.REFERENCE_WRITE)
    await ensure_region_exists(session, principal, region_code)
    spec = SETTINGS.get(key)
    if spec is None or not spec.validate(value):
        detail = (
            f"Unknown setting {key!r}."
            if spec is None
            else f"{value!r} is not a valid value: {spec.description}."
        )
        raise InvalidInput(
            detail, "settings.invalid", errors=[FieldError(("body", "value"), detail, "invalid")]
        )
    row = await session.scalar(
        scoped(RegionSetting, principal).where(
            RegionSetting.region_code == region_code, RegionSetting.key == key
        )
    )
    if row is None:
        row = RegionSetting(
            region_code=region_code, key=key, value=value, created_at=utcnow(), updated_at=utcnow()
        )
        session.add(row)
    else:
        row.value = value
    await session.flush()
    return row
