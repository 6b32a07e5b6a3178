"""The ledger's per-region settings, registered into :data:`app.domain.reference.service.SETTINGS` (read
and set through ``/api/v1/regions/{code}/settings`` like every other setting)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.reference.service import SETTINGS, SettingSpec, setting

APPROVAL_THRESHOLD = "fund_approval_threshold_yuan"
DEFAULT_APPROVAL_THRESHOLD_YUAN = 500_000
FEN_PER_YUAN = 100


def _whole_yuan(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1_000_000_000_000


FUNDS_SETTINGS: dict[str, SettingSpec] = {
    APPROVAL_THRESHOLD: SettingSpec(
        DEFAULT_APPROVAL_THRESHOLD_YUAN,
        "Transfers above this many yuan from an account of the region wait for a second person's approval "
        "(两人审批); a whole number of yuan, 0 for every transfer",
        _whole_yuan,
    ),
}
SETTINGS.update(FUNDS_SETTINGS)


async def approval_threshold_fen(session: AsyncSession, region_code: str) -> int:
    """The amount (fen) above which a transfer out of an account of ``region_code`` needs approval."""
    return int(await setting(session, region_code, APPROVAL_THRESHOLD)) * FEN_PER_YUAN
