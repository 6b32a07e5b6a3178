"""Per-region settings of the project library and fund notices, registered into
:data:`app.domain.reference.service.SETTINGS` (read and set through ``/api/v1/regions/{code}/settings``)."""

from __future__ import annotations

import re
from typing import Any

from app.domain.reference.service import SETTINGS, SettingSpec

COMPLAINT_TELEPHONE = "complaint_telephone"
NOTICE_DEADLINE_WORKING_DAYS = "fund_notice_deadline_working_days"
NOTICE_BOARD_MIN_DAYS = "fund_notice_board_min_days"

_TELEPHONE = re.compile(r"^[0-9][0-9-]{2,19}$")


def _is_telephone(value: Any) -> bool:
    return isinstance(value, str) and bool(_TELEPHONE.fullmatch(value))


def _int(low: int, high: int) -> Any:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


PROJECT_SETTINGS: dict[str, SettingSpec] = {
    COMPLAINT_TELEPHONE: SettingSpec(
        "12317",
        "The telephone for complaints printed on fund notices (监督举报电话; 12317 is the national "
        "poverty-alleviation hotline): digits and dashes, 3 to 20 characters",
        _is_telephone,
    ),
    NOTICE_DEADLINE_WORKING_DAYS: SettingSpec(
        15,
        "Working days (Monday to Friday) after an allocation is issued within which its notice must be "
        "published (资金公告公示)",
        _int(1, 60),
    ),
    NOTICE_BOARD_MIN_DAYS: SettingSpec(
        10, "Days a fund notice stays on a township or village notice board at least", _int(1, 90)
    ),
}
SETTINGS.update(PROJECT_SETTINGS)
