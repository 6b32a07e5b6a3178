"""The principal of the command line: the operator of the installation, nationwide and holding every role."""

from __future__ import annotations

import uuid

from app.domain.principal import Principal, Role
from app.domain.regions.codes import NATIONAL_CODE

SYSTEM_ID = uuid.UUID(int=0)


def system_principal() -> Principal:
    return Principal.build(
        kind="user",
        id=SYSTEM_ID,
        name="system",
        region_code=NATIONAL_CODE,
        roles=list(Role),
        has_personal_data_grant=True,
    )
