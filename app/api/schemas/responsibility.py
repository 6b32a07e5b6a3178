"""Responsibility chain models: work units, cadres, assignments, the chain of a household, coverage."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.api.schemas.common import InputModel, PatchModel, ReadModel, RegionCodeStr

UnitKind = Literal["department", "enterprise", "social_organisation"]
Rank = Literal["county_leader", "section", "general", "village"]
AssignmentKind = Literal["township_cover", "village_cover", "first_secretary", "work_team", "pairing"]
Phone = Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{5,20}$")]
UnitName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=50)]
EnterpriseClass = Annotated[
    int, Field(ge=1, le=4, description="Enterprise class 1–4 (quotas 80 / 30 / 10 / 5 households by default)")
]
RANK_DESCRIPTION = "县级领导 county_leader, 科级 section, 一般干部 general, 村两委 village"


# Work units ---------------------------------------------------------------------------------------------


class WorkUnitCreate(InputModel):
    region_code: RegionCodeStr = Field(description="Region the unit belongs to")
    name: UnitName
    kind: UnitKind = Field(description="部门 department, 企业 enterprise, 社会组织 social_organisation")
    enterprise_class: EnterpriseClass | None = None
    phone: Phone | None = Field(None, description="Office number")


class WorkUnitUpdate(PatchModel):
    name: UnitName | None = None
    enterprise_class: EnterpriseClass | None = None
    phone: Phone | None = None


class WorkUnitRead(ReadModel):
    id: uuid.UUID
    region_code: str
    name: str
    kind: UnitKind
    enterprise_class: int | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


# Cadres -------------------------------------------------------------------------------------------------


class CadreCreate(InputModel):
    region_code: RegionCodeStr = Field(description="Region the cadre works in")
    name: PersonName
    unit_id: uuid.UUID | None = Field(None, description="Work unit (帮扶单位) in your scope")
    rank: Rank = Field(description=RANK_DESCRIPTION)
    phone: Phone | None = Field(None, description="Personal data: masked for callers without the grant")


class CadreUpdate(PatchModel):
    name: PersonName | None = None
    unit_id: uuid.UUID | None = None
    rank: Rank | None = None
    phone: Phone | None = None
    is_active: bool | None = Field(
        None, description="false: no longer assignable (needs no active assignment)"
    )


class CadreRead(ReadModel):
    id: uuid.UUID
    region_code: str
    name: str
    unit_id: uuid.UUID | None
    rank: Rank
    phone: str | None = Field(description="Masked unless you may read personal data")
    is_active: bool
    created_at: datetime
    updated_at: datetime


class CadreSummary(ReadModel):
    """A cadre in a list: no phone."""

    id: uuid.UUID
    region_code: str
    name: str
    unit_id: uuid.UUID | None
    unit_name: str | None
    rank: Rank
    is_active: bool
    created_at: datetime
    updated_at: datetime


# Assignments --------------------------------------------------------------------------------------------


class AssignmentCreate(InputModel):
    kind: AssignmentKind = Field(
        description="包乡 township_cover (a county leader covers a township), 包村 village_cover, 第一书记 "
        "first_secretary, 驻村工作队 work_team, 结对帮扶 pairing (a cadre or an enterprise with a household)"
    )
    region_code: RegionCodeStr | None = Field(
        None, description="The township or village covered; for a pairing, the household's village (optional)"
    )
    cadre_id: uuid.UUID | None = Field(
        None, description="The cadre; or `unit_id` for an enterprise's pairing"
    )
    unit_id: uuid.UUID | None = Field(None, description="An enterprise or social organisation (pairing only)")
    household_id: uuid.UUID | None = Field(None, description="The household (pairing only)")
    is_team_leader: bool = Field(False, description="队长 of the work team (work_team only)")
    starts_on: date | None = Field(None, description="Default today; not in the future")


class AssignmentEnd(InputModel):
    ends_on: date | None = Field(None, description="Default today; not in the future nor before the start")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Why it ends (调离, 轮换, 脱贫, …)"
    )
    successor_cadre_id: uuid.UUID | None = Field(
        None,
        description="Hands the assignment over to this cadre from the same day (needed to withdraw a poor "
        "village's first secretary or last work team member)",
    )


class AssignmentRead(ReadModel):
    id: uuid.UUID
    kind: AssignmentKind
    region_code: str
    cadre_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    household_id: uuid.UUID | None
    is_team_leader: bool
    starts_on: date
    ends_on: date | None = Field(description="Null while active")
    end_reason: str | None
    assigned_by: str = Field(description="Subject of who made it")
    ended_by: str | None
    created_at: datetime
    updated_at: datetime


class AssignmentSummary(AssignmentRead):
    cadre_name: str | None
    unit_name: str | None


class AssignmentEnded(BaseModel):
    assignment: AssignmentRead
    successor: AssignmentRead | None


# The chain ----------------------------------------------------------------------------------------------


class ChainUnit(BaseModel):
    id: uuid.UUID
    name: str
    kind: UnitKind
    enterprise_class: int | None
    phone: str | None = Field(description="Office number")


class ChainCadre(BaseModel):
    id: uuid.UUID
    name: str
    rank: Rank
    region_code: str
    phone: str | None = Field(description="Masked unless you may read personal data")


class ChainEntry(BaseModel):
    assignment_id: uuid.UUID
    kind: AssignmentKind
    region_code: str
    is_team_leader: bool
    starts_on: date
    cadre: ChainCadre | None
    cadre_unit: ChainUnit | None = Field(description="The cadre's own work unit")
    unit: ChainUnit | None = Field(description="An enterprise or organisation paired by itself")


class ChainLeader(ChainCadre):
    unit: ChainUnit | None


class ChainHousehold(BaseModel):
    id: uuid.UUID
    region_code: str
    household_number: str
    head_name: str
    status: str


class ChainRegion(BaseModel):
    code: str
    name: str | None


class ResponsibilityChain(BaseModel):
    household: ChainHousehold
    village: ChainRegion
    township: ChainRegion
    county: ChainRegion
    pairings: list[ChainEntry] = Field(
        description="结对帮扶: cadres and enterprises paired with the household"
    )
    first_secretary: ChainEntry | None = Field(description="第一书记 of the village")
    work_team: list[ChainEntry] = Field(description="驻村工作队, the leader first")
    village_cover: list[ChainEntry] = Field(description="包村干部")
    township_cover: list[ChainEntry] = Field(description="包乡县级领导 of the township")
    county_leaders: list[ChainLeader] = Field(
        description="县级领导: active county-leader cadres of the county"
    )
    has_responsible_person: bool = Field(description="At least one active pairing with a cadre")


# Coverage -----------------------------------------------------------------------------------------------


class CoverageCounts(BaseModel):
    households: int = Field(description="Registered and exited households (who need a responsible person)")
    households_registered: int
    households_exited: int
    households_uncovered: int = Field(description="Of those, with no active pairing with a cadre")
    villages: int
    poor_villages: int
    villages_without_first_secretary: int = Field(description="Poor villages lacking one where required")
    villages_without_team: int = Field(description="Poor villages with no work team member where required")
    cadres: int = Field(description="Active cadres working here")
    cadres_below_quota: int
    cadres_above_quota: int
    units: int = Field(description="Enterprises with a class")
    units_below_quota: int
    units_above_quota: int


class CoverageRow(CoverageCounts):
    region_code: str
    name: str | None
    level: str | None


class CoverageRegion(BaseModel):
    code: str
    name: str
    level: str


class CoverageReport(BaseModel):
    region: CoverageRegion
    totals: CoverageCounts
    children: list[CoverageRow] = Field(
        description="One row per child region (a village: itself); the region's own records, if any, "
        "in a last row with its own code"
    )
    rules: dict[str, Any] = Field(
        description="The settings applying at the region; `varies_inside` names "
        "those set differently below it"
    )


class CoverageItem(BaseModel):
    """A row of a coverage list: a household, a village, a cadre or a unit, with what applies."""

    region_code: str
    id: uuid.UUID | None = None
    name: str | None = None
    household_number: str | None = None
    head_name: str | None = None
    status: str | None = None
    rank: str | None = None
    unit_id: uuid.UUID | None = None
    kind: str | None = None
    enterprise_class: int | None = None
    pairings: int | None = None
    quota: int | None = None


class CoveragePage(BaseModel):
    list_name: str = Field(description="The `list` asked for")
    items: list[CoverageItem]
    next_cursor: str | None
