"""Per-village statistics rollups and regional rural population (issue 6).

Rollup tables (derived data, rebuilt by ``fupin stats rebuild``): counts per village and per township, the
fund report's figures per fiscal year and region pair, the lock rows of their refresh; and the rural
population (农村人口) counties maintain per region and year. Upgrading leaves the rollups empty: run
``fupin stats rebuild`` once afterwards on a database that already holds households or transfers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
DIMENSIONS = (
    "('status', 'attribute', 'cause', 'category', 'monitoring', 'exit_year', 'return_year', 'coverage')"
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rollup(name: str, count_type: sa.types.TypeEngine[int]) -> None:
    op.create_table(
        name,
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("households", count_type, nullable=False),
        sa.Column("people", count_type, nullable=False),
        sa.CheckConstraint(f"dimension IN {DIMENSIONS}", name=op.f(f"ck_{name}_dimension_known")),
        sa.PrimaryKeyConstraint("region_code", "dimension", "key", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _rollup("village_rollups", sa.Integer())
    _rollup("township_rollups", sa.BigInteger())
    op.create_table(
        "fund_rollups",
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("other_code", REGION_CODE, nullable=False),
        *(
            sa.Column(f"{figure}_{side}", sa.BigInteger(), nullable=False)
            for side in ("inside", "outside")
            for figure in ("received", "disbursed", "balance")
        ),
        sa.PrimaryKeyConstraint("fiscal_year", "region_code", "other_code", name=op.f("pk_fund_rollups")),
    )
    op.create_table(
        "rollup_locks",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("refreshed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rollup_locks")),
    )
    op.create_table(
        "rural_populations",
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("population >= 0", name=op.f("ck_rural_populations_population_not_negative")),
        sa.CheckConstraint("year BETWEEN 1980 AND 2100", name=op.f("ck_rural_populations_year_range")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_rural_populations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("region_code", "year", name=op.f("pk_rural_populations")),
    )


def downgrade() -> None:
    op.drop_table("rural_populations")
    op.drop_table("rollup_locks")
    op.drop_table("fund_rollups")
    op.drop_table("township_rollups")
    op.drop_table("village_rollups")
