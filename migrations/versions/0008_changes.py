"""The change log behind the sync feed (issue 7): ``sync_changes`` and ``sync_purges``.

Existing records get one ``upsert`` row each, so that a client following the feed from the beginning ends
with every record stored before this migration too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# (collection, table): every tracked entity is one row of its collection's main table.
BACKFILL = (
    ("households", "households"),
    ("assignments", "assignments"),
    ("plans", "assistance_plans"),
    ("projects", "projects"),
    ("fund_transfers", "fund_transfers"),
)


def upgrade() -> None:
    op.create_table(
        "sync_changes",
        sa.Column("seq", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "collection IN ('households', 'assignments', 'plans', 'projects', 'fund_transfers')",
            name=op.f("ck_sync_changes_collection_known"),
        ),
        sa.CheckConstraint("operation IN ('upsert', 'delete')", name=op.f("ck_sync_changes_operation_known")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sync_changes_collection_xid_seq", "sync_changes", ["collection", "xid", "seq"])
    op.create_index(
        "ix_sync_changes_collection_region_code_xid_seq",
        "sync_changes",
        ["collection", "region_code", "xid", "seq"],
    )
    op.create_index("ix_sync_changes_entity_id", "sync_changes", ["entity_id"])
    op.create_table(
        "sync_purges",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("purged_at", TIMESTAMP, nullable=False),
        sa.Column("below_xid", sa.BigInteger(), nullable=False),
        sa.Column("below_seq", sa.BigInteger(), nullable=False),
        sa.Column("removed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_purges")),
    )
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    xid = "pg_current_xact_id()::text::bigint" if is_postgresql else "0"
    now = "now()" if is_postgresql else "strftime('%Y-%m-%d %H:%M:%S', 'now')"
    for collection, table in BACKFILL:
        op.execute(
            f"INSERT INTO sync_changes (xid, collection, entity_id, region_code, operation, changed_at) "  # noqa: S608  constants of this file
            f"SELECT {xid}, '{collection}', id, region_code, 'upsert', {now} FROM {table} "
            f"ORDER BY region_code, id"
        )


def downgrade() -> None:
    op.drop_table("sync_purges")
    op.drop_index("ix_sync_changes_entity_id", table_name="sync_changes")
    op.drop_index("ix_sync_changes_collection_region_code_xid_seq", table_name="sync_changes")
    op.drop_index("ix_sync_changes_collection_xid_seq", table_name="sync_changes")
    op.drop_table("sync_changes")
