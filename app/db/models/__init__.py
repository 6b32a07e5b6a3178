"""Every mapped table, imported here so Alembic and the test fixtures see the whole schema."""

from app.db.models.audit import AuditEntry
from app.db.models.auth import ApiClient, LoginThrottle, RefreshToken, User
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
from app.db.models.reference import CodeEntry, PovertyLine, RegionSetting
from app.db.models.regions import Region

__all__ = [
    "ApiClient",
    "AuditEntry",
    "CodeEntry",
    "Household",
    "HouseholdEvent",
    "ImportRowReport",
    "Income",
    "Indicator",
    "Job",
    "LoginThrottle",
    "Member",
    "Objection",
    "PovertyLine",
    "Publicity",
    "RefreshToken",
    "Region",
    "RegionSetting",
    "User",
]
