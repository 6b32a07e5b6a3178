"""Idempotent requests (``Idempotency-Key``): a retried transfer request never moves money twice.

The key is claimed by inserting ``(caller, key)`` in the same transaction as the work it guards, so it
commits with the transfer or not at all. A concurrent request with the same key waits on that insert
(PostgreSQL: the unique index; SQLite: the write lock) and then finds the first response to replay. Only
successful responses are kept: a refused request changed nothing, left no key, and is judged afresh when
sent again. Keys are kept at least :data:`RETENTION`; ``fupin funds purge-keys`` drops older ones. Beyond
that, the transfer itself keeps ``<caller>:<key>`` in a unique column, so even a key sent again after the
purge cannot pay twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.models import IdempotencyKey
from app.domain.errors import Conflict, DomainError, FieldError, RuleViolation
from app.domain.funds.accounts import insert_for
from app.domain.principal import Principal

RETENTION = timedelta(hours=24)
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces
RETRIES = 8
# PostgreSQL's serialization failure and deadlock: the transaction is run again from the start.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


class KeyRequired(DomainError):
    status = 400
    title = "Idempotency-Key required"


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def fingerprint(method: str, path: str, body: Any) -> str:
    """The request as the key remembers it: method, path and the parsed body (canonical JSON)."""
    raw = orjson.dumps([method, path, body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()


def check_key(key: str | None) -> str:
    if key is None:
        raise KeyRequired(
            "Send an `Idempotency-Key` header (a fresh random value per transfer, e.g. a UUID) so that a "
            "retried request never pays twice.",
            "idempotency.key_required",
        )
    if not KEY_PATTERN.fullmatch(key):
        raise KeyRequired(
            "An Idempotency-Key is 1 to 255 printable ASCII characters without spaces.",
            "idempotency.key_invalid",
            errors=[FieldError(("header", "Idempotency-Key"), "1 to 255 printable ASCII characters")],
        )
    return key


async def _claim(session: AsyncSession, principal: Principal, key: str, request_hash: str) -> Outcome | None:
    """Claim the key for this transaction, or find the response of the request that claimed it first."""
    insert = insert_for(session)
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(subject=principal.subject, key=key, request_hash=request_hash, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["subject", "key"])
        .returning(IdempotencyKey.key)
    )
    if claimed is not None:
        return None
    row = await session.scalar(
        select(IdempotencyKey)
        .where(IdempotencyKey.subject == principal.subject, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )
    if row is None:  # purged in between: claim it afresh
        return await _claim(session, principal, key, request_hash)
    if row.request_hash != request_hash:
        raise RuleViolation(
            "This Idempotency-Key came with a different request; use a new key for a new request.",
            "idempotency.key_reused",
        )
    if row.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still in progress.", "idempotency.in_progress")
    return Outcome(row.status_code, row.response, replayed=True)


async def _complete(session: AsyncSession, principal: Principal, key: str, outcome: Outcome) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.subject == principal.subject, IdempotencyKey.key == key)
        .values(status_code=outcome.status_code, response=outcome.body)
    )


def is_retryable(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in RETRYABLE_SQLSTATES


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    key: str,
    request_hash: str,
    work: Callable[[AsyncSession], Awaitable[Outcome]],
) -> Outcome:
    """Run ``work`` in a transaction of its own, at most once per key; retried whole on a serialization
    failure or deadlock. A domain error rolls everything back (the key too) and propagates."""
    for attempt in range(RETRIES):
        try:
            async with sessionmaker() as session, session.begin():
                replay = await _claim(session, principal, key, request_hash)
                if replay is not None:
                    return replay
                outcome = await work(session)
                await _complete(session, principal, key, outcome)
            return outcome
        except DBAPIError as error:
            if not is_retryable(error) or attempt == RETRIES - 1:
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311
    raise AssertionError("unreachable")


async def purge(session: AsyncSession, older_than: timedelta = RETENTION) -> int:
    """Drop keys older than ``older_than`` (at least the retention); returns how many."""
    older_than = max(older_than, RETENTION)
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
