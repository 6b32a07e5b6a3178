"""Household exports of any filtered list, as CSV, XLSX (the import layout: one row per member, so an unmasked
export imports again) or NDJSON (one household per line with its members), streamed with constant memory.

Households come from one server-side cursor read in batches of :data:`BATCH`; each batch's members come from
one query. Personal data is masked unless the caller holds the personal-data grant, and every export writes
one audit row before the first byte leaves.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

import orjson
from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.db.models import Household, Member
from app.domain import audit, clock
from app.domain.access import require
from app.domain.households import layout, masking
from app.domain.households.queries import SORT_KEYS, HouseholdFilter, household_filters
from app.domain.households.service import HEAD
from app.domain.households.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, CsvEncoder, XlsxWriter
from app.domain.principal import Permission, Principal
from app.domain.regions.codes import region_prefix
from app.domain.scope import ensure_in_scope, restrict

ExportFormat = Literal["csv", "xlsx", "ndjson"]
BATCH = 1000
FILE_BLOCK = 1 << 16
MEDIA_TYPES: dict[ExportFormat, str] = {
    "csv": CSV_MEDIA_TYPE,
    "xlsx": XLSX_MEDIA_TYPE,
    "ndjson": "application/x-ndjson",
}
PERSONAL_FIELDS = ("household.phone", "household.bank_account", "member.id_number")
HOUSEHOLD_KEYS = masking.HOUSEHOLD_FIELDS
MEMBER_KEYS = tuple(name for name in masking.MEMBER_FIELDS if name not in ("household_id", "region_code"))
HOUSEHOLD_COLUMNS = tuple(getattr(Household, name) for name in HOUSEHOLD_KEYS)
MEMBER_COLUMNS = (Member.household_id, *(getattr(Member, name) for name in MEMBER_KEYS))
LAYOUT_HOUSEHOLD = tuple(HOUSEHOLD_KEYS.index(column.key) for column in layout.HOUSEHOLD_COLUMNS)
LAYOUT_MEMBER = tuple(column.field for column in layout.MEMBER_COLUMNS)
REGION_AT = HOUSEHOLD_KEYS.index("region_code")
PHONE_AT, ACCOUNT_AT = (layout.KEYS.index(key) for key in ("phone", "bank_account"))
JSON_OPTIONS = orjson.OPT_UTC_Z


@dataclass(frozen=True)
class ExportPlan:
    filters: HouseholdFilter
    format: ExportFormat
    unmasked: bool
    filename: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


async def begin_export(
    session: AsyncSession, principal: Principal, filters: HouseholdFilter, fmt: ExportFormat
) -> ExportPlan:
    """Check the caller may export this list, and record the export (one audit row) in the caller's
    transaction: the rows are streamed only once it is recorded."""
    if filters.region is not None:
        ensure_in_scope(principal, filters.region)
    require(principal, Permission.HOUSEHOLDS_EXPORT)
    unmasked = masking.may_see_personal_data(principal)
    region = filters.region or principal.region_code
    await audit.record(
        session,
        principal,
        action="export",
        record_type="household",
        region_code=region,
        fields=PERSONAL_FIELDS,
        details={
            "format": fmt,
            "masked": not unmasked,
            "filters": {name: value for name, value in asdict(filters).items() if value is not None},
        },
    )
    prefix = region_prefix(region) or "all"
    return ExportPlan(filters, fmt, unmasked, f"households-{prefix}-{clock.today():%Y%m%d}.{fmt}")


async def stream_export(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    plan: ExportPlan,
    *,
    statement_timeout_ms: int | None = None,
) -> AsyncIterator[bytes]:
    """The export's bytes, a batch of households at a time, read in a session of its own.

    ``statement_timeout_ms`` replaces the server's statement timeout for the export's reads (PostgreSQL;
    0: none): a large export legitimately runs longer than any request should."""
    async with sessionmaker() as session:
        batches = _batches(session, principal, plan.filters, statement_timeout_ms)
        if plan.format == "ndjson":
            async for households, members in batches:
                yield _ndjson(households, members, plan.unmasked)
        elif plan.format == "csv":
            encoder = CsvEncoder()
            yield encoder.encode([layout.KEYS])
            async for households, members in batches:
                yield encoder.encode(_layout_rows(households, members, plan.unmasked))
        else:
            async for block in _xlsx(batches, plan.unmasked):
                yield block


Batch = tuple[Sequence[Row[Any]], dict[Any, list[dict[str, Any]]]]


async def _batches(
    session: AsyncSession, principal: Principal, filters: HouseholdFilter, statement_timeout_ms: int | None
) -> AsyncIterator[Batch]:
    # Core rows on the session's connection: no ORM loading on this hot path (PERFORMANCE.md).
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # The members query takes 1,000 ids: planned generically (after five runs), it costs more than it
        # reads (measured: the export 20% slower).
        await connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        if statement_timeout_ms is not None:
            await connection.execute(text(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}"))
    statement = household_filters(select(*HOUSEHOLD_COLUMNS), principal, filters)
    statement = statement.order_by(*SORT_KEYS[filters.sort]).execution_options(yield_per=BATCH)
    result = await connection.stream(statement)
    async for households in result.partitions():
        yield households, await _members(connection, principal, households)


async def _members(
    connection: AsyncConnection, principal: Principal, households: Sequence[Row[Any]]
) -> dict[Any, list[dict[str, Any]]]:
    """The active members of a batch of households (one query), head first, by household.

    The batch's own villages bound the query besides the scope: with the scope alone (a province: millions
    of members) PostgreSQL ANDed a bitmap of the whole scope into every batch (bench/RESULTS.md).
    """
    villages = [row[REGION_AT] for row in households]
    statement = restrict(
        select(*MEMBER_COLUMNS).where(
            Member.household_id.in_([row[0] for row in households]),
            Member.is_active,
            Member.region_code.between(min(villages), max(villages)),  # scope: narrower, inside restrict()
        ),
        Member,
        principal,
    ).order_by(Member.household_id, Member.relation != HEAD, Member.birth_date, Member.id)
    by_household: dict[Any, list[dict[str, Any]]] = {}
    keys = MEMBER_KEYS
    for row in await connection.execute(statement):
        by_household.setdefault(row[0], []).append(dict(zip(keys, row[1:], strict=True)))
    return by_household


def _json_default(value: Any) -> Any:
    """Decimals as strings (as the API writes them), and asyncpg's own UUID class."""
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _ndjson(
    households: Sequence[Row[Any]], members: dict[Any, list[dict[str, Any]]], unmasked: bool
) -> bytes:
    lines = []
    for row in households:
        household = dict(zip(HOUSEHOLD_KEYS, row, strict=True))
        people = members.get(row[0], [])
        if not unmasked:
            household = masking.mask_row(household, unmasked=False)
            people = [masking.mask_row(member, unmasked=False) for member in people]
        household["members"] = people
        lines.append(orjson.dumps(household, default=_json_default, option=JSON_OPTIONS))
    lines.append(b"")
    return b"\n".join(lines)


def _layout_rows(
    households: Sequence[Row[Any]], members: dict[Any, list[dict[str, Any]]], unmasked: bool
) -> list[list[Any]]:
    """One row per member in the import layout (a household without active members: one row, no member)."""
    rows: list[list[Any]] = []
    for row in households:
        household = [row[index] for index in LAYOUT_HOUSEHOLD]
        if not unmasked:
            masked = masking.mask_row({"phone": row.phone, "bank_account": row.bank_account}, unmasked=False)
            household[PHONE_AT], household[ACCOUNT_AT] = masked["phone"], masked["bank_account"]
        for member in members.get(row[0]) or [{}]:
            shown = member if unmasked else masking.mask_row(member, unmasked=False)
            rows.append(household + [shown.get(name) for name in LAYOUT_MEMBER])
    return rows


async def _xlsx(batches: AsyncIterator[Batch], unmasked: bool) -> AsyncIterator[bytes]:
    """The workbook is written row by row to a temporary file (openpyxl's write-only mode, in a worker
    thread so that the server keeps answering), then streamed from it."""
    writer = XlsxWriter("households")
    try:
        writer.append([layout.KEYS])
        async for households, members in batches:
            await asyncio.to_thread(writer.append, _layout_rows(households, members, unmasked))
    except BaseException:
        writer.discard()
        raise
    file = await asyncio.to_thread(writer.save)
    try:
        while block := await asyncio.to_thread(file.read, FILE_BLOCK):
            yield block
    finally:
        file.close()
