"""FastAPI dependencies shared by every router: settings, the request's session, the principal, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.session import Database
from app.domain.auth.accounts import AccountGate
from app.domain.auth.tokens import decode_access_token
from app.domain.errors import Unauthenticated
from app.domain.limits import Limiter
from app.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest
from app.domain.principal import Principal
from app.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# The dependencies below are coroutines although they never wait: FastAPI runs a plain function in a
# worker thread, a hand-off that cost more than the whole list query (bench/RESULTS.md).


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_sessionmaker(
    database: Annotated[Database, Depends(get_database)],
) -> async_sessionmaker[AsyncSession]:
    return database.sessionmaker


async def get_session(database: Annotated[Database, Depends(get_database)]) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the handler returns, rolled back on any error.

    Used with ``scope="function"`` so the commit happens before the response is sent: a client never sees
    a success for a write that then failed to commit.
    """
    async with database.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    return await authenticate(request, token)


async def authenticate(request: Request, token: str | None) -> Principal:
    """The principal of a bearer token whose account may still act; the one way every route signs in."""
    if not token:
        raise Unauthenticated(
            "Sign in first: send `Authorization: Bearer <access token>`.", "auth.missing_token"
        )
    principal = decode_access_token(request.app.state.settings, token)
    gate: AccountGate = request.app.state.account_gate
    account = await gate.ensure_current(principal)
    state = request.scope.setdefault("state", {})
    state["principal"] = principal.subject
    # Every later log line of the request (and of jobs it starts) names who asked, not only the access line.
    structlog.contextvars.bind_contextvars(principal=principal.subject)
    # Every authenticated request counts against the rate limit, here and only here, once (README "Limits").
    if "limits" not in state:
        limiter: Limiter = request.app.state.limiter
        limits = state["limits"] = limiter.limits_of(
            principal, account.rate_limit_per_minute, account.export_quota_per_day
        )
        await limiter.check_request(principal, limits)
    return principal


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, read as ``oauth2_scheme`` reads it."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    return token if scheme.lower() == "bearer" else None


async def get_page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=1024, description="`next_cursor` of the previous page; omit for the first"),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
PageDep = Annotated[PageRequest, Depends(get_page)]
