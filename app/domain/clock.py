"""The service's idea of the current time, in one place so that tests can move it (publicity periods,
monitoring deadlines).

Dates are the server's local calendar date, as elsewhere in the registry: deploy with ``TZ=Asia/Shanghai``
so that a publicity day is a day on the village notice board. Call these through the module
(``clock.today()``), never ``from app.domain.clock import today``, or a test cannot move the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    """The current instant, timezone-aware UTC (what timestamps store)."""
    return datetime.now(UTC)


def today() -> date:
    """The current calendar date (what publicity periods and deadlines count in)."""
    return date.today()
