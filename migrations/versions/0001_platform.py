"""Platform: the region tree, users, machine clients, refresh tokens and login throttling.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Region codes compare byte-wise on PostgreSQL so that a subtree is one index range scan.
REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    ]


def upgrade() -> None:
    regions = op.create_table(
        "regions",
        sa.Column("code", REGION_CODE, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", REGION_CODE, nullable=True),
        *timestamps(),
        sa.CheckConstraint(
            "level IN ('national', 'province', 'prefecture', 'county', 'township', 'village')",
            name=op.f("ck_regions_level_known"),
        ),
        sa.CheckConstraint("length(code) = 12", name=op.f("ck_regions_code_length")),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["regions.code"], name=op.f("fk_regions_parent_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_index("ix_regions_parent_code", "regions", ["parent_code", "code"])
    now = datetime.now(UTC)
    op.bulk_insert(
        regions,
        [
            {
                "code": "000000000000",
                "name": "全国",
                "level": "national",
                "parent_code": None,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("roles", JSON_DOCUMENT, nullable=False),
        sa.Column("has_personal_data_grant", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("password_changed_at", TIMESTAMP, nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("tokens_revoked_at", TIMESTAMP, nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *timestamps(),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_users_region_code_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index("ix_users_region_code_id", "users", ["region_code", "id"])

    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("roles", JSON_DOCUMENT, nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("tokens_revoked_at", TIMESTAMP, nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *timestamps(),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_api_clients_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
    )
    op.create_index("ix_api_clients_region_code_id", "api_clients", ["region_code", "id"])

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id", "revoked_at"])

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", TIMESTAMP, nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("refresh_tokens")
    op.drop_table("api_clients")
    op.drop_table("users")
    op.drop_table("regions")
