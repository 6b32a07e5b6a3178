"""Who is asking: a user or a machine client, with roles, a scope (region prefix) and permissions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from app.domain.regions.codes import region_prefix


class Role(StrEnum):
    VILLAGE_CLERK = "village_clerk"  # 村级录入员, 第一书记
    TOWNSHIP_REVIEWER = "township_reviewer"  # 乡镇审核
    COUNTY_OFFICER = "county_officer"  # 县扶贫办
    FINANCE_OFFICER = "finance_officer"  # 财政/资金
    INSPECTOR = "inspector"  # 督查
    DATA_CONSUMER = "data_consumer"  # 省级系统, dashboards, scripts
    ADMIN = "admin"


class Permission(StrEnum):
    REGIONS_READ = "regions:read"
    REGIONS_WRITE = "regions:write"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    CLIENTS_MANAGE = "clients:manage"
    PERSONAL_DATA_READ = "personal_data:read"
    HOUSEHOLDS_READ = "households:read"
    HOUSEHOLDS_WRITE = "households:write"  # register and edit households, members, incomes, indicators
    HOUSEHOLDS_IMPORT = "households:import"  # bulk loads of existing registers
    HOUSEHOLDS_EXPORT = "households:export"
    REFERENCE_WRITE = "reference:write"  # code lists, poverty lines, per-region settings
    # 责任链: work units, cadres and their assignments (包乡, 包村, 第一书记, 驻村工作队, 结对帮扶)
    RESPONSIBILITY_WRITE = "responsibility:write"
    PLANS_WRITE = "plans:write"  # 帮扶计划: a household's yearly plan and its measures
    VISITS_WRITE = "visits:write"  # 走访, 工作日志
    FUNDS_READ = "funds:read"  # 扶贫资金: accounts, transfers, reports
    FUNDS_WRITE = "funds:write"  # create transfers (appropriate, allocate, disburse, recover, reverse)
    FUNDS_APPROVE = "funds:approve"  # the second person on a transfer above the region's threshold
    PROJECTS_WRITE = "projects:write"  # 项目库: enter and advance projects


# "Everything below, plus ...": a township reviewer may do what a village clerk may, and so on up.
IMPLIED_ROLES: dict[Role, frozenset[Role]] = {
    Role.TOWNSHIP_REVIEWER: frozenset({Role.VILLAGE_CLERK}),
    Role.COUNTY_OFFICER: frozenset({Role.TOWNSHIP_REVIEWER, Role.VILLAGE_CLERK}),
}

_READ = frozenset({Permission.REGIONS_READ, Permission.HOUSEHOLDS_READ, Permission.FUNDS_READ})
_CLERK = _READ | {
    Permission.HOUSEHOLDS_WRITE,
    Permission.HOUSEHOLDS_EXPORT,
    Permission.PLANS_WRITE,
    Permission.VISITS_WRITE,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VILLAGE_CLERK: _CLERK,
    Role.TOWNSHIP_REVIEWER: _CLERK,
    Role.COUNTY_OFFICER: _CLERK
    | {
        Permission.USERS_READ,
        Permission.USERS_MANAGE,
        Permission.HOUSEHOLDS_IMPORT,
        Permission.REFERENCE_WRITE,
        Permission.RESPONSIBILITY_WRITE,
        Permission.PROJECTS_WRITE,
    },
    Role.FINANCE_OFFICER: _READ | {Permission.FUNDS_WRITE, Permission.FUNDS_APPROVE},
    Role.INSPECTOR: _READ
    | {Permission.USERS_READ, Permission.PERSONAL_DATA_READ, Permission.HOUSEHOLDS_EXPORT},
    Role.DATA_CONSUMER: _READ | {Permission.HOUSEHOLDS_EXPORT},
    Role.ADMIN: frozenset(
        {
            Permission.REGIONS_READ,
            Permission.REGIONS_WRITE,
            Permission.USERS_READ,
            Permission.USERS_MANAGE,
            Permission.CLIENTS_MANAGE,
        }
    ),
}


# A machine client reads, and exports what it reads; it never writes (issue 7). Only roles that grant nothing
# more may be given to a client, and a client's principal keeps only those, whatever a row or token says.
CLIENT_PERMISSIONS = frozenset(
    {permission for permission in Permission if permission.value.endswith(":read")}
    | {Permission.HOUSEHOLDS_EXPORT}
)
CLIENT_ROLES = frozenset(role for role in Role if ROLE_PERMISSIONS[role] <= CLIENT_PERMISSIONS)


def effective_roles(roles: Iterable[str]) -> frozenset[Role]:
    """The roles held, with the ones they imply."""
    held = {Role(role) for role in roles}
    for role in list(held):
        held |= IMPLIED_ROLES.get(role, frozenset())
    return frozenset(held)


def permissions_of(roles: Iterable[str], *, has_personal_data_grant: bool = False) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in effective_roles(roles):
        granted |= ROLE_PERMISSIONS[role]
    if has_personal_data_grant:
        granted.add(Permission.PERSONAL_DATA_READ)
    return frozenset(granted)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "client"]
    id: uuid.UUID
    name: str  # username or client id
    region_code: str
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    # When the access token this principal came from was issued (seconds since the epoch), if it did.
    issued_at: float | None = field(default=None, compare=False)
    # "user:<id>" or "client:<id>": the key of caches and logs, built once (it is read on every request).
    subject: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", f"{self.kind}:{self.id}")

    @property
    def scope_prefix(self) -> str:
        return region_prefix(self.region_code)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def holds(self, role: Role) -> bool:
        return role in effective_roles(self.roles)

    @classmethod
    def build(
        cls,
        *,
        kind: Literal["user", "client"],
        id: uuid.UUID,
        name: str,
        region_code: str,
        roles: Iterable[str],
        has_personal_data_grant: bool = False,
        issued_at: float | None = None,
    ) -> Principal:
        role_set = frozenset(Role(role) for role in roles)
        if kind == "client":
            role_set &= CLIENT_ROLES
            has_personal_data_grant = False
        return cls(
            kind=kind,
            id=id,
            name=name,
            region_code=region_code,
            roles=role_set,
            permissions=permissions_of(role_set, has_personal_data_grant=has_personal_data_grant),
            issued_at=issued_at,
        )
