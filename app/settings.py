"""All configuration, read once from the environment (prefix ``FUPIN_``)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./fupin.db"
JwtAlgorithm = Literal["HS256", "RS256", "ES256"]


class ConfigurationError(RuntimeError):
    """The service cannot start with the configuration it was given."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUPIN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    database_pool_size: int = Field(10, ge=1, description="Connections per process (PostgreSQL)")
    database_read_pool_size: int = Field(
        10, ge=1, description="Connections per process for hot reads: lists (PostgreSQL)"
    )
    database_statement_timeout_ms: int = Field(
        30_000, ge=0, description="Statement timeout on PostgreSQL, 0 for none"
    )

    jwt_algorithm: JwtAlgorithm = "HS256"
    jwt_secret: SecretStr | None = Field(None, description="HS256 secret, at least 32 bytes")
    jwt_private_key: SecretStr | None = Field(None, description="PEM private key (RS256/ES256)")
    jwt_public_key: str | None = Field(None, description="PEM public key (RS256/ES256)")
    jwt_issuer: str = "fupin"
    jwt_audience: str = "fupin-api"
    access_token_ttl_seconds: int = Field(900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(14 * 86_400, ge=60)

    account_check_seconds: float = Field(
        10, ge=0, description="How long a process trusts that an account is still active (0: every request)"
    )

    login_max_failures_per_username: int = Field(5, ge=1)
    login_max_failures_per_address: int = Field(30, ge=1)
    login_failure_window_seconds: int = Field(900, ge=1)
    login_lockout_seconds: int = Field(900, ge=1)

    # Limits (README "Limits"): rate limits per principal, shared through Redis when it is configured.
    redis_url: str | None = Field(
        None, description="redis://host:6379/0: rate limits and export quotas shared by every server process"
    )
    redis_key_prefix: str = Field("fupin", min_length=1, description="Prefix of the limiter's Redis keys")
    rate_limit_user_per_minute: int = Field(600, ge=0, description="Requests per user per minute, 0 for none")
    rate_limit_client_per_minute: int = Field(
        600, ge=0, description="Requests per machine client per minute unless the client sets its own"
    )
    export_quota_client_per_day: int = Field(
        50, ge=0, description="Exports per machine client in any 24 hours unless the client sets its own"
    )
    export_concurrency_per_principal: int = Field(
        2, ge=1, description="Exports one user or client may stream at once, per server process"
    )
    max_request_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest request body (imports aside)"
    )
    database_export_statement_timeout_ms: int = Field(
        600_000, ge=0, description="Statement timeout while an export streams (PostgreSQL), 0 for none"
    )
    reference_max_age_seconds: int = Field(
        300, ge=0, description="Cache-Control max-age of code lists and regions (private caches only)"
    )

    log_level: str = "INFO"
    log_json: bool = True
    cors_origins: list[str] = Field(default_factory=list)

    graphql_introspection: bool = Field(False, description="Answer GraphQL introspection queries")
    graphql_graphiql: bool = Field(False, description="Serve the GraphiQL IDE at GET /graphql")
    graphql_max_depth: int = Field(10, ge=1, description="Deepest nesting of a GraphQL operation")
    graphql_max_tokens: int = Field(2000, ge=10, description="Most tokens in a GraphQL document")
    graphql_max_aliases: int = Field(20, ge=0, description="Most aliases in a GraphQL operation")
    graphql_max_cost: int = Field(
        20_000, ge=1, description="Most objects a GraphQL operation may return (page sizes × nesting)"
    )

    # Operations (README "Operations").
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics (no token needed)")
    shutdown_timeout_seconds: int = Field(
        30,
        ge=1,
        description="On SIGTERM: how long in-flight requests, then running jobs, may take to finish",
    )

    @field_validator("jwt_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("FUPIN_JWT_SECRET must be at least 32 bytes")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def signing_key(self) -> str:
        """The key tokens are signed with; for HS256 the shared secret."""
        if self.jwt_algorithm == "HS256":
            return self._hs256_secret()
        if self.jwt_private_key is None:
            raise ConfigurationError(f"FUPIN_JWT_PRIVATE_KEY is required with {self.jwt_algorithm}")
        return _pem(self.jwt_private_key.get_secret_value())

    @cached_property
    def verification_key(self) -> str:
        if self.jwt_algorithm == "HS256":
            return self._hs256_secret()
        if self.jwt_public_key is None:
            raise ConfigurationError(f"FUPIN_JWT_PUBLIC_KEY is required with {self.jwt_algorithm}")
        return _pem(self.jwt_public_key)

    def _hs256_secret(self) -> str:
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if not self.is_sqlite:
            raise ConfigurationError(
                "FUPIN_JWT_SECRET is not set: it is required when the database is not the embedded SQLite "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return _embedded_secret(self.sqlite_path)

    @property
    def sqlite_path(self) -> Path:
        database = make_url(self.database_url).database or "fupin.db"
        return Path(database)


def _pem(value: str) -> str:
    """Accept a PEM text or the path of a PEM file."""
    if value.lstrip().startswith("-----BEGIN"):
        return value
    return Path(value).read_text()


def _embedded_secret(database: Path) -> str:
    """A random secret generated once and kept beside the SQLite file, readable by its owner only."""
    path = database.with_name(database.name + ".jwt-secret")
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
