"""The OAuth2 token endpoint (password, client_credentials, refresh_token grants) and logout."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response, status

from app.api.deps import SessionDep, SessionmakerDep, SettingsDep
from app.api.schemas.auth import LogoutRequest, TokenResponse
from app.domain.auth import service
from app.domain.errors import DomainError, FieldError

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

GrantType = Literal["password", "client_credentials", "refresh_token"]


class InvalidRequest(DomainError):
    status = 400
    title = "Invalid token request"


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """Client credentials sent as HTTP Basic (RFC 6749 §2.3.1)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _missing(*names: str) -> InvalidRequest:
    return InvalidRequest(
        f"This grant needs {', '.join(names)}.",
        "auth.invalid_request",
        errors=[FieldError(("body", name), "required", "missing") for name in names],
    )


@router.post(
    "/token",
    summary="Get an access token",
    description=(
        "OAuth2 token endpoint, form-encoded. `grant_type=password` with `username` and `password` (people); "
        "`grant_type=client_credentials` with `client_id` and `client_secret` in the form or as HTTP Basic "
        "(machine clients); `grant_type=refresh_token` with `refresh_token` (rotates it). Repeated failures "
        "are throttled per username and per client address (429 with Retry-After)."
    ),
    response_model=TokenResponse,
    responses={401: {"description": "Wrong credentials"}, 429: {"description": "Too many failed attempts"}},
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    sessions: SessionmakerDep,
    settings: SettingsDep,
    grant_type: Annotated[GrantType, Form()],
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    refresh_token: Annotated[str | None, Form(max_length=512)] = None,
    scope: Annotated[
        str | None, Form(max_length=512, description="Ignored: scope comes from the account")
    ] = None,
) -> service.TokenGrant:
    response.headers["Cache-Control"] = "no-store"
    address = request.client.host if request.client else None
    if grant_type == "password":
        if not username or password is None:
            raise _missing("username", "password")
        return await service.password_grant(
            sessions, settings, username=username, password=password, address=address
        )
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or client_secret is None:
            raise _missing("client_id", "client_secret")
        return await service.client_credentials_grant(
            sessions, settings, client_id=client_id, client_secret=client_secret, address=address
        )
    if not refresh_token:
        raise _missing("refresh_token")
    return await service.refresh_grant(session, settings, refresh_token=refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a refresh token",
    description="Ends the session the refresh token belongs to. Unknown tokens are accepted silently.",
)
async def logout(body: LogoutRequest, session: SessionDep) -> None:
    await service.logout(session, refresh_token=body.refresh_token)
