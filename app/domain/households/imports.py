"""Household imports from CSV or XLSX (layout: :mod:`layout`), run as a background job with a per-row report.

The file is read row by row from a temporary file, in chunks of about 1,000 rows that never split a household
(:mod:`import_rows`); each chunk costs a few set-based queries and bulk writes whatever its size
(:mod:`importer`, :mod:`import_plans`, :mod:`import_writes`).

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
from dataclasses import asdict, dataclass
from typing import IO, Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.domain import jobs
from app.domain.access import require
from app.domain.errors import DomainError, FieldError, InvalidInput
from app.domain.households import layout
from app.domain.households.importer import ChangedDuringImport, Counts, Importer
from app.domain.households.spreadsheets import Format, TableReader, UnreadableFile, csv_bytes, xlsx_bytes
from app.domain.principal import Permission, Principal

Mode = Literal["all_or_nothing", "row_by_row"]
MODES: tuple[Mode, ...] = ("all_or_nothing", "row_by_row")
__all__ = ["Counts", "ImportOptions", "Mode", "OpenedFile", "open_file", "run_import", "submit_import"]


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    mode: Mode = "all_or_nothing"


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
