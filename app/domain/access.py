"""Role checks: in scope but not allowed is 403 (scope itself is :mod:`app.domain.scope`'s business)."""

from __future__ import annotations

from app.domain.errors import Forbidden
from app.domain.principal import Permission, Principal


def require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(
            f"Your roles ({', '.join(sorted(principal.roles)) or 'none'}) do not allow this ({permission}).",
            "auth.forbidden",
        )
