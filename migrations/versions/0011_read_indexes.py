"""Covering indexes for coverage reports and responsibility chains (issue 4).

Found with EXPLAIN (ANALYZE, BUFFERS) of the reports' own statements on a 60,000-household dataset of
bench/generate.py with three plan measures per household (bench/RESULTS.md, "Read indexes"):

* cadres (region_code, rank, name, id) WHERE is_active: the cadre coverage reads a subtree's active cadres
  and their ranks from the index alone (it read the table), and a chain's county leaders (a county, rank
  ``county_leader``) come in their order (name, id) without a sort;
* active assignments by (cadre_id, kind): counting a cadre's active pairings (coverage, quotas) reads the
  index alone, where it read every assignment's row to check its kind; it replaces (cadre_id);
* active assignments by (kind, region_code) carrying household_id and cadre_id (PostgreSQL INCLUDE): the
  households' coverage reads a subtree's pairings from the index alone; it replaces (kind, region_code);
* active assignments by household_id carrying kind, cadre_id and region_code (which the caller's scope
  bounds): "has this household a responsible person" (the uncovered list) from the index alone; it
  replaces (household_id);
* active members by (region_code, household_id) carrying schooling, insurance and labour ability: the
  five-coverages report aggregates a subtree's members from the index (it read the whole members table);
* plan measures by (year, region_code) carrying status, category and household_id: the five-coverages
  report's measures of one year in a subtree, from the index.

SQLite has no INCLUDE: there the same indexes hold their key columns only.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_ASSIGNMENT = sa.text("ends_on IS NULL")
ACTIVE_MEMBER = sa.text("is_active")
ACTIVE_CADRE = sa.text("is_active")


def upgrade() -> None:
    op.create_index(
        "ix_cadres_region_code_rank_active",
        "cadres",
        ["region_code", "rank", "name", "id"],
        unique=False,
        postgresql_where=ACTIVE_CADRE,
        sqlite_where=ACTIVE_CADRE,
    )
    op.create_index(
        "ix_assignments_cadre_id_kind_active",
        "assignments",
        ["cadre_id", "kind"],
        unique=False,
        postgresql_where=ACTIVE_ASSIGNMENT,
        sqlite_where=ACTIVE_ASSIGNMENT,
    )
    op.drop_index("ix_assignments_cadre_id_active", table_name="assignments")
    op.create_index(
        "ix_assignments_kind_region_code_covering",
        "assignments",
        ["kind", "region_code"],
        unique=False,
        postgresql_include=["household_id", "cadre_id"],
        postgresql_where=ACTIVE_ASSIGNMENT,
        sqlite_where=ACTIVE_ASSIGNMENT,
    )
    op.drop_index("ix_assignments_kind_region_code_active", table_name="assignments")
    op.create_index(
        "ix_assignments_household_id_covering",
        "assignments",
        ["household_id"],
        unique=False,
        postgresql_include=["kind", "cadre_id", "region_code"],
        postgresql_where=ACTIVE_ASSIGNMENT,
        sqlite_where=ACTIVE_ASSIGNMENT,
    )
    op.drop_index("ix_assignments_household_id_active", table_name="assignments")
    op.create_index(
        "ix_members_region_code_household_id_active",
        "members",
        ["region_code", "household_id"],
        unique=False,
        postgresql_include=["schooling", "has_medical_insurance", "labour_ability"],
        postgresql_where=ACTIVE_MEMBER,
        sqlite_where=ACTIVE_MEMBER,
    )
    op.create_index(
        "ix_plan_measures_year_region_code",
        "plan_measures",
        ["year", "region_code"],
        unique=False,
        postgresql_include=["status", "category", "household_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_plan_measures_year_region_code", table_name="plan_measures")
    op.drop_index("ix_members_region_code_household_id_active", table_name="members")
    for name, columns in (
        ("ix_assignments_household_id_active", ["household_id"]),
        ("ix_assignments_kind_region_code_active", ["kind", "region_code"]),
        ("ix_assignments_cadre_id_active", ["cadre_id"]),
    ):
        op.create_index(
            name,
            "assignments",
            columns,
            unique=False,
            postgresql_where=ACTIVE_ASSIGNMENT,
            sqlite_where=ACTIVE_ASSIGNMENT,
        )
    op.drop_index("ix_assignments_household_id_covering", table_name="assignments")
    op.drop_index("ix_assignments_kind_region_code_covering", table_name="assignments")
    op.drop_index("ix_assignments_cadre_id_kind_active", table_name="assignments")
    op.drop_index("ix_cadres_region_code_rank_active", table_name="cadres")
