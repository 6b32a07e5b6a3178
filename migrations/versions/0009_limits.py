"""Machine-client limits and quotas (issue 7): a client's own rate limit and daily export quota.

NULL means the server's defaults (FUPIN_RATE_LIMIT_CLIENT_PER_MINUTE, FUPIN_EXPORT_QUOTA_CLIENT_PER_DAY).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode on SQLite (migrations/env.py): the table is rebuilt with the new columns and checks.
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("export_quota_per_day", sa.Integer(), nullable=True))
        batch.create_check_constraint(op.f("ck_api_clients_rate_limit_positive"), "rate_limit_per_minute > 0")
        batch.create_check_constraint(
            op.f("ck_api_clients_export_quota_not_negative"), "export_quota_per_day >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint(op.f("ck_api_clients_export_quota_not_negative"), type_="check")
        batch.drop_constraint(op.f("ck_api_clients_rate_limit_positive"), type_="check")
        batch.drop_column("export_quota_per_day")
        batch.drop_column("rate_limit_per_minute")
