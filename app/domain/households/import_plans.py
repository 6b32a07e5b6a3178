"""The checks of one household of an import file against the register, and what importing it would do.

Reuses the domain's validation (code lists of the village, GB 11643 ID numbers, one head, at most two other
causes); a stored household is checked as an edit is: only what the file changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row

from app.domain.households import layout
from app.domain.households.import_rows import Group, ParsedRow, RowError
from app.domain.households.service import HEAD, household_field_errors, members_errors
from app.domain.principal import Principal
from app.domain.reference.service import CodeBook
from app.domain.scope import is_in_scope

AnyRow = Row[*tuple[Any, ...]]
HOUSEHOLD_CODED = [(c.key, c.code_list) for c in layout.HOUSEHOLD_COLUMNS if c.code_list is not None]
MEMBER_CODED = [(c.field, c.code_list) for c in layout.MEMBER_COLUMNS if c.code_list is not None]


@dataclass
class Plan:
    """What a valid household of the file does to the register."""

    group: Group
    household_id: uuid.UUID
    values: dict[str, Any]  # the household's columns from the file, codes resolved
    existing: AnyRow | None
    changed: list[str]
    member_inserts: list[dict[str, Any]] = field(default_factory=list)
    member_updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_unchanged(self) -> bool:
        return self.existing is not None and not (self.changed or self.member_inserts or self.member_updates)


def plan_household(
    principal: Principal,
    group: Group,
    book: CodeBook,
    found: AnyRow | None,
    members: dict[uuid.UUID, list[AnyRow]],
    conflicts: dict[str, AnyRow],
) -> Plan | None:
    """Check a household against the register; its plan when every row of it is valid."""
    first = group.first
    if found is not None and not is_in_scope(principal, found.region_code):
        first.errors.append(RowError("household_number", "already used in this county", "taken"))
        found = None  # say nothing more of a household the caller may not see
    values = {key: value for key, value in group.household.items() if key != "household_number"}
    _resolve_codes(values, book)
    # A stored household is checked like an edit: only what the file changes (a code retired since
    # stays valid on the households that have it), its causes together with the stored ones.
    checked, kept = values, None
    if found is not None:
        checked = {key: value for key, value in values.items() if getattr(found, key) != value}
        kept = {"primary_cause": found.primary_cause, "other_causes": found.other_causes}
    for error in household_field_errors(checked, book, loc=(), kept=kept):
        first.errors.append(RowError(str(error.loc[0]) if error.loc else None, error.message, error.code))
    _check_status(first, values, found)
    stored = members.get(found.id, []) if found is not None else []
    plan = Plan(group, found.id if found is not None else uuid.uuid4(), values, found, [])
    _plan_members(principal, plan, book, stored, conflicts)
    if group.has_errors:
        return None
    if found is not None:
        plan.changed = [
            key for key, value in values.items() if key != "status" and getattr(found, key) != value
        ]
    return plan


def _plan_members(
    principal: Principal, plan: Plan, book: CodeBook, stored: list[AnyRow], conflicts: dict[str, AnyRow]
) -> None:
    group = plan.group
    file_members = [dict(row.member) for row in group.rows]
    for member in file_members:
        _resolve_codes(member, book, member=True)
        if member.get("id_number"):
            member["id_number"] = member["id_number"].upper()
    # Active members first, so that an inactive row of the same person is matched only when alone.
    by_number = {row.id_number: row for row in sorted(stored, key=lambda row: row.is_active)}
    in_file = {member.get("id_number") for member in file_members}
    # Stored members the file leaves out stay active: they count for "exactly one head".
    staying = [row for row in stored if row.is_active and row.id_number not in in_file]
    checked = [_changes(member, by_number.get(member.get("id_number") or "")) for member in file_members]
    merged = checked + [{"relation": row.relation} for row in staying]
    for error in members_errors(merged, book, loc=(), require_head=True):
        index = error.loc[0] if error.loc else None
        if isinstance(index, int) and index >= len(file_members):
            continue  # about a stored member the file does not touch
        row = group.rows[index] if isinstance(index, int) else group.first
        column = f"member_{error.loc[1]}" if len(error.loc) > 1 else "member_relation"
        if column == "member_id_number" and any(e.column == column for e in row.errors):
            continue
        row.errors.append(RowError(column, error.message, error.code))
    for row, member in zip(group.rows, file_members, strict=True):
        number = member.get("id_number")
        if not number or any(e.column == "member_id_number" for e in row.errors):
            continue
        match = by_number.get(number)
        if match is None or not match.is_active:
            other = conflicts.get(number)
            if other is not None and other.household_id != plan.household_id:
                row.errors.append(
                    RowError(
                        "member_id_number",
                        f"already an active member of household {other.household_number}"
                        if is_in_scope(principal, other.region_code)
                        else "already an active member of another household",
                        "already_registered",
                    )
                )
                continue
        if match is None:
            plan.member_inserts.append(member)
        elif not match.is_active or any(getattr(match, name) != value for name, value in member.items()):
            plan.member_updates.append({**member, "_id": match.id})
    if not group.has_errors:
        heads = [member["name"] for member in file_members if member["relation"] == HEAD]
        heads += [row.name for row in staying if row.relation == HEAD]
        plan.values["head_name"] = heads[0]


def _changes(member: dict[str, Any], stored: AnyRow | None) -> dict[str, Any]:
    """What to check of a member: all of a new one; what the file changes of a stored one (with the
    relation and ID number, which the household-wide checks need)."""
    if stored is None:
        return member
    changed = {name: value for name, value in member.items() if getattr(stored, name) != value}
    return {**changed, "relation": member.get("relation"), "id_number": member.get("id_number")}


def _resolve_codes(values: dict[str, Any], book: CodeBook, *, member: bool = False) -> None:
    """A coded cell may hold the code or its label (因病 for illness): labels become codes."""
    for name, list_name in MEMBER_CODED if member else HOUSEHOLD_CODED:
        value = values.get(name)
        if value is not None and value not in book.entries.get(list_name, ()):
            values[name] = _code_of(book, list_name, value)
    if not member and values.get("other_causes"):
        values["other_causes"] = [_code_of(book, "cause", cause) for cause in values["other_causes"]]


def _code_of(book: CodeBook, list_name: str, text: str) -> str:
    entries = book.entries.get(list_name, {})
    if text in entries:
        return text
    return next((code for code, label in entries.items() if label == text), text)


def _check_status(first: ParsedRow, values: dict[str, Any], found: AnyRow | None) -> None:
    """A new household comes in as an applicant, registered or exited (with its years); a stored one keeps its
    status, which changes only through the lifecycle."""
    status = values.get("status")
    if found is not None:
        if status is not None and status != found.status:
            first.errors.append(
                RowError(
                    "status",
                    f"the household is {found.status}: a status changes through the lifecycle, not by import",
                    "status_change",
                )
            )
        status = found.status
    else:
        status = status or "applicant"
        values["status"] = status
        if status not in layout.IMPORTABLE_STATUSES:
            first.errors.append(
                RowError("status", "a new household is imported as applicant, registered or exited", "status")
            )
    registered, exited = (
        values.get(key, getattr(found, key) if found is not None else None)
        for key in ("registered_year", "exited_year")
    )
    if status in ("registered", "exited") and registered is None:
        first.errors.append(RowError("registered_year", f"required for a {status} household", "required"))
    if status == "exited" and exited is None:
        first.errors.append(RowError("exited_year", "required for an exited household", "required"))
    if registered is not None and exited is not None and exited < registered:
        first.errors.append(RowError("exited_year", "before the year of registration", "range"))
