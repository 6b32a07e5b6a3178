"""The project library (项目库): projects, their beneficiary households, fund notice publications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("county_code", REGION_CODE, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("construction_type", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("responsible_unit_id", sa.Uuid(), nullable=True),
        sa.Column("responsible_unit_name", sa.String(length=100), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("financing", JSON_DOCUMENT, nullable=False),
        sa.Column("performance_targets", JSON_DOCUMENT, nullable=False),
        sa.Column("benefit_mechanism", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("approval_document", sa.String(length=100), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", TIMESTAMP, nullable=True),
        sa.Column("accepted_at", TIMESTAMP, nullable=True),
        sa.Column("income_sharing_basis", sa.String(length=16), nullable=True),
        sa.Column("expected_annual_income_fen", sa.BigInteger(), nullable=True),
        sa.Column("income_shared_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "category IN ('industry', 'employment', 'education', 'health', 'social_security', 'house_renovation', 'relocation', 'ecology', 'infrastructure', 'village_renovation', 'photovoltaic', 'microcredit')",
            name=op.f("ck_projects_category_known"),
        ),
        sa.CheckConstraint(
            "construction_type IN ('new', 'expansion', 'renovation', 'continued', 'purchase', 'other')",
            name=op.f("ck_projects_construction_type_known"),
        ),
        sa.CheckConstraint(
            "income_sharing_basis IS NULL OR income_sharing_basis IN ('equal', 'by_weight')",
            name=op.f("ck_projects_income_sharing_basis_known"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'approved', 'under_construction', 'completed', 'accepted')",
            name=op.f("ck_projects_status_known"),
        ),
        sa.CheckConstraint("budget_fen >= 0", name=op.f("ck_projects_budget_not_negative")),
        sa.CheckConstraint("income_shared_fen >= 0", name=op.f("ck_projects_income_shared_not_negative")),
        sa.CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name=op.f("ck_projects_planned_schedule_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_projects_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["responsible_unit_id"],
            ["work_units.id"],
            name=op.f("fk_projects_responsible_unit_id_work_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(
        "ix_projects_region_code_fiscal_year", "projects", ["region_code", "fiscal_year"], unique=False
    )
    op.create_index("ix_projects_region_code_id", "projects", ["region_code", "id"], unique=False)
    op.create_index("ix_projects_status_region_code", "projects", ["status", "region_code"], unique=False)

    op.create_table(
        "fund_notice_publications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("board_location", sa.String(length=200), nullable=False),
        sa.Column("taken_down_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(subject = 'batch' AND document_number IS NOT NULL AND project_id IS NULL) OR (subject = 'project' AND project_id IS NOT NULL)",
            name=op.f("ck_fund_notice_publications_subject_has_reference"),
        ),
        sa.CheckConstraint(
            "subject IN ('batch', 'project')", name=op.f("ck_fund_notice_publications_subject_known")
        ),
        sa.CheckConstraint(
            "taken_down_on IS NULL OR taken_down_on >= published_on",
            name=op.f("ck_fund_notice_publications_taken_down_after"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_fund_notice_publications_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_fund_notice_publications_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_notice_publications")),
    )
    op.create_index(
        "ix_fund_notice_publications_document_number",
        "fund_notice_publications",
        ["document_number"],
        unique=False,
    )
    op.create_index(
        "ix_fund_notice_publications_project_id", "fund_notice_publications", ["project_id"], unique=False
    )
    op.create_index(
        "ix_fund_notice_publications_region_code_id",
        "fund_notice_publications",
        ["region_code", "id"],
        unique=False,
    )

    op.create_table(
        "project_beneficiaries",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("share_weight", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("share_weight > 0", name=op.f("ck_project_beneficiaries_share_weight_positive")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_project_beneficiaries_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_beneficiaries_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", "household_id", name=op.f("pk_project_beneficiaries")),
    )
    op.create_index(
        "ix_project_beneficiaries_household_id", "project_beneficiaries", ["household_id"], unique=False
    )
    op.create_index(
        "ix_project_beneficiaries_region_code", "project_beneficiaries", ["region_code"], unique=False
    )


def downgrade() -> None:
    op.drop_table("project_beneficiaries")
    op.drop_table("fund_notice_publications")
    op.drop_table("projects")
