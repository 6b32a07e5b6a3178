"""Every mapped table, imported here so Alembic and the test fixtures see the whole schema."""

from app.db.models.audit import AuditEntry
from app.db.models.auth import ApiClient, LoginThrottle, RefreshToken, User
from app.db.models.changes import Change, ChangePurge
from app.db.models.funds import (
    FundAccount,
    FundAccountSource,
    FundEntry,
    FundTransfer,
    FundTransferSource,
    IdempotencyKey,
)
from app.db.models.households import (
    Household,
    HouseholdEvent,
    Income,
    Indicator,
    Member,
    Objection,
    Publicity,
)
from app.db.models.jobs import ImportRowReport, Job
from app.db.models.plans import AssistancePlan, PlanMeasure, Visit
from app.db.models.projects import NoticePublication, Project, ProjectBeneficiary
from app.db.models.reference import CodeEntry, PovertyLine, RegionSetting
from app.db.models.regions import Region
from app.db.models.responsibility import Assignment, Cadre, WorkUnit
from app.db.models.stats import FundRollup, RollupLock, RuralPopulation, TownshipRollup, VillageRollup

__all__ = [
    "ApiClient",
    "Assignment",
    "AssistancePlan",
    "AuditEntry",
    "Cadre",
    "Change",
    "ChangePurge",
    "CodeEntry",
    "FundAccount",
    "FundAccountSource",
    "FundEntry",
    "FundRollup",
    "FundTransfer",
    "FundTransferSource",
    "Household",
    "HouseholdEvent",
    "IdempotencyKey",
    "ImportRowReport",
    "Income",
    "Indicator",
    "Job",
    "LoginThrottle",
    "Member",
    "NoticePublication",
    "Objection",
    "PlanMeasure",
    "PovertyLine",
    "Project",
    "ProjectBeneficiary",
    "Publicity",
    "RefreshToken",
    "Region",
    "RegionSetting",
    "RollupLock",
    "RuralPopulation",
    "TownshipRollup",
    "User",
    "VillageRollup",
    "Visit",
    "WorkUnit",
]

# Tables whose rows belong to one household and carry its village as ``region_code``: when a household
# moves to another village, these rows move with it (app/domain/households/service.py, import_writes.py).
HOUSEHOLD_ROWS = (
    Member,
    Income,
    Indicator,
    Publicity,
    Objection,
    HouseholdEvent,
    AssistancePlan,
    PlanMeasure,
    Visit,
    Assignment,  # pairings (结对帮扶); other assignments have no household
    FundAccount,  # a household's payee account; its entries and transfers keep their region (history)
    ProjectBeneficiary,
)
