"""Personal data (个人信息) in household records: ID numbers, phones and bank accounts are masked for every
caller without the personal-data grant. Public notices never show them, nor health."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.db.models import Household, Member
from app.domain.households.idnumbers import mask_account, mask_id_number, mask_phone
from app.domain.principal import Permission, Principal

HOUSEHOLD_SENSITIVE = {"phone": mask_phone, "bank_account": mask_account}
MEMBER_SENSITIVE = {"id_number": mask_id_number}
HOUSEHOLD_FIELDS = (
    "id",
    "region_code",
    "county_code",
    "household_number",
    "group_name",
    "head_name",
    "address",
    "phone",
    "bank_name",
    "bank_account",
    "identification_standard",
    "attribute",
    "category",
    "primary_cause",
    "other_causes",
    "housing_area",
    "housing_structure",
    "housing_year_built",
    "housing_safety_grade",
    "is_relocated",
    "has_electricity",
    "fuel",
    "drinking_water",
    "status",
    "procedure",
    "procedure_step",
    "procedure_started_on",
    "monitoring_kind",
    "monitoring_since",
    "has_returned_to_poverty",
    "registered_year",
    "exited_year",
    "version",
    "created_at",
    "updated_at",
)
MEMBER_FIELDS = (
    "id",
    "household_id",
    "region_code",
    "name",
    "id_number",
    "sex",
    "birth_date",
    "relation",
    "education",
    "schooling",
    "health",
    "labour_ability",
    "migrant_work_months",
    "has_medical_insurance",
    "has_pension_insurance",
    "is_active",
    "left_on",
    "left_reason",
)


def may_see_personal_data(principal: Principal) -> bool:
    return principal.can(Permission.PERSONAL_DATA_READ)


def _masked(values: dict[str, Any], sensitive: dict[str, Any], unmasked: bool) -> dict[str, Any]:
    if not unmasked:
        for name, mask in sensitive.items():
            if values.get(name):
                values[name] = mask(values[name])
    return values


def household_dict(household: Household, *, unmasked: bool) -> dict[str, Any]:
    return _masked(
        {name: getattr(household, name) for name in HOUSEHOLD_FIELDS}, HOUSEHOLD_SENSITIVE, unmasked
    )


def member_dict(member: Member, *, unmasked: bool) -> dict[str, Any]:
    return _masked({name: getattr(member, name) for name in MEMBER_FIELDS}, MEMBER_SENSITIVE, unmasked)


def mask_row(values: dict[str, Any], *, unmasked: bool) -> dict[str, Any]:
    """Mask a flat row of an export or a list, whatever sensitive fields it carries."""
    return _masked(values, {**HOUSEHOLD_SENSITIVE, **MEMBER_SENSITIVE}, unmasked)


def revealed_fields(household: Household, members: Sequence[Member]) -> list[str]:
    """The personal-data fields an unmasked read showed (for the audit log)."""
    fields = [f"household.{name}" for name in HOUSEHOLD_SENSITIVE if getattr(household, name)]
    if any(member.id_number for member in members):
        fields.append("member.id_number")
    return fields
