"""Assistance plans (帮扶计划, 一户一策): one plan per household per year with its measures, and the visits
and work logs (走访, 工作日志) of cadres. Every row carries the household's village as ``region_code``."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, RegionCode, TimestampMixin

# The "ten projects" (十大脱贫工程) and the others of DOMAIN.md. Housing (安居) is two categories, so that the
# five-coverages report can tell dangerous-house renovation (危房改造) from relocation (易地搬迁).
MEASURE_CATEGORIES = (
    "industry",  # 产业
    "employment",  # 就业
    "education",  # 教育
    "health",  # 健康
    "social_security",  # 社会保障兜底
    "house_renovation",  # 安居: 危房改造
    "relocation",  # 安居: 易地扶贫搬迁
    "ecology",  # 生态 (公益岗位)
    "infrastructure",  # 基础设施
    "village_renovation",  # 村庄整治
    "photovoltaic",  # 光伏
    "microcredit",  # 金融 / 小额信贷
)
MEASURE_STATUSES = ("planned", "in_progress", "done", "cancelled")
VISIT_KINDS = ("visit", "work_log")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class AssistancePlan(TimestampMixin, Base):
    """A household's plan for one year (一户一策): the goal and, below it, the measures."""

    __tablename__ = "assistance_plans"
    __table_args__ = (
        UniqueConstraint("household_id", "year"),
        Index("ix_assistance_plans_region_code_year", "region_code", "year"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)  # the household's village
    year: Mapped[int]
    goal_income: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # target per-capita net income, yuan
    planned_exit_year: Mapped[int | None]  # 计划脱贫年度
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))  # subject of who made it
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PlanMeasure(TimestampMixin, Base):
    """One measure (帮扶措施) of a plan: what, who is responsible, when, how far along, what it brought."""

    __tablename__ = "plan_measures"
    __table_args__ = (
        Index("ix_plan_measures_plan_id", "plan_id"),
        Index("ix_plan_measures_region_code_id", "region_code", "id"),
        Index("ix_plan_measures_household_id_year", "household_id", "year", "category"),
        Index("ix_plan_measures_responsible_cadre_id", "responsible_cadre_id"),
        # A year's measures in a subtree for the five-coverages report, from the index alone (0011).
        Index(
            "ix_plan_measures_year_region_code",
            "year",
            "region_code",
            postgresql_include=["status", "category", "household_id"],
        ),
        CheckConstraint(_known("category", MEASURE_CATEGORIES), name="category_known"),
        CheckConstraint(_known("status", MEASURE_STATUSES), name="status_known"),
        CheckConstraint("actual_end IS NULL OR status = 'done'", name="actual_end_only_when_done"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("assistance_plans.id"))
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)  # the household's village
    year: Mapped[int]  # the plan's year, kept here so that coverage reports need no join
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    responsible_cadre_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cadres.id"))
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[date | None]
    actual_end: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default="planned")
    expected_benefit: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # yuan
    actual_benefit: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # yuan
    # Free references until projects (项目库) and fund transfers exist; linked to their tables later.
    project_ref: Mapped[str | None] = mapped_column(String(64))
    fund_transfer_ref: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Visit(TimestampMixin, Base):
    """A cadre's visit to a household (走访) or a work log entry about it (工作日志)."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_region_code_visited_on", "region_code", "visited_on", "id"),
        Index("ix_visits_household_id_visited_on", "household_id", "visited_on"),
        Index("ix_visits_cadre_id_visited_on", "cadre_id", "visited_on"),
        CheckConstraint(_known("kind", VISIT_KINDS), name="kind_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cadres.id"))
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)  # the household's village
    visited_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16), default="visit")
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))  # subject of who recorded it
    created_by_name: Mapped[str] = mapped_column(String(64))
