"""Who may call the API: people (users), machine clients, refresh tokens and login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JsonDocument, RegionCode, TimestampMixin


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_region_code_id", "region_code", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))
    roles: Mapped[list[str]] = mapped_column(JsonDocument)
    # 个人信息授权: may read unmasked ID numbers, phones and bank accounts (every such read is audited).
    has_personal_data_grant: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    # Access tokens issued before this moment no longer count (password, roles or scope changed, disabled).
    tokens_revoked_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ApiClient(TimestampMixin, Base):
    """A machine client (provincial system, dashboard, script) using the client-credentials grant."""

    __tablename__ = "api_clients"
    __table_args__ = (
        Index("ix_api_clients_region_code_id", "region_code", "id"),
        CheckConstraint("rate_limit_per_minute > 0", name="rate_limit_positive"),
        CheckConstraint("export_quota_per_day >= 0", name="export_quota_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))
    roles: Mapped[list[str]] = mapped_column(JsonDocument)
    secret_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    tokens_revoked_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Limits set by an admin; None: the server's defaults (FUPIN_RATE_LIMIT_CLIENT_PER_MINUTE, …).
    rate_limit_per_minute: Mapped[int | None]
    export_quota_per_day: Mapped[int | None]


class RefreshToken(Base):
    """An opaque refresh token, stored as its SHA-256 only. Rotated on every use; reuse revokes the family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_user_id", "user_id", "revoked_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class LoginThrottle(Base):
    """Failed-login counters per username and per client address, shared by every server process."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
