from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from app.api.schemas.common import InputModel, PatchModel, ReadModel, RegionCodeStr
from app.domain.principal import Role

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{2,64}$")]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)]
Roles = Annotated[list[Role], Field(min_length=1, max_length=len(Role))]
RateLimit = Annotated[
    int,
    Field(
        ge=1,
        le=1_000_000,
        description="Requests per minute this client may make; null: the server default "
        "(`FUPIN_RATE_LIMIT_CLIENT_PER_MINUTE`)",
    ),
]
ExportQuota = Annotated[
    int,
    Field(
        ge=0,
        le=1_000_000,
        description="Exports this client may start in any 24 hours (0: none); null: the server default "
        "(`FUPIN_EXPORT_QUOTA_CLIENT_PER_DAY`)",
    ),
]
CLIENT_ROLES_DOC = "Read-only roles only: `data_consumer` (the default) or `inspector`"


class UserCreate(InputModel):
    username: Username
    display_name: DisplayName
    region_code: RegionCodeStr
    roles: Roles
    password: Password = Field(description="At least 8 characters")
    has_personal_data_grant: bool = Field(False, description="May read unmasked personal data (个人信息授权)")
    is_active: bool = True


class UserUpdate(PatchModel):
    display_name: DisplayName | None = None
    region_code: RegionCodeStr | None = None
    roles: Roles | None = None
    password: Password | None = Field(None, description="Sets a new password and ends the user's sessions")
    has_personal_data_grant: bool | None = None
    is_active: bool | None = Field(None, description="false disables sign-in and ends the user's sessions")


class UserRead(ReadModel):
    id: uuid.UUID
    username: str
    display_name: str
    region_code: str
    roles: list[Role]
    has_personal_data_grant: bool
    is_active: bool
    password_changed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ClientCreate(InputModel):
    name: DisplayName
    region_code: RegionCodeStr
    roles: Roles = Field(default_factory=lambda: [Role.DATA_CONSUMER], description=CLIENT_ROLES_DOC)
    rate_limit_per_minute: RateLimit | None = None
    export_quota_per_day: ExportQuota | None = None


class ClientUpdate(InputModel):  # a PatchModel, except that the limits take null
    name: DisplayName | None = None
    region_code: RegionCodeStr | None = None
    roles: Roles | None = Field(None, description=CLIENT_ROLES_DOC)
    is_active: bool | None = None
    rate_limit_per_minute: RateLimit | None = None
    export_quota_per_day: ExportQuota | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null_but_limits(cls, value: Any, info: ValidationInfo) -> Any:
        # As PatchModel: a field left out keeps its value; the limits also take null (the server's default).
        if value is None and info.field_name not in {"rate_limit_per_minute", "export_quota_per_day"}:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class ClientRead(ReadModel):
    id: uuid.UUID
    client_id: str
    name: str
    region_code: str
    roles: list[Role]
    is_active: bool
    rate_limit_per_minute: int | None = Field(description="Its own rate limit; null: the server default")
    export_quota_per_day: int | None = Field(description="Its own export quota; null: the server default")
    created_at: datetime
    updated_at: datetime


class ClientWithSecretRead(ClientRead):
    client_secret: str = Field(description="Shown once: store it now, it cannot be read again")
