"""Household lifecycle models: transitions, history, objections (异议) and public notice lists (公示名单)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.api.schemas.common import InputModel, ReadModel
from app.api.schemas.households import Code, Status
from app.domain.households.lifecycle_rules import ACTIONS, LEAD_SOURCES

Action = Literal[ACTIONS]  # type: ignore[valid-type]
LeadSource = Literal[LEAD_SOURCES]  # type: ignore[valid-type]
DocumentNumber = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class TransitionCreate(InputModel):
    """One step of the household's procedure. Which fields an action needs: see `GET …/transitions`."""

    action: Action = Field(
        description="identification: village_review, start_village_publicity, township_review, "
        "start_township_publicity, county_approve, announce, register, reject; exit: propose_exit, "
        "verify_exit, record_consent, start_village_publicity, start_township_publicity, announce_exit; "
        "return: propose_return, start_village_publicity, township_review, county_approve_return; "
        "removal: propose_removal, township_review, county_approve_removal; monitoring: report_lead, "
        "record_visit_consent, start_village_publicity, township_check, county_decide; risk_clearing: "
        "propose_risk_clearing, start_village_publicity, township_check, county_decide; any procedure but "
        "identification: cancel"
    )
    comment: Text | None = Field(
        None, description="Why; required by reject, cancel, propose_return and propose_removal"
    )
    document_numbers: list[DocumentNumber] = Field(
        default_factory=list,
        max_length=10,
        description="文号 of the decision; required by announce, announce_exit, county_approve_return, "
        "county_approve_removal",
        examples=[["秦扶贫发〔2020〕12号"]],
    )
    year: int | None = Field(
        None,
        ge=1980,
        le=2100,
        description="propose_exit, propose_risk_clearing: the year whose income is assessed "
        "(default: last year)",
    )
    monitoring_kind: Code | None = Field(
        None,
        description="report_lead: code list `monitoring_kind` (unstable_exited for exited households only, "
        "edge, sudden_hardship)",
    )
    lead_source: LeadSource | None = Field(
        None, description="report_lead: self (农户自主申报), cadre (干部排查) or department (部门预警)"
    )
    include: bool | None = Field(
        None,
        description="county_decide: monitoring — include the household; risk_clearing — clear the risk",
    )
    primary_cause: Code | None = Field(
        None, description="propose_return: the new primary cause (code list `cause`), applied on approval"
    )


class ObjectionCreate(InputModel):
    raised_on: date = Field(description="When it was raised: not before the publicity began, not after today")
    raised_by: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="Who raised it, if they gave a name"
    )
    content: Text = Field(description="What the objection says")


class ObjectionResolve(InputModel):
    resolution: Text = Field(description="How it was checked and settled")


class ObjectionRead(ReadModel):
    id: uuid.UUID
    household_id: uuid.UUID
    publicity_id: uuid.UUID | None
    raised_on: date
    raised_by: str | None
    content: str
    status: Literal["open", "resolved"]
    resolution: str | None
    resolved_at: datetime | None
    created_at: datetime


class PublicityRead(ReadModel):
    id: uuid.UUID
    procedure: str
    step: str
    level: str = Field(description="village or township")
    starts_on: date
    ends_on: date = Field(description="Last day of the period (inclusive)")


class PublicityWithObjections(PublicityRead):
    objections: list[ObjectionRead]


class EventRead(ReadModel):
    id: uuid.UUID
    procedure: str | None
    action: str
    from_status: str | None
    to_status: str | None
    from_step: str | None
    to_step: str | None
    actor_name: str
    actor_roles: list[str]
    at: datetime
    comment: str | None
    document_numbers: list[str]
    details: dict[str, Any] = Field(description="year, monitoring_kind, include, deadline, overdue, …")
    publicity: PublicityWithObjections | None = Field(
        description="The publicity this step opened, with the objections raised in it"
    )


class Reason(ReadModel):
    code: str
    detail: str


class AvailableActionRead(ReadModel):
    action: str
    procedure: str
    label: str = Field(description="The step as the forms name it")
    taken_by: str = Field(
        description="Role and region level that take it, e.g. `county_officer at county level`"
    )
    to_step: str | None = Field(description="null: the procedure ends")
    to_status: Status | None
    requires: list[str] = Field(description="Fields the request must carry")
    accepts: list[str] = Field(description="Further fields it takes")
    allowed: bool
    reasons: list[Reason] = Field(description="Why not, when not allowed")


class TransitionsRead(ReadModel):
    household_id: uuid.UUID
    status: Status
    procedure: str | None
    procedure_step: str | None
    procedure_started_on: date | None
    publicity: PublicityRead | None = Field(description="The publicity of the current step, if any")
    decision_deadline: date | None = Field(
        description="Monitoring and risk clearing: the county decides by this day "
        "(a later decision is recorded as overdue)"
    )
    actions: list[AvailableActionRead]


class NoticeItem(ReadModel):
    """A line of a public notice: nothing personal beyond the head's name."""

    household_number: str
    head_name: str
    village_code: str
    village_name: str
    group_name: str | None
    member_count: int
    attribute: str = Field(description="贫困户属性 (label)")
    primary_cause: str = Field(description="主要致贫原因 (label)")
    procedure: str
    procedure_label: str
    level: str
    level_label: str
    starts_on: date
    ends_on: date


class NoticeList(ReadModel):
    items: list[NoticeItem]
