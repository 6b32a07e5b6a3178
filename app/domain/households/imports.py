"""Household imports from CSV or XLSX (layout: :mod:`layout`), run as a background job with a per-row report.

The file is read row by row from a temporary file, in chunks of about 1,000 rows that never split a household.
Each chunk costs a few set-based queries (the chunk's existing households, their members, the ID numbers
active elsewhere) and bulk writes (Core ``executemany``), whatever its size.

Modes:

- dry run: validate everything, write nothing but the report;
- ``all_or_nothing``: validate the whole file first; any error imports nothing; otherwise write it all in one
  transaction (which re-validates, so a register changed in between fails the job rather than a row);
- ``row_by_row``: one pass, a transaction per chunk; households with an error are skipped and reported.

Households are matched by (county, household number) and updated, or counted unchanged; members are matched
by ID number within their household. Members absent from the file are left as they are (a departure is
recorded through the API), and a status changes only through the lifecycle.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Literal, cast

from sqlalchemy import Row, Table, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.models import Household, ImportRowReport, Member, Region
from app.domain import clock, jobs
from app.domain.access import require
from app.domain.errors import DomainError, FieldError, InvalidInput
from app.domain.households import import_writes, layout
from app.domain.households.import_rows import (
    FileState,
    Group,
    ParsedRow,
    RowError,
    chunks,
    groups,
    id_number_errors,
)
from app.domain.households.service import HEAD, county_of, household_field_errors, members_errors
from app.domain.households.spreadsheets import Format, TableReader, UnreadableFile, csv_bytes, xlsx_bytes
from app.domain.principal import Permission, Principal
from app.domain.reference.service import CodeBook, code_book
from app.domain.scope import is_in_scope, restrict

Mode = Literal["all_or_nothing", "row_by_row"]
AnyRow = Row[*tuple[Any, ...]]
REPORTS = cast(Table, ImportRowReport.__table__)
REGION_COLUMNS: tuple[Any, ...] = (Region.code, Region.level)
HOUSEHOLD_CODED = [(c.key, c.code_list) for c in layout.HOUSEHOLD_COLUMNS if c.code_list is not None]
MEMBER_CODED = [(c.field, c.code_list) for c in layout.MEMBER_COLUMNS if c.code_list is not None]
MODES: tuple[Mode, ...] = ("all_or_nothing", "row_by_row")
HOUSEHOLD_KEYS = tuple(column.key for column in layout.HOUSEHOLD_COLUMNS)
MEMBER_FIELDS = tuple(column.field for column in layout.MEMBER_COLUMNS)
EXISTING_COLUMNS = (
    Household.id,
    Household.county_code,
    Household.head_name,
    Household.status,
    *(getattr(Household, key) for key in HOUSEHOLD_KEYS if key != "status"),
)
EXISTING_MEMBER_COLUMNS = (
    Member.id,
    Member.household_id,
    Member.is_active,
    *(getattr(Member, name) for name in MEMBER_FIELDS),
)


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    mode: Mode = "all_or_nothing"


@dataclass
class Counts:
    rows: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    rows_with_errors: int = 0
    rows_skipped: int = 0
    households_with_errors: int = 0

    def add(self, other: Counts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


class ChangedDuringImport(Exception):
    """The second (writing) pass of an all-or-nothing import found an error the first did not."""


# Submitting ---------------------------------------------------------------------------------------------


class FileTooLarge(DomainError):
    status = 413
    title = "Payload too large"


def ensure_may_import(principal: Principal) -> None:
    require(principal, Permission.HOUSEHOLDS_IMPORT)


def template(principal: Principal, fmt: Format) -> bytes:
    """The import layout's header and one example row (CSV: UTF-8 with BOM)."""
    ensure_may_import(principal)
    rows = [list(layout.KEYS), [layout.EXAMPLE[key] for key in layout.KEYS]]
    return csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows, "households")


@dataclass(frozen=True)
class OpenedFile:
    reader: TableReader
    keys: list[str | None]


def open_file(file: IO[bytes], filename: str | None) -> OpenedFile:
    """The file's reader and the key of each header column; InvalidInput saying what is wrong with it."""
    try:
        reader = TableReader.open(file, filename)
        header = reader.header()
    except UnreadableFile as problem:
        raise InvalidInput(
            f"The file cannot be read: {problem}.",
            "household.import.unreadable",
            errors=[FieldError(("file",), str(problem), "unreadable")],
        ) from None
    keys, problems = layout.read_header(header)
    if problems:
        raise InvalidInput(
            "The header (row 1) does not follow the import layout; nothing was imported.",
            "household.import.header",
            errors=[FieldError(("file", 1, p.position, p.name), p.message, p.code) for p in problems],
        )
    return OpenedFile(reader, keys)


async def submit_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    runner: jobs.JobRunner,
    principal: Principal,
    file: IO[bytes],
    filename: str | None,
    options: ImportOptions,
) -> uuid.UUID:
    """Check the file's header, queue the job and start it; the job owns (and closes) the file."""
    try:
        ensure_may_import(principal)
        opened = await asyncio.to_thread(open_file, file, filename)
        async with sessionmaker() as session, session.begin():
            job = await jobs.create_job(
                session,
                principal,
                jobs.HOUSEHOLD_IMPORT,
                {"filename": filename, "dry_run": options.dry_run, "mode": options.mode},
            )
    except BaseException:
        file.close()
        raise

    async def work() -> None:
        try:
            await run_import(sessionmaker, job.id, principal, opened, options)
        finally:
            file.close()

    runner.start(job.id, work)
    return job.id


# Running ------------------------------------------------------------------------------------------------


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    principal: Principal,
    opened: OpenedFile,
    options: ImportOptions,
) -> Counts:
    """Run a queued import job to its end: succeeded (or failed, with nothing imported) and its report."""
    started = time.monotonic()
    summary = {"dry_run": options.dry_run, "mode": options.mode}
    try:
        total = await asyncio.to_thread(opened.reader.count)
        async with sessionmaker() as session, session.begin():
            await jobs.set_state(
                session,
                job_id,
                status="running",
                started_at=utcnow(),
                total=total,
                result={"phase": "validating"},
            )
        writes_now = not options.dry_run and options.mode == "row_by_row"
        importer = Importer(principal, job_id, opened.keys)
        counts = await importer.reporting_pass(sessionmaker, opened.reader, write=writes_now)
    except UnreadableFile as problem:
        written = " (the households before it were imported)" if options.mode == "row_by_row" else ""
        await jobs.fail(sessionmaker, job_id, f"The file cannot be read: {problem}{written}.")
        return Counts()
    if options.dry_run or options.mode == "row_by_row":
        async with sessionmaker() as session, session.begin():
            await jobs.set_state(session, job_id, status="succeeded", **_done(counts, summary, started))
        return counts
    if counts.rows_with_errors:
        nothing = Counts(
            rows=counts.rows,
            rows_with_errors=counts.rows_with_errors,
            rows_skipped=counts.rows_skipped,
            households_with_errors=counts.households_with_errors,
        )
        error = f"{counts.rows_with_errors} row(s) have errors: nothing was imported (all or nothing)."
        await jobs.fail(sessionmaker, job_id, error, **_done(nothing, summary, started))
        return nothing
    return await _write_all(sessionmaker, job_id, principal, opened, summary, started)


async def _write_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    principal: Principal,
    opened: OpenedFile,
    summary: dict[str, Any],
    started: float,
) -> Counts:
    """The writing pass of an all-or-nothing import: one transaction, which also marks the job done."""
    async with sessionmaker() as session, session.begin():
        await jobs.set_state(session, job_id, result={"phase": "writing"})
    try:
        async with sessionmaker() as session, session.begin():
            counts = await Importer(principal, job_id, opened.keys).writing_pass(session, opened.reader)
            await jobs.set_state(session, job_id, status="succeeded", **_done(counts, summary, started))
    except (ChangedDuringImport, IntegrityError):
        await jobs.fail(
            sessionmaker,
            job_id,
            "The register changed while the file was imported: nothing was imported; import the file again.",
        )
        return Counts()
    return counts


def _done(counts: Counts, summary: dict[str, Any], started: float) -> dict[str, Any]:
    """The job's final values: the result, and the rows counted (an XLSX file's total may be known now)."""
    seconds = round(time.monotonic() - started, 3)
    rate = round(counts.rows / seconds) if seconds else None
    result = {"phase": "done", **summary, **asdict(counts), "seconds": seconds, "rows_per_second": rate}
    return {"finished_at": utcnow(), "total": counts.rows, "processed": counts.rows, "result": result}


# The importer -------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a valid household of the file does to the register."""

    group: Group
    household_id: uuid.UUID
    values: dict[str, Any]  # the household's columns from the file, codes resolved
    existing: AnyRow | None
    changed: list[str]
    member_inserts: list[dict[str, Any]] = field(default_factory=list)
    member_updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_unchanged(self) -> bool:
        return self.existing is not None and not (self.changed or self.member_inserts or self.member_updates)


class Importer:
    def __init__(self, principal: Principal, job_id: uuid.UUID, keys: list[str | None]) -> None:
        self.principal = principal
        self.job_id = job_id
        self.keys = keys
        self.present = frozenset(key for key in keys if key is not None)
        self.state = FileState()
        self.regions: dict[str, str | None] = {}  # code → level, None when missing or out of scope
        self.books: dict[str, CodeBook] = {}
        self.year = clock.today().year
        self.statistics = import_writes.Statistics()

    def _chunks(self, reader: TableReader) -> Iterable[list[Group]]:
        return chunks(groups(reader.rows(), self.keys))

    async def reporting_pass(
        self, sessionmaker: async_sessionmaker[AsyncSession], reader: TableReader, *, write: bool
    ) -> Counts:
        """Every chunk in a transaction of its own, with its report rows and the job's progress."""
        counts = Counts()
        async with sessionmaker() as session:
            for chunk in self._chunks(reader):
                counts.add(await self._reporting_chunk(session, chunk, write=write, done=counts.rows))
        return counts

    async def _reporting_chunk(
        self, session: AsyncSession, chunk: list[Group], *, write: bool, done: int
    ) -> Counts:
        parsed = [(row, list(row.errors)) for group in chunk for row in group.rows]
        for attempt in (1, 2):
            try:
                async with session.begin():
                    await _custom_plans(session)
                    counts, plans = await self.validate(session, chunk)
                    if write:
                        inserted = await import_writes.write(
                            session, self.principal, self.job_id, plans, self.present
                        )
                        await self.statistics.grew(session, inserted)
                    await self._report(session, chunk)
                    await jobs.set_state(session, self.job_id, processed=done + counts.rows)
                return counts
            except IntegrityError:
                # A concurrent write took a household number or a person between our reads and writes:
                # validate the chunk again (the other write is visible now), once.
                if attempt == 2:
                    raise
                for row, errors in parsed:
                    row.errors[:] = errors
        raise AssertionError("unreachable")  # pragma: no cover

    async def writing_pass(self, session: AsyncSession, reader: TableReader) -> Counts:
        """The whole file in the caller's transaction; any error (new since validation) fails it all."""
        counts = Counts()
        await _custom_plans(session)
        for chunk in self._chunks(reader):
            chunk_counts, plans = await self.validate(session, chunk)
            if chunk_counts.rows_with_errors:
                raise ChangedDuringImport
            inserted = await import_writes.write(session, self.principal, self.job_id, plans, self.present)
            await self.statistics.grew(session, inserted)
            counts.add(chunk_counts)
        return counts

    async def _report(self, session: AsyncSession, chunk: list[Group]) -> None:
        rows: list[dict[str, Any]] = []
        for group in chunk:
            if not group.has_errors:
                continue
            failing = [row.number for row in group.rows if row.errors]
            for row in group.rows:
                errors = row.errors or [
                    RowError(
                        None, f"skipped with its household (rows with errors: {_rows(failing)})", "skipped"
                    )
                ]
                rows.append(
                    {
                        "job_id": self.job_id,
                        "row": row.number,
                        "outcome": "error" if row.errors else "skipped",
                        "household_number": (group.household_number or "")[:32] or None,
                        "errors": [error.as_dict() for error in errors],
                    }
                )
        if rows:
            await session.execute(REPORTS.insert(), rows)

    # Validation -----------------------------------------------------------------------------------------

    async def validate(self, session: AsyncSession, chunk: list[Group]) -> tuple[Counts, list[Plan]]:
        for group in chunk:
            self.state.check(group)
        villages = await self._villages(session, chunk)
        existing = await self._existing_households(session, chunk, villages)
        members = await self._existing_members(session, [row for row in existing.values() if self._sees(row)])
        conflicts = await self._active_elsewhere(session, chunk, villages)
        plans: list[Plan] = []
        for group in chunk:
            village = villages.get(id(group))
            if village is None:
                id_number_errors(group)
                continue
            found = existing.get((county_of(village), group.household_number or ""))
            plan = self._plan(group, self.books[village], found, members, conflicts)
            if plan is not None:
                plans.append(plan)
        counts = Counts(rows=sum(len(group.rows) for group in chunk))
        for group in chunk:
            if group.has_errors:
                counts.households_with_errors += 1
                errors = sum(1 for row in group.rows if row.errors)
                counts.rows_with_errors += errors
                counts.rows_skipped += len(group.rows) - errors
        for plan in plans:
            if plan.existing is None:
                counts.households_created += 1
            elif plan.is_unchanged:
                counts.households_unchanged += 1
            else:
                counts.households_updated += 1
            counts.members_created += len(plan.member_inserts)
            counts.members_updated += len(plan.member_updates)
        return counts, plans

    def _sees(self, row: AnyRow) -> bool:
        return is_in_scope(self.principal, row.region_code)

    async def _villages(self, session: AsyncSession, chunk: list[Group]) -> dict[int, str]:
        """The village of each group whose region cell names a village in scope (by ``id(group)``)."""
        wanted = {
            code
            for group in chunk
            if (code := group.household.get("region_code")) and code not in self.regions
        }
        if wanted:
            statement = restrict(select(*REGION_COLUMNS), Region, self.principal)
            rows = await session.execute(statement.where(Region.code.in_(wanted)))
            found: dict[str, str] = {code: level for code, level in rows.all()}
            for code in wanted:
                self.regions[code] = found.get(code)
        villages: dict[int, str] = {}
        for group in chunk:
            code = group.household.get("region_code")
            if code is None:
                continue
            level = self.regions[code]
            if level is None:
                group.first.errors.append(
                    RowError("region_code", f"no region {code} in your scope", "not_in_scope")
                )
            elif level != "village":
                group.first.errors.append(
                    RowError(
                        "region_code", f"{code} is a {level}: a household belongs to a village", "not_village"
                    )
                )
            else:
                villages[id(group)] = code
                if code not in self.books:
                    self.books[code] = await code_book(session, code, self.year)
        return villages

    async def _existing_households(
        self, session: AsyncSession, chunk: list[Group], villages: dict[int, str]
    ) -> dict[tuple[str, str], AnyRow]:
        keys = {
            (county_of(villages[id(group)]), group.household_number)
            for group in chunk
            if id(group) in villages and group.household_number
        }
        if not keys:
            return {}
        statement = select(
            *EXISTING_COLUMNS
        ).where(  # scope: numbers are unique per county; a match outside scope only blocks
            Household.county_code.in_({county for county, _ in keys}),
            Household.household_number.in_({number for _, number in keys}),
        )
        rows = (await session.execute(statement)).all()
        return {(row.county_code, row.household_number): row for row in rows}

    async def _existing_members(
        self, session: AsyncSession, households: Sequence[AnyRow]
    ) -> dict[uuid.UUID, list[AnyRow]]:
        by_household: dict[uuid.UUID, list[AnyRow]] = {row.id: [] for row in households}
        if not households:
            return by_household
        statement = restrict(select(*EXISTING_MEMBER_COLUMNS), Member, self.principal).where(
            Member.household_id.in_(list(by_household))
        )
        for row in (await session.execute(statement)).all():
            by_household[row.household_id].append(row)
        return by_household

    async def _active_elsewhere(
        self, session: AsyncSession, chunk: list[Group], villages: dict[int, str]
    ) -> dict[str, AnyRow]:
        """The chunk's people who are active members of some household (anywhere: uniqueness is national)."""
        numbers = {
            number.upper()
            for group in chunk
            if id(group) in villages
            for row in group.rows
            if (number := row.member.get("id_number"))
        }
        if not numbers:
            return {}
        statement = (
            select(
                Member.id_number, Member.household_id, Household.household_number, Household.region_code
            )  # scope: uniqueness is national; only in-scope households are named
            .join(Household, Household.id == Member.household_id)
            # `is_active`, not `is_active IS true`: only the former uses the partial unique index.
            .where(Member.id_number.in_(numbers), Member.is_active)
        )
        return {row.id_number: row for row in (await session.execute(statement)).all()}

    def _plan(
        self,
        group: Group,
        book: CodeBook,
        found: AnyRow | None,
        members: dict[uuid.UUID, list[AnyRow]],
        conflicts: dict[str, AnyRow],
    ) -> Plan | None:
        """Check a household against the register; its plan when every row of it is valid."""
        first = group.first
        if found is not None and not self._sees(found):
            first.errors.append(RowError("household_number", "already used in this county", "taken"))
            found = None  # say nothing more of a household the caller may not see
        values = {key: value for key, value in group.household.items() if key != "household_number"}
        _resolve_codes(values, book)
        # A stored household is checked like an edit: only what the file changes (a code retired since
        # stays valid on the households that have it), its causes together with the stored ones.
        checked, kept = values, None
        if found is not None:
            checked = {key: value for key, value in values.items() if getattr(found, key) != value}
            kept = {"primary_cause": found.primary_cause, "other_causes": found.other_causes}
        for error in household_field_errors(checked, book, loc=(), kept=kept):
            first.errors.append(RowError(str(error.loc[0]) if error.loc else None, error.message, error.code))
        _check_status(first, values, found)
        stored = members.get(found.id, []) if found is not None else []
        plan = Plan(group, found.id if found is not None else uuid.uuid4(), values, found, [])
        self._plan_members(plan, book, stored, conflicts)
        if group.has_errors:
            return None
        if found is not None:
            plan.changed = [
                key for key, value in values.items() if key != "status" and getattr(found, key) != value
            ]
        return plan

    def _plan_members(
        self, plan: Plan, book: CodeBook, stored: list[AnyRow], conflicts: dict[str, AnyRow]
    ) -> None:
        group = plan.group
        file_members = [dict(row.member) for row in group.rows]
        for member in file_members:
            _resolve_codes(member, book, member=True)
            if member.get("id_number"):
                member["id_number"] = member["id_number"].upper()
        # Active members first, so that an inactive row of the same person is matched only when alone.
        by_number = {row.id_number: row for row in sorted(stored, key=lambda row: row.is_active)}
        in_file = {member.get("id_number") for member in file_members}
        # Stored members the file leaves out stay active: they count for "exactly one head".
        staying = [row for row in stored if row.is_active and row.id_number not in in_file]
        checked = [_changes(member, by_number.get(member.get("id_number") or "")) for member in file_members]
        merged = checked + [{"relation": row.relation} for row in staying]
        for error in members_errors(merged, book, loc=(), require_head=True):
            index = error.loc[0] if error.loc else None
            if isinstance(index, int) and index >= len(file_members):
                continue  # about a stored member the file does not touch
            row = group.rows[index] if isinstance(index, int) else group.first
            column = f"member_{error.loc[1]}" if len(error.loc) > 1 else "member_relation"
            if column == "member_id_number" and any(e.column == column for e in row.errors):
                continue
            row.errors.append(RowError(column, error.message, error.code))
        for row, member in zip(group.rows, file_members, strict=True):
            number = member.get("id_number")
            if not number or any(e.column == "member_id_number" for e in row.errors):
                continue
            match = by_number.get(number)
            if match is None or not match.is_active:
                other = conflicts.get(number)
                if other is not None and other.household_id != plan.household_id:
                    row.errors.append(
                        RowError(
                            "member_id_number",
                            f"already an active member of household {other.household_number}"
                            if self._sees(other)
                            else "already an active member of another household",
                            "already_registered",
                        )
                    )
                    continue
            if match is None:
                plan.member_inserts.append(member)
            elif not match.is_active or any(getattr(match, name) != value for name, value in member.items()):
                plan.member_updates.append({**member, "_id": match.id})
        if not group.has_errors:
            heads = [member["name"] for member in file_members if member["relation"] == HEAD]
            heads += [row.name for row in staying if row.relation == HEAD]
            plan.values["head_name"] = heads[0]


async def _custom_plans(session: AsyncSession) -> None:
    """PostgreSQL plans a prepared statement generically after five runs, which for the chunk's long IN
    lists costs more than the query: plan each run for its own values (this transaction only)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _changes(member: dict[str, Any], stored: AnyRow | None) -> dict[str, Any]:
    """What to check of a member: all of a new one; what the file changes of a stored one (with the
    relation and ID number, which the household-wide checks need)."""
    if stored is None:
        return member
    changed = {name: value for name, value in member.items() if getattr(stored, name) != value}
    return {**changed, "relation": member.get("relation"), "id_number": member.get("id_number")}


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10]))
    return shown + (", …" if len(numbers) > 10 else "")


def _resolve_codes(values: dict[str, Any], book: CodeBook, *, member: bool = False) -> None:
    """A coded cell may hold the code or its label (因病 for illness): labels become codes."""
    for name, list_name in MEMBER_CODED if member else HOUSEHOLD_CODED:
        value = values.get(name)
        if value is not None and value not in book.entries.get(list_name, ()):
            values[name] = _code_of(book, list_name, value)
    if not member and values.get("other_causes"):
        values["other_causes"] = [_code_of(book, "cause", cause) for cause in values["other_causes"]]


def _code_of(book: CodeBook, list_name: str, text: str) -> str:
    entries = book.entries.get(list_name, {})
    if text in entries:
        return text
    return next((code for code, label in entries.items() if label == text), text)


def _check_status(first: ParsedRow, values: dict[str, Any], found: AnyRow | None) -> None:
    """A new household comes in as an applicant, registered or exited (with its years); a stored one keeps its
    status, which changes only through the lifecycle."""
    status = values.get("status")
    if found is not None:
        if status is not None and status != found.status:
            first.errors.append(
                RowError(
                    "status",
                    f"the household is {found.status}: a status changes through the lifecycle, not by import",
                    "status_change",
                )
            )
        status = found.status
    else:
        status = status or "applicant"
        values["status"] = status
        if status not in layout.IMPORTABLE_STATUSES:
            first.errors.append(
                RowError("status", "a new household is imported as applicant, registered or exited", "status")
            )
    registered, exited = (
        values.get(key, getattr(found, key) if found is not None else None)
        for key in ("registered_year", "exited_year")
    )
    if status in ("registered", "exited") and registered is None:
        first.errors.append(RowError("registered_year", f"required for a {status} household", "required"))
    if status == "exited" and exited is None:
        first.errors.append(RowError("exited_year", "required for an exited household", "required"))
    if registered is not None and exited is not None and exited < registered:
        first.errors.append(RowError("exited_year", "before the year of registration", "range"))
