"""Rate limits, export quotas and export concurrency per principal (user or machine client).

Limits are moving windows: at most N requests in any minute, at most M exports in any 24 hours.

* With ``FUPIN_REDIS_URL`` the windows live in Redis (the ``limits`` library's moving-window strategy, one
  Lua script per check), so every server process counts against the same limit.
* Without it they live in this process, in a small sliding log per principal: about 1 µs a check, where
  ``limits``' own in-memory storage schedules an expiry task on every hit (~90 µs a request once the event
  loop runs it, bench/limits_overhead.py), and the household list is benchmarked against a bare ceiling.

Export concurrency (at most N exports streaming at once per principal) is counted in the process: an export
holds a connection and a worker for its whole length, which are resources of the process.
"""

from __future__ import annotations

import math
import time
import weakref
from collections import deque
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from app.domain.errors import Forbidden, TooManyRequests
from app.domain.principal import Principal
from app.logging import logger
from app.settings import Settings

MINUTE = 60.0
DAY = 86_400.0
MAX_TRACKED_KEYS = 100_000
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_WARNING_INTERVAL = 60.0


@dataclass(frozen=True, slots=True)
class LimitsOf:
    """The limits that apply to one principal: None where there is none."""

    requests_per_minute: int | None
    exports_per_day: int | None


class _SlidingLog:
    """In-process moving windows: the times of the hits still inside each key's window."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, window: float) -> float:
        """Record a hit if the window has room and answer 0, or answer the seconds until it has room."""
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= MAX_TRACKED_KEYS:
                self._forget_idle(now, window)
            hits = self._hits[key] = deque()
        horizon = now - window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) >= limit:
            return hits[len(hits) - limit] - horizon
        hits.append(now)
        return 0.0

    def _forget_idle(self, now: float, window: float) -> None:
        horizon = now - max(window, DAY)
        idle = [key for key, hits in self._hits.items() if not hits or hits[-1] <= horizon]
        for key in idle:
            del self._hits[key]
        if len(self._hits) >= MAX_TRACKED_KEYS:  # all busy: start over rather than grow without bound
            self._hits.clear()


class _RedisWindows:
    """Moving windows in Redis, shared by every process that uses the same Redis and key prefix."""

    def __init__(self, url: str, key_prefix: str) -> None:
        self._storage = RedisStorage(
            "async+" + url,
            implementation="redispy",
            key_prefix=key_prefix,
            wrap_exceptions=True,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._items: dict[tuple[int, float], RateLimitItem] = {}
        self._warned_at = -math.inf

    async def hit(self, key: str, limit: int, window: float) -> float:
        item = self._items.get((limit, window))
        if item is None:
            kind = RateLimitItemPerMinute if window == MINUTE else RateLimitItemPerDay
            item = self._items[(limit, window)] = kind(limit)
        try:
            if await self._strategy.hit(item, key):
                return 0.0
            stats = await self._strategy.get_window_stats(item, key)
        except StorageError as error:
            # Redis down must not take the service down with it: let the request through, say so.
            now = time.monotonic()
            if now - self._warned_at > REDIS_WARNING_INTERVAL:
                self._warned_at = now
                logger.warning("rate_limits_unavailable", error=str(error.storage_error))
            return 0.0
        return max(stats.reset_time - time.time(), 0.001)

    async def close(self) -> None:
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()


@dataclass
class _Running:
    count: int = 0


@dataclass
class ExportSlot:
    """One export streaming for a principal; :meth:`release` (idempotent) when it ends."""

    _running: dict[str, _Running]
    _key: str
    _released: bool = field(default=False)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        running = self._running.get(self._key)
        if running is not None:
            running.count -= 1
            if running.count <= 0:
                del self._running[self._key]

    def release_with(self, owner: object) -> None:
        """Release also when ``owner`` (a response body that was never iterated) is collected."""
        weakref.finalize(owner, self.release)


class Limiter:
    """One per process (``app.state.limiter``)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._redis = (
            _RedisWindows(settings.redis_url, settings.redis_key_prefix) if settings.redis_url else None
        )
        self._log = _SlidingLog()
        self._running: dict[str, _Running] = {}
        self.is_shared = self._redis is not None

    def limits_of(
        self, principal: Principal, rate_limit_per_minute: int | None, export_quota_per_day: int | None
    ) -> LimitsOf:
        settings = self._settings
        if principal.kind == "client":
            rate = rate_limit_per_minute or settings.rate_limit_client_per_minute
            quota = (
                export_quota_per_day
                if export_quota_per_day is not None
                else settings.export_quota_client_per_day or None
            )
            return LimitsOf(rate or None, quota)
        return LimitsOf(settings.rate_limit_user_per_minute or None, None)

    async def check_request(self, principal: Principal, limits: LimitsOf) -> None:
        """Count one request of ``principal``; 429 past its limit."""
        limit = limits.requests_per_minute
        if limit is None:
            return
        wait = await self._hit("r:" + principal.subject, limit, MINUTE)
        if wait:
            raise TooManyRequests(
                f"Rate limit reached: at most {limit} requests a minute. Try again in {_seconds(wait)} s.",
                _seconds(wait),
                "rate_limit.requests",
            )

    async def start_export(self, principal: Principal, limits: LimitsOf) -> ExportSlot:
        """A slot for one export: within the concurrency cap (checked first, so a refused export costs no
        quota) and the daily quota. 429 past either; 403 when the client's quota is 0."""
        slot = self._take_slot(principal)
        try:
            quota = limits.exports_per_day
            if quota == 0:
                raise Forbidden("This client may not export (its export quota is 0).", "export.not_allowed")
            if quota is not None:
                wait = await self._hit("e:" + principal.subject, quota, DAY)
                if wait:
                    raise TooManyRequests(
                        f"Export quota reached: at most {quota} exports in 24 hours. "
                        f"Try again in {_seconds(wait)} s.",
                        _seconds(wait),
                        "rate_limit.export_quota",
                    )
        except BaseException:
            slot.release()
            raise
        return slot

    def _take_slot(self, principal: Principal) -> ExportSlot:
        cap = self._settings.export_concurrency_per_principal
        running = self._running.setdefault(principal.subject, _Running())
        if running.count >= cap:
            raise TooManyRequests(
                f"At most {cap} exports at once: wait for one to finish.", 5, "rate_limit.concurrent_exports"
            )
        running.count += 1
        return ExportSlot(self._running, principal.subject)

    async def _hit(self, key: str, limit: int, window: float) -> float:
        # The limit is part of the key, as in Redis (``limits`` keys a window by its amount): a changed limit
        # starts a count of its own.
        if self._redis is not None:
            return await self._redis.hit(key, limit, window)
        return self._log.hit(f"{key}/{limit}", limit, window)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()


def _seconds(wait: float) -> int:
    """``Retry-After`` in whole seconds, never 0 (a client retrying at once would be refused again)."""
    return max(1, math.ceil(wait))
