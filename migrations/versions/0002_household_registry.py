"""Household registry (建档立卡): households, members, incomes, indicators, lifecycle history, reference data,
audit log and jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:22:33.842338
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
NATIONAL = "000000000000"

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor_subject", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("actor_roles", JSON_DOCUMENT, nullable=False),
        sa.Column("actor_scope", REGION_CODE, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_region_code_id", "audit_log", ["region_code", "id"], unique=False)

    op.create_table(
        "code_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column(
            "valid_from", sa.Integer(), nullable=True, comment="First year the entry applies (inclusive)"
        ),
        sa.Column("valid_to", sa.Integer(), nullable=True, comment="Last year the entry applies (inclusive)"),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_entries")),
        sa.UniqueConstraint(
            "list_name", "code", "region_code", name=op.f("uq_code_entries_list_name_code_region_code")
        ),
    )
    op.create_index(
        "ix_code_entries_region_code_list_name", "code_entries", ["region_code", "list_name"], unique=False
    )

    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("created_by_subject", sa.String(length=64), nullable=False),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("params", JSON_DOCUMENT, nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("result", JSON_DOCUMENT, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f("ck_jobs_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_region_code_id", "jobs", ["region_code", "id"], unique=False)

    op.create_table(
        "poverty_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("standard", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_poverty_lines_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poverty_lines")),
        sa.UniqueConstraint(
            "region_code", "year", "standard", name=op.f("uq_poverty_lines_region_code_year_standard")
        ),
    )
    op.create_table(
        "region_settings",
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("region_code", "key", name=op.f("pk_region_settings")),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("county_code", REGION_CODE, nullable=False),
        sa.Column("household_number", sa.String(length=32), nullable=False),
        sa.Column("group_name", sa.String(length=50), nullable=True),
        sa.Column("head_name", sa.String(length=50), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("bank_name", sa.String(length=100), nullable=True),
        sa.Column("bank_account", sa.String(length=40), nullable=True),
        sa.Column("identification_standard", sa.String(length=32), nullable=False),
        sa.Column("attribute", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("primary_cause", sa.String(length=32), nullable=False),
        sa.Column("other_causes", JSON_DOCUMENT, nullable=False),
        sa.Column("housing_area", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("housing_structure", sa.String(length=32), nullable=True),
        sa.Column("housing_year_built", sa.Integer(), nullable=True),
        sa.Column("housing_safety_grade", sa.String(length=1), nullable=True),
        sa.Column("is_relocated", sa.Boolean(), nullable=False),
        sa.Column("has_electricity", sa.Boolean(), nullable=True),
        sa.Column("fuel", sa.String(length=32), nullable=True),
        sa.Column("drinking_water", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("procedure", sa.String(length=32), nullable=True),
        sa.Column("procedure_step", sa.String(length=32), nullable=True),
        sa.Column("procedure_started_on", sa.Date(), nullable=True),
        sa.Column("monitoring_kind", sa.String(length=32), nullable=True),
        sa.Column("monitoring_since", sa.Date(), nullable=True),
        sa.Column("has_returned_to_poverty", sa.Boolean(), nullable=False),
        sa.Column("registered_year", sa.Integer(), nullable=True),
        sa.Column("exited_year", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "housing_safety_grade IN ('A', 'B', 'C', 'D')", name=op.f("ck_households_safety_grade_known")
        ),
        sa.CheckConstraint(
            "status IN ('applicant', 'registered', 'exited', 'removed', 'rejected')",
            name=op.f("ck_households_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_households_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint(
            "county_code", "household_number", name=op.f("uq_households_county_code_household_number")
        ),
    )
    op.create_index("ix_households_region_code_id", "households", ["region_code", "id"], unique=False)
    op.create_index("ix_households_status_region_code", "households", ["status", "region_code"], unique=False)

    op.create_table(
        "import_row_reports",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("household_number", sa.String(length=32), nullable=True),
        sa.Column("errors", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_import_row_reports_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "row", name=op.f("pk_import_row_reports")),
    )
    op.create_table(
        "household_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("procedure", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("from_step", sa.String(length=32), nullable=True),
        sa.Column("to_step", sa.String(length=32), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("actor_roles", JSON_DOCUMENT, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("document_numbers", JSON_DOCUMENT, nullable=False),
        sa.Column("publicity_id", sa.Uuid(), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_household_events_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_events")),
    )
    op.create_index(
        "ix_household_events_household_id_at", "household_events", ["household_id", "at"], unique=False
    )
    op.create_index(
        "ix_household_events_region_code_at", "household_events", ["region_code", "at"], unique=False
    )

    op.create_table(
        "incomes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("wage_income", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("business_income", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("property_income", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("transfer_income", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("production_costs", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("household_size", sa.Integer(), nullable=False),
        sa.Column("net_income", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("per_capita_net_income", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_incomes_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incomes")),
        sa.UniqueConstraint("household_id", "year", name=op.f("uq_incomes_household_id_year")),
    )
    op.create_index("ix_incomes_region_code_id", "incomes", ["region_code", "id"], unique=False)

    op.create_table(
        "indicators",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("indicator", sa.String(length=16), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("verified_by_id", sa.Uuid(), nullable=True),
        sa.Column("verified_by_name", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "indicator IN ('food', 'clothing', 'education', 'medical', 'housing', 'water')",
            name=op.f("ck_indicators_indicator_known"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_indicators_household_id_households")
        ),
        sa.PrimaryKeyConstraint("household_id", "indicator", name=op.f("pk_indicators")),
    )
    op.create_index(
        "ix_indicators_region_code_household_id", "indicators", ["region_code", "household_id"], unique=False
    )

    op.create_table(
        "members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("education", sa.String(length=32), nullable=True),
        sa.Column("schooling", sa.String(length=32), nullable=True),
        sa.Column("health", sa.String(length=32), nullable=True),
        sa.Column("labour_ability", sa.String(length=32), nullable=True),
        sa.Column("migrant_work_months", sa.Integer(), nullable=True),
        sa.Column("has_medical_insurance", sa.Boolean(), nullable=False),
        sa.Column("has_pension_insurance", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("left_reason", sa.String(length=100), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("sex IN ('M', 'F')", name=op.f("ck_members_sex_known")),
        sa.CheckConstraint(
            "migrant_work_months BETWEEN 0 AND 12", name=op.f("ck_members_migrant_work_months_range")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_members_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    op.create_index("ix_members_household_id", "members", ["household_id"], unique=False)
    op.create_index("ix_members_region_code_id", "members", ["region_code", "id"], unique=False)
    op.create_index(
        "uq_members_active_id_number",
        "members",
        ["id_number"],
        unique=True,
        sqlite_where=sa.text("is_active"),
        postgresql_where=sa.text("is_active"),
    )

    op.create_table(
        "publicities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("procedure", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_publicities_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publicities")),
    )
    op.create_index("ix_publicities_household_id", "publicities", ["household_id"], unique=False)
    op.create_index(
        "ix_publicities_region_code_starts_on", "publicities", ["region_code", "starts_on"], unique=False
    )

    op.create_table(
        "objections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("publicity_id", sa.Uuid(), nullable=True),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_objections_status_known")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_objections_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["publicity_id"], ["publicities.id"], name=op.f("fk_objections_publicity_id_publicities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    op.create_index("ix_objections_household_id", "objections", ["household_id"], unique=False)
    op.create_index("ix_objections_region_code_id", "objections", ["region_code", "id"], unique=False)

    seed_reference_data()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_APPEND_ONLY)
        op.execute(AUDIT_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("objections")
    op.drop_table("publicities")
    op.drop_table("members")
    op.drop_table("indicators")
    op.drop_table("incomes")
    op.drop_table("household_events")
    op.drop_table("import_row_reports")
    op.drop_table("households")
    op.drop_table("region_settings")
    op.drop_table("poverty_lines")
    op.drop_table("jobs")
    op.drop_table("code_entries")
    op.drop_table("audit_log")


AUDIT_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""
AUDIT_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""

# Code lists as the national defaults; provinces and counties add or retire entries of their own.
CODE_LISTS: dict[str, list[tuple[str, str] | tuple[str, str, int | None, int | None]]] = {
    "identification_standard": [
        ("national", "国家标准"),
        ("provincial", "省定标准"),
        ("prefecture", "市定标准"),
    ],
    "attribute": [
        ("general", "一般贫困户"),
        ("dibao", "低保贫困户"),
        ("wubao", "五保贫困户", None, 2020),
        ("tekun", "特困供养贫困户", 2021, None),
    ],
    "category": [
        ("targeted", "精准扶贫户"),
        ("policy_guaranteed", "政策保障户"),
        ("consolidation", "巩固提升户"),
    ],
    "cause": [
        ("illness", "因病"),
        ("disability", "因残"),
        ("schooling", "因学"),
        ("disaster", "因灾"),
        ("marriage", "因婚"),
        ("lack_of_land", "缺土地"),
        ("lack_of_water", "缺水"),
        ("lack_of_skills", "缺技术"),
        ("lack_of_labour", "缺劳力"),
        ("lack_of_capital", "缺资金"),
        ("poor_transport", "交通条件落后"),
        ("lack_of_drive", "自身发展动力不足"),
        ("other", "其他"),
    ],
    "relation": [
        ("head", "户主"),
        ("spouse", "配偶"),
        ("child", "子女"),
        ("child_in_law", "儿媳/女婿"),
        ("grandchild", "孙子女"),
        ("parent", "父母"),
        ("sibling", "兄弟姐妹"),
        ("other", "其他"),
    ],
    "education": [
        ("preschool", "学龄前儿童"),
        ("illiterate", "文盲或半文盲"),
        ("primary", "小学"),
        ("junior", "初中"),
        ("senior", "高中"),
        ("vocational", "中专/职高"),
        ("college", "大专及以上"),
    ],
    "schooling": [
        ("none", "非在校生"),
        ("preschool", "学前教育"),
        ("primary", "小学"),
        ("junior", "初中"),
        ("senior", "高中"),
        ("vocational", "中职"),
        ("higher", "高职/大专/本科"),
    ],
    "health": [("healthy", "健康"), ("chronic", "长期慢性病"), ("serious", "患有大病"), ("disabled", "残疾")],
    "labour_ability": [
        ("ordinary", "普通劳动力"),
        ("skilled", "技能劳动力"),
        ("weak", "弱劳动力或半劳动力"),
        ("lost", "丧失劳动力"),
        ("none", "无劳动力"),
    ],
    "housing_structure": [
        ("brick_concrete", "砖混"),
        ("brick_wood", "砖木"),
        ("earth_wood", "土木"),
        ("cave", "窑洞"),
        ("other", "其他"),
    ],
    "fuel": [("firewood", "柴草"), ("coal", "煤"), ("gas", "燃气"), ("electricity", "电"), ("other", "其他")],
    "drinking_water": [
        ("tap", "自来水"),
        ("well", "井水"),
        ("spring", "泉水"),
        ("cellar", "水窖"),
        ("other", "其他"),
    ],
    "monitoring_kind": [
        ("unstable_exited", "脱贫不稳定户"),
        ("edge", "边缘易致贫户"),
        ("sudden_hardship", "突发严重困难户"),
    ],
}

# The national line in yuan per person per year (2,300 yuan at 2010 prices), as published.
NATIONAL_POVERTY_LINES = {
    2014: "2736",
    2015: "2855",
    2016: "3000",
    2017: "3335",
    2018: "3535",
    2019: "3747",
    2020: "4000",
}


def seed_reference_data() -> None:
    now = datetime.now(UTC)
    code_entries = sa.table(
        "code_entries",
        sa.column("list_name"),
        sa.column("code"),
        sa.column("label"),
        sa.column("region_code"),
        sa.column("valid_from"),
        sa.column("valid_to"),
        sa.column("sort_order"),
        sa.column("is_active"),
        sa.column("created_at", TIMESTAMP),
        sa.column("updated_at", TIMESTAMP),
    )
    rows = []
    for list_name, entries in CODE_LISTS.items():
        for order, entry in enumerate(entries):
            code, label, valid_from, valid_to = (*entry, None, None)[:4]
            rows.append(
                {
                    "list_name": list_name,
                    "code": code,
                    "label": label,
                    "region_code": NATIONAL,
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                    "sort_order": order,
                    "is_active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    op.bulk_insert(code_entries, rows)
    poverty_lines = sa.table(
        "poverty_lines",
        sa.column("region_code"),
        sa.column("year"),
        sa.column("standard"),
        sa.column("amount", sa.Numeric(12, 2)),
        sa.column("created_at", TIMESTAMP),
        sa.column("updated_at", TIMESTAMP),
    )
    op.bulk_insert(
        poverty_lines,
        [
            {
                "region_code": NATIONAL,
                "year": year,
                "standard": "national",
                "amount": Decimal(amount),
                "created_at": now,
                "updated_at": now,
            }
            for year, amount in NATIONAL_POVERTY_LINES.items()
        ],
    )
