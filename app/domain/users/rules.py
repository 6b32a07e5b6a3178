"""Pure rules of granting: nobody hands out more than they hold, nor reaches outside their subtree."""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.errors import FieldError, Forbidden, InvalidInput
from app.domain.principal import CLIENT_ROLES, Permission, Principal, Role, effective_roles


def ensure_may_grant(
    granter: Principal, roles: Iterable[str], *, personal_data: bool = False, field: str = "roles"
) -> None:
    """An admin of a township cannot create a county user (scope), nor grant a role they do not hold."""
    held = effective_roles(granter.roles)
    beyond = sorted(set(Role(role) for role in roles) - held)
    errors = [
        FieldError(("body", field), f"you do not hold the role {role}", "role_not_held") for role in beyond
    ]
    if personal_data and not granter.can(Permission.PERSONAL_DATA_READ):
        errors.append(
            FieldError(
                ("body", "has_personal_data_grant"),
                "you do not hold the personal-data grant",
                "grant_not_held",
            )
        )
    if errors:
        raise Forbidden(
            "You cannot grant roles or rights you do not hold yourself.", "users.grant_not_held", errors
        )


def ensure_may_manage(granter: Principal, target_roles: Iterable[str], target_has_grant: bool) -> None:
    """Managing an account (rename, disable, reset) needs every right that account holds."""
    ensure_may_grant(granter, target_roles, personal_data=target_has_grant)


def ensure_client_roles(roles: Iterable[str]) -> None:
    """Machine clients read and export, nothing else: a role that writes is refused (issue 7)."""
    writing = sorted(set(Role(role) for role in roles) - CLIENT_ROLES)
    if writing:
        allowed = ", ".join(sorted(CLIENT_ROLES))
        raise InvalidInput(
            f"A machine client is read-only: it may hold only {allowed}.",
            "clients.read_only",
            [FieldError(("body", "roles"), f"the role {role} writes", "write_role") for role in writing],
        )
