"""Whether the account behind an access token may still act.

Tokens are verified without the database, but an account that was disabled, or whose password, roles or
scope changed, must stop at once, not when its token expires. Each request checks the account's state,
kept in a short per-process cache (``FUPIN_ACCOUNT_CHECK_SECONDS``), so a change takes effect within that
many seconds on every replica at the cost of one indexed lookup per account per period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import ApiClient, User
from app.domain.auth.tokens import InvalidToken
from app.domain.principal import Principal

MAX_CACHED_ACCOUNTS = 50_000


@dataclass(frozen=True, slots=True)
class AccountState:
    is_active: bool
    tokens_revoked_at: datetime | None
    # A machine client's own limits (None: the server's defaults; users have none of their own).
    rate_limit_per_minute: int | None = None
    export_quota_per_day: int | None = None

    def accepts(self, principal: Principal) -> bool:
        if not self.is_active:
            return False
        if self.tokens_revoked_at is None:
            return True
        revoked_at = self.tokens_revoked_at.timestamp()
        return principal.issued_at is not None and principal.issued_at >= revoked_at


class AccountGate:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, AccountState | None]] = {}

    async def ensure_current(self, principal: Principal) -> AccountState:
        state = await self._state(principal)
        if state is None or not state.accepts(principal):
            raise InvalidToken(
                "This account was disabled or changed since the token was issued; sign in again."
            )
        return state

    async def _state(self, principal: Principal) -> AccountState | None:
        now = time.monotonic()
        cached = self._cache.get(principal.subject)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._sessions() as session:
            state = await _load(session, principal)
        if self._ttl > 0:
            if len(self._cache) >= MAX_CACHED_ACCOUNTS:
                self._cache.clear()
            self._cache[principal.subject] = (now + self._ttl, state)
        return state


async def _load(session: AsyncSession, principal: Principal) -> AccountState | None:
    if principal.kind == "client":
        statement = select(
            ApiClient.is_active,
            ApiClient.tokens_revoked_at,
            ApiClient.rate_limit_per_minute,
            ApiClient.export_quota_per_day,  # scope: the token's owner, whatever its region
        ).where(ApiClient.id == principal.id)
        row = (await session.execute(statement)).first()
        return AccountState(*row) if row is not None else None
    users = select(User.is_active, User.tokens_revoked_at)  # scope: the token's owner, whatever its region
    user = (await session.execute(users.where(User.id == principal.id))).first()
    return AccountState(user.is_active, user.tokens_revoked_at) if user is not None else None
