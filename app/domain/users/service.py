"""Use cases of user and machine-client management, limited to the caller's scope and roles."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import ApiClient, Region, User
from app.domain.access import require
from app.domain.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from app.domain.auth.service import end_sessions
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound, RuleViolation
from app.domain.pagination import Page, PageRequest, fetch_page
from app.domain.principal import Permission, Principal, Role
from app.domain.regions.codes import region_prefix
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import scoped, within_prefix
from app.domain.users.rules import ensure_client_roles, ensure_may_grant, ensure_may_manage

M = TypeVar("M", User, ApiClient)


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    region_code: str
    roles: list[Role]
    password: str
    has_personal_data_grant: bool = False
    is_active: bool = True


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
            "users.weak_password",
            errors=[FieldError(("body", field), f"at least {MIN_PASSWORD_LENGTH} characters", "too_short")],
        )


async def list_users(
    session: AsyncSession, principal: Principal, page: PageRequest, *, region: str | None = None
) -> Page[User]:
    require(principal, Permission.USERS_READ)
    statement = scoped(User, principal)
    if region is not None:
        statement = statement.where(within_prefix(User.region_code, region_prefix(region)))
    return await fetch_page(session, statement, [User.region_code, User.id], page)


async def get_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    user = await session.scalar(scoped(User, principal).where(User.id == user_id))
    if user is None:
        raise NotFound("user")
    require(principal, Permission.USERS_READ)
    return user


async def create_user(session: AsyncSession, principal: Principal, new: NewUser) -> User:
    require(principal, Permission.USERS_MANAGE)
    await ensure_region_exists(session, principal, new.region_code)
    ensure_may_grant(principal, new.roles, personal_data=new.has_personal_data_grant)
    check_password_strength(new.password)
    user = User(
        username=new.username,
        display_name=new.display_name,
        region_code=new.region_code,
        roles=sorted(new.roles),
        has_personal_data_grant=new.has_personal_data_grant,
        password_hash=hash_password(new.password),
        password_changed_at=utcnow(),
        is_active=new.is_active,
        created_by=principal.id if principal.kind == "user" else None,
    )
    return await _insert_unique(
        session, user, f"The username {new.username!r} is taken.", "users.username_taken"
    )


async def update_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, changes: dict[str, Any]
) -> User:
    """Apply the given changes (only the keys present). Anything that changes what the account may do ends
    its sessions: password, roles, scope, grant or deactivation."""
    user = await get_user(session, principal, user_id)
    require(principal, Permission.USERS_MANAGE)
    ensure_may_manage(principal, user.roles, user.has_personal_data_grant)
    if "roles" in changes:
        ensure_may_grant(principal, changes["roles"])
        changes["roles"] = sorted(changes["roles"])
    if changes.get("has_personal_data_grant"):
        ensure_may_grant(principal, [], personal_data=True)
    if "region_code" in changes:
        await ensure_region_exists(session, principal, changes["region_code"])
    if user.id == principal.id and (
        changes.get("is_active") is False
        or ("roles" in changes and Role.ADMIN not in changes["roles"] and Role.ADMIN in user.roles)
    ):
        raise RuleViolation(
            "You cannot disable your own account or drop your own admin role.", "users.self_lockout"
        )
    revokes = False
    if "password" in changes:
        check_password_strength(changes["password"])
        user.password_hash = hash_password(changes.pop("password"))
        user.password_changed_at = utcnow()
        revokes = True
    for name, value in changes.items():
        if getattr(user, name) != value:
            revokes = revokes or name in {"roles", "region_code", "is_active", "has_personal_data_grant"}
            setattr(user, name, value)
    if revokes:
        await end_sessions(session, user, "account_changed")
    await session.flush()
    return user


@dataclass(frozen=True)
class Profile:
    display_name: str | None
    region_name: str | None


async def profile(session: AsyncSession, principal: Principal) -> Profile:
    """What the token does not carry: the caller's display name and region name."""
    region = await session.scalar(scoped(Region, principal).where(Region.code == principal.region_code))
    if principal.kind == "user":
        user = await session.scalar(scoped(User, principal).where(User.id == principal.id))
        display_name = user.display_name if user else None
    else:
        client = await session.scalar(scoped(ApiClient, principal).where(ApiClient.id == principal.id))
        display_name = client.name if client else None
    return Profile(display_name, region.name if region else None)


async def change_own_password(
    session: AsyncSession, principal: Principal, *, current_password: str, new_password: str
) -> None:
    user = await session.scalar(scoped(User, principal).where(User.id == principal.id))
    if user is None or principal.kind != "user":
        raise NotFound("user")
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput(
            "The current password is wrong.",
            "users.wrong_password",
            errors=[FieldError(("body", "current_password"), "does not match", "mismatch")],
        )
    check_password_strength(new_password, "new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    await end_sessions(session, user, "password_changed")
    await session.flush()


# Machine clients -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewClient:
    name: str
    region_code: str
    roles: list[Role]
    rate_limit_per_minute: int | None = None
    export_quota_per_day: int | None = None


@dataclass(frozen=True)
class ClientWithSecret:
    client: ApiClient
    client_secret: str


async def list_clients(session: AsyncSession, principal: Principal, page: PageRequest) -> Page[ApiClient]:
    require(principal, Permission.CLIENTS_MANAGE)
    return await fetch_page(
        session, scoped(ApiClient, principal), [ApiClient.region_code, ApiClient.id], page
    )


async def get_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID) -> ApiClient:
    client = await session.scalar(scoped(ApiClient, principal).where(ApiClient.id == client_id))
    if client is None:
        raise NotFound("client")
    require(principal, Permission.CLIENTS_MANAGE)
    return client


async def create_client(session: AsyncSession, principal: Principal, new: NewClient) -> ClientWithSecret:
    require(principal, Permission.CLIENTS_MANAGE)
    # The roles first: they do not depend on the region, so checking them first reveals nothing about it.
    ensure_may_grant(principal, new.roles)
    ensure_client_roles(new.roles)
    await ensure_region_exists(session, principal, new.region_code)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=f"fpc_{secrets.token_hex(8)}",
        name=new.name,
        region_code=new.region_code,
        roles=sorted(new.roles),
        rate_limit_per_minute=new.rate_limit_per_minute,
        export_quota_per_day=new.export_quota_per_day,
        secret_hash=hash_password(secret),
        created_by=principal.id if principal.kind == "user" else None,
    )
    client = await _insert_unique(
        session, client, "A client with this id exists; try again.", "clients.id_taken"
    )
    return ClientWithSecret(client, secret)


async def update_client(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID, changes: dict[str, Any]
) -> ApiClient:
    client = await get_client(session, principal, client_id)
    ensure_may_grant(principal, client.roles)
    if "roles" in changes:
        ensure_may_grant(principal, changes["roles"])
        ensure_client_roles(changes["roles"])
        changes["roles"] = sorted(changes["roles"])
    if "region_code" in changes:
        await ensure_region_exists(session, principal, changes["region_code"])
    ends_sessions = False
    for name, value in changes.items():
        if getattr(client, name) != value:
            ends_sessions = ends_sessions or name in {"roles", "region_code", "is_active"}
            setattr(client, name, value)
    if ends_sessions:
        await end_sessions(session, client, "account_changed")
    await session.flush()
    return client


async def rotate_client_secret(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID
) -> ClientWithSecret:
    client = await get_client(session, principal, client_id)
    ensure_may_grant(principal, client.roles)
    secret = secrets.token_urlsafe(32)
    client.secret_hash = hash_password(secret)
    await end_sessions(session, client, "secret_rotated")
    await session.flush()
    return ClientWithSecret(client, secret)


async def _insert_unique(session: AsyncSession, row: M, detail: str, code: str) -> M:
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise Conflict(detail, code) from None
    return row
