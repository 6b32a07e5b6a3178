"""Assistance plans (帮扶计划): plans, their measures, and visits and work logs of cadres.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistance_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("goal_income", sa.Numeric(12, 2), nullable=True),
        sa.Column("planned_exit_year", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_assistance_plans_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_plans")),
        sa.UniqueConstraint("household_id", "year", name=op.f("uq_assistance_plans_household_id_year")),
    )
    op.create_index(
        "ix_assistance_plans_region_code_year", "assistance_plans", ["region_code", "year"], unique=False
    )

    op.create_table(
        "plan_measures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("responsible_cadre_id", sa.Uuid(), nullable=True),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected_benefit", sa.Numeric(12, 2), nullable=True),
        sa.Column("actual_benefit", sa.Numeric(12, 2), nullable=True),
        sa.Column("project_ref", sa.String(length=64), nullable=True),
        sa.Column("fund_transfer_ref", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "category IN ('industry', 'employment', 'education', 'health', 'social_security', "
            "'house_renovation', 'relocation', 'ecology', 'infrastructure', 'village_renovation', "
            "'photovoltaic', 'microcredit')",
            name=op.f("ck_plan_measures_category_known"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'cancelled')",
            name=op.f("ck_plan_measures_status_known"),
        ),
        sa.CheckConstraint(
            "actual_end IS NULL OR status = 'done'", name=op.f("ck_plan_measures_actual_end_only_when_done")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["assistance_plans.id"], name=op.f("fk_plan_measures_plan_id_assistance_plans")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_plan_measures_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["responsible_cadre_id"], ["cadres.id"], name=op.f("fk_plan_measures_responsible_cadre_id_cadres")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_measures")),
    )
    op.create_index("ix_plan_measures_plan_id", "plan_measures", ["plan_id"], unique=False)
    op.create_index("ix_plan_measures_region_code_id", "plan_measures", ["region_code", "id"], unique=False)
    op.create_index(
        "ix_plan_measures_household_id_year",
        "plan_measures",
        ["household_id", "year", "category"],
        unique=False,
    )
    op.create_index(
        "ix_plan_measures_responsible_cadre_id", "plan_measures", ["responsible_cadre_id"], unique=False
    )

    op.create_table(
        "visits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cadre_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('visit', 'work_log')", name=op.f("ck_visits_kind_known")),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_visits_cadre_id_cadres")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_visits_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index(
        "ix_visits_region_code_visited_on", "visits", ["region_code", "visited_on", "id"], unique=False
    )
    op.create_index(
        "ix_visits_household_id_visited_on", "visits", ["household_id", "visited_on"], unique=False
    )
    op.create_index("ix_visits_cadre_id_visited_on", "visits", ["cadre_id", "visited_on"], unique=False)


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("plan_measures")
    op.drop_table("assistance_plans")
