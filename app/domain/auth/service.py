"""The OAuth2 token endpoint's use cases: password, client-credentials and refresh-token grants, logout."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.models import ApiClient, RefreshToken, User
from app.domain.auth import throttle
from app.domain.auth.passwords import verify_password
from app.domain.auth.tokens import issue_access_token
from app.domain.errors import DomainError
from app.domain.principal import Principal
from app.settings import Settings


class InvalidGrant(DomainError):
    """OAuth2 ``invalid_grant``/``invalid_client``: answered 401 without saying which part was wrong."""

    status = 401
    title = "Not authenticated"


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    token_type: str = "bearer"  # noqa: S105


def user_principal(user: User) -> Principal:
    return Principal.build(
        kind="user",
        id=user.id,
        name=user.username,
        region_code=user.region_code,
        roles=user.roles,
        has_personal_data_grant=user.has_personal_data_grant,
    )


def client_principal(client: ApiClient) -> Principal:
    return Principal.build(
        kind="client", id=client.id, name=client.client_id, region_code=client.region_code, roles=client.roles
    )


async def password_grant(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    username: str,
    password: str,
    address: str | None,
) -> TokenGrant:
    """Check a username and password. Failures are recorded in a transaction of their own, so they
    count even though the request itself fails."""
    keys = throttle.ThrottleKeys(username, address)
    async with sessions() as session, session.begin():
        await throttle.ensure_not_locked(session, settings, keys)
        # scope: signing in comes before there is a principal to scope by
        user = await session.scalar(select(User).where(User.username == username))  # scope: sign-in
        if user is not None and user.is_active and verify_password(user.password_hash, password):
            await throttle.record_success(session, settings, keys)
            return await _grant_for_user(session, settings, user, family_id=uuid.uuid4())
        if user is None:
            verify_password(None, password)  # same cost as a wrong password
    async with sessions() as session, session.begin():
        await throttle.record_failure(session, settings, keys)
    raise InvalidGrant("The username or password is wrong, or the account is disabled.", "auth.invalid_grant")


async def client_credentials_grant(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    client_id: str,
    client_secret: str,
    address: str | None,
) -> TokenGrant:
    keys = throttle.ThrottleKeys(f"client:{client_id}", address)
    async with sessions() as session, session.begin():
        await throttle.ensure_not_locked(session, settings, keys)
        by_client_id = select(ApiClient).where(ApiClient.client_id == client_id)  # scope: sign-in
        client = await session.scalar(by_client_id)
        if client is not None and client.is_active and verify_password(client.secret_hash, client_secret):
            await throttle.record_success(session, settings, keys)
            issued = issue_access_token(settings, client_principal(client), personal_data=False)
            return TokenGrant(issued.token, issued.expires_in)
        if client is None:
            verify_password(None, client_secret)
    async with sessions() as session, session.begin():
        await throttle.record_failure(session, settings, keys)
    raise InvalidGrant("The client id or secret is wrong, or the client is disabled.", "auth.invalid_client")


async def refresh_grant(session: AsyncSession, settings: Settings, *, refresh_token: str) -> TokenGrant:
    """Rotate a refresh token. Presenting one that was already rotated revokes its whole family: someone
    else may hold a copy."""
    now = utcnow()
    stored = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token)).with_for_update()
    )
    invalid = InvalidGrant(
        "The refresh token is invalid, expired or revoked; sign in again.", "auth.invalid_grant"
    )
    if stored is None or stored.expires_at <= now:
        raise invalid
    if stored.revoked_at is not None:
        if stored.revoked_reason == "rotated":
            await _revoke(session, RefreshToken.family_id == stored.family_id, "reuse_detected")
            await session.commit()  # the revocation must stand although the request fails
        raise invalid
    user = await session.get(User, stored.user_id)  # scope: the refresh token's owner
    if user is None or not user.is_active:
        raise invalid
    stored.revoked_at, stored.revoked_reason = now, "rotated"
    return await _grant_for_user(session, settings, user, family_id=stored.family_id)


async def logout(session: AsyncSession, *, refresh_token: str) -> None:
    await _revoke(session, RefreshToken.token_hash == _digest(refresh_token), "logout")


async def end_sessions(session: AsyncSession, account: User | ApiClient, reason: str) -> None:
    """Password change, deactivation and changes of roles or scope end every session of the account:
    refresh tokens at once, access tokens as soon as :mod:`app.domain.auth.accounts` sees the change."""
    account.tokens_revoked_at = utcnow()
    if isinstance(account, User):
        await _revoke(session, RefreshToken.user_id == account.id, reason)


async def _revoke(session: AsyncSession, condition: object, reason: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(condition, RefreshToken.revoked_at.is_(None))  # type: ignore[arg-type]
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def _grant_for_user(
    session: AsyncSession, settings: Settings, user: User, *, family_id: uuid.UUID
) -> TokenGrant:
    principal = user_principal(user)
    issued = issue_access_token(settings, principal, personal_data=user.has_personal_data_grant)
    refresh = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        RefreshToken(
            token_hash=_digest(refresh),
            user_id=user.id,
            family_id=family_id,
            issued_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    await session.flush()
    return TokenGrant(issued.token, issued.expires_in, refresh)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
