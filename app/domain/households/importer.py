"""The import's passes over a file: chunk by chunk, set-based lookups, per-household checks, bulk writes and
the per-row report.

Each chunk costs a few queries whatever its size: the regions and code lists not seen yet, the chunk's stored
households (by county and household number), their members, and the chunk's people active anywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Household, ImportRowReport, Member, Region
from app.domain import clock, jobs
from app.domain.households import import_writes, layout
from app.domain.households.import_plans import AnyRow, Plan, plan_household
from app.domain.households.import_rows import FileState, Group, RowError, chunks, groups, id_number_errors
from app.domain.households.service import county_of
from app.domain.households.spreadsheets import TableReader
from app.domain.principal import Principal
from app.domain.reference.service import CodeBook, code_book
from app.domain.scope import is_in_scope, restrict

REPORTS = cast(Table, ImportRowReport.__table__)
REGION_COLUMNS: tuple[Any, ...] = (Region.code, Region.level)
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
            plan = plan_household(self.principal, group, self.books[village], found, members, conflicts)
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


async def _custom_plans(session: AsyncSession) -> None:
    """PostgreSQL plans a prepared statement generically after five runs, which for the chunk's long IN
    lists costs more than the query: plan each run for its own values (this transaction only)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10]))
    return shown + (", …" if len(numbers) > 10 else "")
