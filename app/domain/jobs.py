"""Background jobs (large imports): their rows, their progress, and the in-process runner that executes them.

A job runs as an asyncio task of the process that accepted it, with sessions of its own (opened the way the
request dependency opens one: committed when a unit of work ends, rolled back on any error). Its row says
which process runs it, so that a process starting up can mark the jobs a dead process left ``running`` as
failed ("interrupted") without touching those of live processes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.models import ImportRowReport, Job
from app.domain.access import require
from app.domain.errors import DomainError, NotFound
from app.domain.pagination import Page, PageRequest, fetch_page
from app.domain.principal import Permission, Principal
from app.domain.scope import scoped
from app.logging import logger

HOUSEHOLD_IMPORT = "household_import"
ACTIVE_STATUSES = ("queued", "running")
PERMISSIONS = {HOUSEHOLD_IMPORT: Permission.HOUSEHOLDS_IMPORT}
INTERRUPTED = "interrupted: the process running the job stopped before it finished"


def this_process() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


async def create_job(session: AsyncSession, principal: Principal, kind: str, params: dict[str, Any]) -> Job:
    """A queued job in the caller's own region (who may follow it is decided by scope, like any record)."""
    job = Job(
        kind=kind,
        status="queued",
        region_code=principal.region_code,
        created_by_subject=principal.subject,
        created_by_name=principal.name,
        params={**params, "runner": this_process()},
        processed=0,
        result={},
        created_at=utcnow(),
    )
    session.add(job)
    await session.flush()
    return job


async def get_job(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    job = await session.scalar(scoped(Job, principal).where(Job.id == job_id))
    if job is None:
        raise NotFound("job")
    require(principal, PERMISSIONS.get(job.kind, Permission.HOUSEHOLDS_IMPORT))
    return job


async def report_page(
    session: AsyncSession, principal: Principal, job_id: uuid.UUID, page: PageRequest
) -> Page[ImportRowReport]:
    """The rows of an import that had errors or were skipped, in file order."""
    job = await get_job(session, principal, job_id)
    statement = select(ImportRowReport).where(ImportRowReport.job_id == job.id)
    return await fetch_page(session, statement, (ImportRowReport.row,), page)


# Progress -----------------------------------------------------------------------------------------------


async def set_state(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    """Change the job's own row (status, progress, result); the caller's transaction commits it."""
    statement = update(Job).where(Job.id == job_id)  # scope: the job's own row, found in scope before
    await session.execute(statement.values(**values))


async def fail(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, error: str, **values: Any
) -> None:
    async with sessionmaker() as session, session.begin():
        await set_state(
            session, job_id, **{"status": "failed", "error": error, "finished_at": utcnow(), **values}
        )


async def fail_interrupted(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """At start-up: jobs left queued or running by a process of this host that no longer runs failed."""
    here = this_process()
    async with sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                select(Job.id, Job.params).where(  # scope: start-up housekeeping over every job
                    Job.status.in_(("queued", "running"))
                )
            )
        ).all()
        dead = [
            job_id
            for job_id, params in rows
            if (runner := (params or {}).get("runner", {})).get("host") == here["host"]
            and (runner.get("pid") == here["pid"] or not _is_alive(runner.get("pid")))
        ]
        for job_id in dead:
            await set_state(session, job_id, status="failed", error=INTERRUPTED, finished_at=utcnow())
    if dead:
        logger.warning("jobs interrupted", count=len(dead))
    return len(dead)


async def count_active(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Jobs queued or running in the whole deployment, by status (for the metrics)."""
    async with sessionmaker() as session:
        statement = (
            select(Job.status, func.count())  # scope: an operations count over every job, no record read
            .where(Job.status.in_(ACTIVE_STATUSES))
            .group_by(Job.status)
        )
        return {status: count for status, count in await session.execute(statement)}


def _is_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The runner ---------------------------------------------------------------------------------------------


JobOutcome = Callable[[str, str], None]  # (kind, outcome: succeeded, failed or interrupted)


class JobRunner:
    """Runs jobs as asyncio tasks of this process and keeps a reference to each until it ends (a task
    nobody references may be garbage-collected mid-run).

    ``on_finished`` hears of every job that ends, with its kind and outcome (the metrics count them).
    """

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], on_finished: JobOutcome | None = None
    ) -> None:
        self._sessionmaker = sessionmaker
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._on_finished = on_finished

    def start(self, job_id: uuid.UUID, work: Callable[[], Awaitable[None]]) -> None:
        task = asyncio.create_task(self._run(job_id, work), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _run(self, job_id: uuid.UUID, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except asyncio.CancelledError:
            await asyncio.shield(self._fail(job_id, INTERRUPTED))
            await asyncio.shield(self._report(job_id, "interrupted"))
            raise
        except DomainError as error:
            await self._fail(job_id, error.detail)
        except Exception:
            logger.exception("job failed", job_id=str(job_id))
            await self._fail(job_id, "the job failed unexpectedly; the server log has details")
        await self._report(job_id, None)

    async def _report(self, job_id: uuid.UUID, outcome: str | None) -> None:
        """Tell ``on_finished`` how the job ended: its row's final status unless ``outcome`` says it."""
        if self._on_finished is None:
            return
        try:
            async with self._sessionmaker() as session:
                row = (
                    await session.execute(
                        select(Job.kind, Job.status).where(Job.id == job_id)  # scope: the runner's own job
                    )
                ).one_or_none()
        except Exception:  # the database is gone: the job's own state was logged above
            logger.warning("job outcome not read", job_id=str(job_id))
            return
        if row is not None:
            self._on_finished(row.kind, outcome or row.status)

    async def _fail(self, job_id: uuid.UUID, error: str) -> None:
        try:
            await fail(self._sessionmaker, job_id, error)
        except Exception:  # the database itself is gone: the next start-up marks the job interrupted
            logger.exception("job state not saved", job_id=str(job_id))

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Until every job started so far has ended (tests, and a graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def shutdown(self, grace_seconds: float = 0) -> None:
        """Let running jobs finish for up to ``grace_seconds``, then cancel the rest: each is marked
        failed (interrupted), with what its transactions had committed kept, and can be submitted again."""
        if self._tasks and grace_seconds > 0:
            logger.info("waiting for running jobs", count=len(self._tasks), grace_seconds=grace_seconds)
            _, pending = await asyncio.wait(list(self._tasks.values()), timeout=grace_seconds)
            if pending:
                logger.warning("jobs still running after the shutdown timeout", count=len(pending))
        for task in list(self._tasks.values()):
            task.cancel()
        await self.wait_idle()
