"""Responsibility chains (责任链): work units, cadres and assignments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
ACTIVE = sa.text("ends_on IS NULL")

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_units",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("enterprise_class", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "kind IN ('department', 'enterprise', 'social_organisation')",
            name=op.f("ck_work_units_kind_known"),
        ),
        sa.CheckConstraint(
            "enterprise_class BETWEEN 1 AND 4", name=op.f("ck_work_units_enterprise_class_range")
        ),
        sa.CheckConstraint(
            "enterprise_class IS NULL OR kind = 'enterprise'",
            name=op.f("ck_work_units_enterprise_class_only_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_work_units_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_units")),
    )
    op.create_index("ix_work_units_region_code_id", "work_units", ["region_code", "id"], unique=False)

    op.create_table(
        "cadres",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("rank", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "rank IN ('county_leader', 'section', 'general', 'village')", name=op.f("ck_cadres_rank_known")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_cadres_region_code_regions")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["work_units.id"], name=op.f("fk_cadres_unit_id_work_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cadres")),
    )
    op.create_index("ix_cadres_region_code_id", "cadres", ["region_code", "id"], unique=False)
    op.create_index("ix_cadres_unit_id", "cadres", ["unit_id"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("cadre_id", sa.Uuid(), nullable=True),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("is_team_leader", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=200), nullable=True),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "kind IN ('township_cover', 'village_cover', 'first_secretary', 'work_team', 'pairing')",
            name=op.f("ck_assignments_kind_known"),
        ),
        sa.CheckConstraint(
            "(cadre_id IS NULL AND unit_id IS NOT NULL) OR (cadre_id IS NOT NULL AND unit_id IS NULL)",
            name=op.f("ck_assignments_cadre_or_unit"),
        ),
        sa.CheckConstraint(
            "(kind = 'pairing') = (household_id IS NOT NULL)",
            name=op.f("ck_assignments_household_iff_pairing"),
        ),
        sa.CheckConstraint(
            "unit_id IS NULL OR kind = 'pairing'", name=op.f("ck_assignments_unit_only_pairing")
        ),
        sa.CheckConstraint(
            "NOT is_team_leader OR kind = 'work_team'", name=op.f("ck_assignments_team_leader_only_work_team")
        ),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_assignments_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_assignments_region_code_regions")
        ),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_assignments_cadre_id_cadres")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["work_units.id"], name=op.f("fk_assignments_unit_id_work_units")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_assignments_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index("ix_assignments_region_code_id", "assignments", ["region_code", "id"], unique=False)
    op.create_index("ix_assignments_cadre_id_id", "assignments", ["cadre_id", "id"], unique=False)
    op.create_index("ix_assignments_household_id_id", "assignments", ["household_id", "id"], unique=False)
    for name, columns in (
        ("ix_assignments_household_id_active", ["household_id"]),
        ("ix_assignments_kind_region_code_active", ["kind", "region_code"]),
        ("ix_assignments_cadre_id_active", ["cadre_id"]),
        ("ix_assignments_unit_id_active", ["unit_id"]),
    ):
        op.create_index(
            name, "assignments", columns, unique=False, postgresql_where=ACTIVE, sqlite_where=ACTIVE
        )
    first_secretary = sa.text("kind = 'first_secretary' AND ends_on IS NULL")
    op.create_index(
        "uq_assignments_first_secretary_active",
        "assignments",
        ["region_code"],
        unique=True,
        postgresql_where=first_secretary,
        sqlite_where=first_secretary,
    )
    team_leader = sa.text("kind = 'work_team' AND is_team_leader AND ends_on IS NULL")
    op.create_index(
        "uq_assignments_team_leader_active",
        "assignments",
        ["region_code"],
        unique=True,
        postgresql_where=team_leader,
        sqlite_where=team_leader,
    )


def downgrade() -> None:
    op.drop_table("assignments")
    op.drop_table("cadres")
    op.drop_table("work_units")
