"""The household registry (建档立卡): households, their members, incomes, 两不愁三保障 indicators, and the
history of their lifecycle (publicities, objections, transitions)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JsonDocument, RegionCode, TimestampMixin

HOUSEHOLD_STATUSES = ("applicant", "registered", "exited", "removed", "rejected")


class Household(TimestampMixin, Base):
    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("county_code", "household_number"),
        Index("ix_households_region_code_id", "region_code", "id"),
        Index("ix_households_status_region_code", "status", "region_code"),
        CheckConstraint(
            "status IN ('applicant', 'registered', 'exited', 'removed', 'rejected')", name="status_known"
        ),
        CheckConstraint("housing_safety_grade IN ('A', 'B', 'C', 'D')", name="safety_grade_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))  # the village
    county_code: Mapped[str] = mapped_column(RegionCode)  # household numbers are unique per county
    household_number: Mapped[str] = mapped_column(String(32))  # 户编号
    group_name: Mapped[str | None] = mapped_column(String(50))  # 村民小组
    head_name: Mapped[str] = mapped_column(String(50))  # 户主, kept equal to the head member's name
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # sensitive
    bank_name: Mapped[str | None] = mapped_column(String(100))
    bank_account: Mapped[str | None] = mapped_column(String(40))  # sensitive
    identification_standard: Mapped[str] = mapped_column(String(32))  # 识别标准
    attribute: Mapped[str] = mapped_column(String(32))  # 贫困户属性
    category: Mapped[str | None] = mapped_column(String(32))  # 精准扶贫户 / 政策保障户 / 巩固提升户
    primary_cause: Mapped[str] = mapped_column(String(32))  # 主要致贫原因
    other_causes: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    housing_area: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    housing_structure: Mapped[str | None] = mapped_column(String(32))
    housing_year_built: Mapped[int | None]
    housing_safety_grade: Mapped[str | None] = mapped_column(String(1))
    is_relocated: Mapped[bool] = mapped_column(default=False)  # 易地扶贫搬迁
    has_electricity: Mapped[bool | None]
    fuel: Mapped[str | None] = mapped_column(String(32))
    drinking_water: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    # The procedure under way (identification, exit, return, removal, monitoring, risk_clearing) and its step.
    procedure: Mapped[str | None] = mapped_column(String(32))
    procedure_step: Mapped[str | None] = mapped_column(String(32))
    procedure_started_on: Mapped[date | None]
    monitoring_kind: Mapped[str | None] = mapped_column(String(32))  # 防返贫监测: the kind while monitored
    monitoring_since: Mapped[date | None]
    has_returned_to_poverty: Mapped[bool] = mapped_column(default=False)  # 返贫
    registered_year: Mapped[int | None]
    exited_year: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Member(TimestampMixin, Base):
    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_household_id", "household_id"),
        Index("ix_members_region_code_id", "region_code", "id"),
        # The five-coverages report aggregates a subtree's active members from this index alone (0011).
        Index(
            "ix_members_region_code_household_id_active",
            "region_code",
            "household_id",
            postgresql_include=["schooling", "has_medical_insurance", "labour_ability"],
            postgresql_where=text("is_active"),
            sqlite_where=text("is_active"),
        ),
        # One person is an active member of one household at most.
        Index(
            "uq_members_active_id_number",
            "id_number",
            unique=True,
            sqlite_where=text("is_active"),
            postgresql_where=text("is_active"),
        ),
        CheckConstraint("sex IN ('M', 'F')", name="sex_known"),
        CheckConstraint("migrant_work_months BETWEEN 0 AND 12", name="migrant_work_months_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)  # the household's village
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))  # 身份证号, GB 11643; sensitive
    sex: Mapped[str] = mapped_column(String(1))  # derived from the ID number
    birth_date: Mapped[date]  # derived from the ID number
    relation: Mapped[str] = mapped_column(String(32))  # 与户主关系
    education: Mapped[str | None] = mapped_column(String(32))  # 文化程度
    schooling: Mapped[str | None] = mapped_column(String(32))  # 在校生状况
    health: Mapped[str | None] = mapped_column(String(32))  # 健康状况; sensitive in public notices
    labour_ability: Mapped[str | None] = mapped_column(String(32))  # 劳动技能
    migrant_work_months: Mapped[int | None]  # 务工时间
    has_medical_insurance: Mapped[bool] = mapped_column(default=False)  # 参加城乡居民基本医疗保险
    has_pension_insurance: Mapped[bool] = mapped_column(default=False)  # 参加城乡居民基本养老保险
    is_active: Mapped[bool] = mapped_column(default=True)
    left_on: Mapped[date | None]
    left_reason: Mapped[str | None] = mapped_column(String(100))


class Income(TimestampMixin, Base):
    """Annual income (年收入) of a household; net and per-capita income are computed, never typed."""

    __tablename__ = "incomes"
    __table_args__ = (
        UniqueConstraint("household_id", "year"),
        Index("ix_incomes_region_code_id", "region_code", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)
    year: Mapped[int]
    wage_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 工资性收入
    business_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 家庭经营性收入
    property_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 财产性收入
    transfer_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 转移性收入
    production_costs: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 生产经营性支出
    household_size: Mapped[int]  # active members when recorded
    net_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 纯收入
    per_capita_net_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 人均纯收入


class Indicator(Base):
    """One of 两不愁三保障 + drinking water for a household: holds or not, when and by whom verified."""

    __tablename__ = "indicators"
    __table_args__ = (
        Index("ix_indicators_region_code_household_id", "region_code", "household_id"),
        CheckConstraint(
            "indicator IN ('food', 'clothing', 'education', 'medical', 'housing', 'water')",
            name="indicator_known",
        ),
    )

    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(16), primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode)
    holds: Mapped[bool]
    verified_on: Mapped[date]
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    verified_by_name: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class Publicity(Base):
    """A publicity period (公示) of a household's procedure step: objections may be raised until it ends."""

    __tablename__ = "publicities"
    __table_args__ = (
        Index("ix_publicities_household_id", "household_id"),
        Index("ix_publicities_region_code_starts_on", "region_code", "starts_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)
    procedure: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))  # the step that opened it
    level: Mapped[str] = mapped_column(String(16))  # village / township / county
    starts_on: Mapped[date]
    ends_on: Mapped[date]  # last day of the period (inclusive)
    created_at: Mapped[datetime]


class Objection(Base):
    """An objection (异议) raised during a publicity; an approval waits until every one is resolved."""

    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_household_id", "household_id"),
        Index("ix_objections_region_code_id", "region_code", "id"),
        CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    publicity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("publicities.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)
    raised_on: Mapped[date]
    raised_by: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class HouseholdEvent(Base):
    """One step of a household's history (动态管理记录): who did what, when, why, with which documents."""

    __tablename__ = "household_events"
    __table_args__ = (
        Index("ix_household_events_household_id_at", "household_id", "at"),
        Index("ix_household_events_region_code_at", "region_code", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"))
    region_code: Mapped[str] = mapped_column(RegionCode)
    procedure: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    from_step: Mapped[str | None] = mapped_column(String(32))
    to_step: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_roles: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    at: Mapped[datetime]
    comment: Mapped[str | None] = mapped_column(Text)
    document_numbers: Mapped[list[str]] = mapped_column(JsonDocument, default=list)  # 文号
    publicity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
