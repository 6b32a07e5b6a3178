"""The project library (项目库): poverty-alleviation projects, their beneficiary households, and the record
of when fund notices (资金公告公示) were put up on a notice board and taken down.

Money is integer fen (BigInteger) everywhere. A project's ``region_code`` is the village or township where it
is built; ``county_code`` is its county, so a county's projects stay together (and on one shard).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JsonDocument, RegionCode, TimestampMixin
from app.db.models.plans import MEASURE_CATEGORIES

PROJECT_CATEGORIES = MEASURE_CATEGORIES  # the plan-measure categories (十大脱贫工程 and the others)
PROJECT_STATUSES = ("planned", "approved", "under_construction", "completed", "accepted")
CONSTRUCTION_TYPES = (
    "new",
    "expansion",
    "renovation",
    "continued",
    "purchase",
    "other",
)  # 新建/扩建/改建/续建/购置
INCOME_SHARING_BASES = ("equal", "by_weight")  # 分红: equal shares, or by each beneficiary's weight
NOTICE_SUBJECTS = ("batch", "project")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Project(TimestampMixin, Base):
    """A project of the library. It cannot exist without performance targets (绩效目标)."""

    __tablename__ = "projects"
    __table_args__ = (
        Index("ix_projects_region_code_id", "region_code", "id"),
        Index("ix_projects_region_code_fiscal_year", "region_code", "fiscal_year"),
        Index("ix_projects_status_region_code", "status", "region_code"),
        CheckConstraint(_known("category", PROJECT_CATEGORIES), name="category_known"),
        CheckConstraint(_known("status", PROJECT_STATUSES), name="status_known"),
        CheckConstraint(_known("construction_type", CONSTRUCTION_TYPES), name="construction_type_known"),
        CheckConstraint("budget_fen >= 0", name="budget_not_negative"),
        CheckConstraint("income_shared_fen >= 0", name="income_shared_not_negative"),
        CheckConstraint(
            "income_sharing_basis IS NULL OR " + _known("income_sharing_basis", INCOME_SHARING_BASES),
            name="income_sharing_basis_known",
        ),
        CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name="planned_schedule_ordered",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))  # village or township
    county_code: Mapped[str] = mapped_column(RegionCode)
    fiscal_year: Mapped[int]  # 年度: the year the project enters the library for
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    construction_type: Mapped[str] = mapped_column(String(16))  # 建设性质
    content: Mapped[str] = mapped_column(Text, default="")  # 建设内容及规模
    location: Mapped[str | None] = mapped_column(String(200))  # 建设地点 beyond the region's name
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[date | None]
    actual_end: Mapped[date | None]
    responsible_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("work_units.id"))
    responsible_unit_name: Mapped[str] = mapped_column(String(100))  # 责任单位
    budget_fen: Mapped[int] = mapped_column(BigInteger)  # 总投资
    financing: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)  # [{source, amount_fen}]
    performance_targets: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)  # 绩效目标, non-empty
    benefit_mechanism: Mapped[str] = mapped_column(Text, default="")  # 联农带贫机制
    status: Mapped[str] = mapped_column(String(24), default="planned")
    approval_document: Mapped[str | None] = mapped_column(String(100))  # 立项批复文号
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    # 分红: income the project yields (e.g. photovoltaic) shared out to beneficiary households.
    income_sharing_basis: Mapped[str | None] = mapped_column(String(16))
    expected_annual_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    income_shared_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # paid out so far
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ProjectBeneficiary(Base):
    """A household that benefits from a project (带贫户); ``region_code`` is the household's village."""

    __tablename__ = "project_beneficiaries"
    __table_args__ = (
        Index("ix_project_beneficiaries_household_id", "household_id"),
        Index("ix_project_beneficiaries_region_code", "region_code"),
        CheckConstraint("share_weight > 0", name="share_weight_positive"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"), primary_key=True)
    household_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("households.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode)
    share_weight: Mapped[int] = mapped_column(default=1)  # 分红 by weight
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]


class NoticePublication(TimestampMixin, Base):
    """When and where a fund notice (资金公告公示) was put up, and when it was taken down.

    The subject is an allocation batch (by document number, 文号) or a project.
    """

    __tablename__ = "fund_notice_publications"
    __table_args__ = (
        Index("ix_fund_notice_publications_region_code_id", "region_code", "id"),
        Index("ix_fund_notice_publications_document_number", "document_number"),
        Index("ix_fund_notice_publications_project_id", "project_id"),
        CheckConstraint(_known("subject", NOTICE_SUBJECTS), name="subject_known"),
        CheckConstraint(
            "(subject = 'batch' AND document_number IS NOT NULL AND project_id IS NULL) OR "
            "(subject = 'project' AND project_id IS NOT NULL)",
            name="subject_has_reference",
        ),
        CheckConstraint("taken_down_on IS NULL OR taken_down_on >= published_on", name="taken_down_after"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))  # where the board is
    subject: Mapped[str] = mapped_column(String(16))
    document_number: Mapped[str | None] = mapped_column(String(100))
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("projects.id"))
    published_on: Mapped[date]
    board_location: Mapped[str] = mapped_column(String(200))  # 公示栏位置
    taken_down_on: Mapped[date | None]
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
