from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.api.schemas.common import InputModel, ReadModel
from app.domain.principal import Permission, Role


class TokenResponse(ReadModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Lifetime of the access token in seconds")
    refresh_token: str | None = Field(
        None, description="Present for people (password and refresh grants), absent for machine clients"
    )


class LogoutRequest(InputModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class Me(ReadModel):
    kind: Literal["user", "client"]
    id: uuid.UUID
    name: str = Field(description="Username, or client id for a machine client")
    display_name: str | None
    region_code: str = Field(description="The caller's region: everything they see lies under it")
    region_name: str | None
    scope_prefix: str = Field(description="Region-code prefix of the caller's scope")
    roles: list[Role]
    permissions: list[Permission]


# Passwords are taken exactly as typed, like the sign-in form takes them: no trimming of whitespace.
RawPassword = Annotated[str, StringConstraints(max_length=256, strip_whitespace=False)]


class PasswordChange(InputModel):
    current_password: RawPassword
    new_password: RawPassword
