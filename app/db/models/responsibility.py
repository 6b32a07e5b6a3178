"""Responsibility chains (责任链): work units (帮扶单位), cadres (帮扶干部) and their assignments.

An assignment is active while `ends_on` is NULL; ending one sets the date and the reason, nothing is deleted.
The partial indexes below all use that predicate, so coverage and the chain only touch active rows.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, RegionCode, TimestampMixin

WORK_UNIT_KINDS = ("department", "enterprise", "social_organisation")
CADRE_RANKS = ("county_leader", "section", "general", "village")
ASSIGNMENT_KINDS = ("township_cover", "village_cover", "first_secretary", "work_team", "pairing")

ACTIVE = text("ends_on IS NULL")


class WorkUnit(TimestampMixin, Base):
    """A unit sending cadres or pairing with households: department, enterprise or social organisation."""

    __tablename__ = "work_units"
    __table_args__ = (
        Index("ix_work_units_region_code_id", "region_code", "id"),
        CheckConstraint("kind IN ('department', 'enterprise', 'social_organisation')", name="kind_known"),
        CheckConstraint("enterprise_class BETWEEN 1 AND 4", name="enterprise_class_range"),
        CheckConstraint(
            "enterprise_class IS NULL OR kind = 'enterprise'", name="enterprise_class_only_enterprise"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))  # where the unit belongs
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    enterprise_class: Mapped[int | None]  # 1..4: quotas 80 / 30 / 10 / 5 households
    phone: Mapped[str | None] = mapped_column(String(20))  # an office number, not personal data


class Cadre(TimestampMixin, Base):
    """A cadre (帮扶干部): rank, work unit, phone (personal data) and the region they work in."""

    __tablename__ = "cadres"
    __table_args__ = (
        Index("ix_cadres_region_code_id", "region_code", "id"),
        Index("ix_cadres_unit_id", "unit_id"),
        # Coverage reads a subtree's active cadres and ranks from it; a chain's county leaders come sorted.
        Index(
            "ix_cadres_region_code_rank_active",
            "region_code",
            "rank",
            "name",
            "id",
            postgresql_where=text("is_active"),
            sqlite_where=text("is_active"),
        ),
        CheckConstraint("rank IN ('county_leader', 'section', 'general', 'village')", name="rank_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))  # region of work
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("work_units.id"))
    rank: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(20))  # sensitive
    is_active: Mapped[bool] = mapped_column(default=True)


class Assignment(TimestampMixin, Base):
    """Who covers what since when: a township, a village (cover, secretary, work team) or a household."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_region_code_id", "region_code", "id"),
        # Covering (PostgreSQL INCLUDE) so that coverage and chains read active assignments from the index
        # alone (migration 0011).
        Index(
            "ix_assignments_household_id_covering",
            "household_id",
            postgresql_include=["kind", "cadre_id", "region_code"],
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        ),
        Index(
            "ix_assignments_kind_region_code_covering",
            "kind",
            "region_code",
            postgresql_include=["household_id", "cadre_id"],
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        ),
        Index(
            "ix_assignments_cadre_id_kind_active",
            "cadre_id",
            "kind",
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        ),
        Index("ix_assignments_unit_id_active", "unit_id", postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        Index("ix_assignments_cadre_id_id", "cadre_id", "id"),
        Index("ix_assignments_household_id_id", "household_id", "id"),
        # One active first secretary per village and one active team leader per village, even under races.
        Index(
            "uq_assignments_first_secretary_active",
            "region_code",
            unique=True,
            postgresql_where=text("kind = 'first_secretary' AND ends_on IS NULL"),
            sqlite_where=text("kind = 'first_secretary' AND ends_on IS NULL"),
        ),
        Index(
            "uq_assignments_team_leader_active",
            "region_code",
            unique=True,
            postgresql_where=text("kind = 'work_team' AND is_team_leader AND ends_on IS NULL"),
            sqlite_where=text("kind = 'work_team' AND is_team_leader AND ends_on IS NULL"),
        ),
        CheckConstraint(
            "kind IN ('township_cover', 'village_cover', 'first_secretary', 'work_team', 'pairing')",
            name="kind_known",
        ),
        CheckConstraint(
            "(cadre_id IS NULL AND unit_id IS NOT NULL) OR (cadre_id IS NOT NULL AND unit_id IS NULL)",
            name="cadre_or_unit",
        ),
        CheckConstraint("(kind = 'pairing') = (household_id IS NOT NULL)", name="household_iff_pairing"),
        CheckConstraint("unit_id IS NULL OR kind = 'pairing'", name="unit_only_pairing"),
        CheckConstraint("NOT is_team_leader OR kind = 'work_team'", name="team_leader_only_work_team"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    # The covered township or village; for a pairing, the household's village.
    region_code: Mapped[str] = mapped_column(RegionCode, ForeignKey("regions.code"))
    cadre_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cadres.id"))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("work_units.id")
    )  # an enterprise pairing
    household_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("households.id"))
    is_team_leader: Mapped[bool] = mapped_column(default=False)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(200))
    assigned_by: Mapped[str] = mapped_column(String(64))  # subject of who made it
    ended_by: Mapped[str | None] = mapped_column(String(64))  # subject of who ended it
