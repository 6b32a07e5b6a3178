"""Throttling of failed logins, per username and per client address.

Counters live in the database so that every server process sees the same ones. A key that reaches its
limit of failures within the window is locked for the lockout period; a success clears the username's key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import LoginThrottle
from app.domain.errors import TooManyRequests
from app.settings import Settings


@dataclass(frozen=True)
class ThrottleKeys:
    username: str
    address: str | None

    def limits(self, settings: Settings) -> list[tuple[str, int]]:
        keys = [(f"user:{self.username.casefold()}", settings.login_max_failures_per_username)]
        if self.address:
            keys.append((f"addr:{self.address}", settings.login_max_failures_per_address))
        return keys


async def ensure_not_locked(session: AsyncSession, settings: Settings, keys: ThrottleKeys) -> None:
    now = utcnow()
    names = [key for key, _ in keys.limits(settings)]
    rows = (await session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(names)))).all()
    waits = [
        row.locked_until - now for row in rows if row.locked_until is not None and row.locked_until > now
    ]
    if waits:
        retry_after = math.ceil(max(waits).total_seconds())
        raise TooManyRequests(
            f"Too many failed sign-ins; try again in {retry_after} seconds.",
            retry_after=retry_after,
            code="auth.login_throttled",
        )


async def record_failure(session: AsyncSession, settings: Settings, keys: ThrottleKeys) -> None:
    now = utcnow()
    window = timedelta(seconds=settings.login_failure_window_seconds)
    for key, limit in keys.limits(settings):
        row = await session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        elif _window_over(row.window_started_at, now, window):
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
    await session.flush()


async def record_success(session: AsyncSession, settings: Settings, keys: ThrottleKeys) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.limits(settings)[0][0]))


def _window_over(started: datetime, now: datetime, window: timedelta) -> bool:
    return now - started > window
