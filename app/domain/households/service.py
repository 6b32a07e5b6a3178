"""Use cases of the household registry: register, read, edit households, members, incomes, indicators.

Lifecycle steps (identification, exit, return, removal, monitoring) live in :mod:`lifecycle`; this module
creates a household as an applicant, which is the first step of identification.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.db import changes
from app.db.base import utcnow
from app.db.models import (
    HOUSEHOLD_ROWS,
    Household,
    HouseholdEvent,
    Income,
    Indicator,
    Member,
)
from app.db.reads import Reader
from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound, RuleViolation
from app.domain.households import masking
from app.domain.households.idnumbers import InvalidIdNumber, parse_id_number
from app.domain.households.queries import HouseholdFilter, household_list
from app.domain.households.rules import INDICATORS, MAX_OTHER_CAUSES, IncomeParts
from app.domain.pagination import Page, PageRequest, read_page
from app.domain.principal import Permission, Principal
from app.domain.reference.service import CodeBook, code_book
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import scoped

# Household fields whose values come from a code list, with the list's name.
HOUSEHOLD_CODED = {
    "identification_standard": "identification_standard",
    "attribute": "attribute",
    "category": "category",
    "primary_cause": "cause",
    "housing_structure": "housing_structure",
    "fuel": "fuel",
    "drinking_water": "drinking_water",
}
MEMBER_CODED = {
    "relation": "relation",
    "education": "education",
    "schooling": "schooling",
    "health": "health",
    "labour_ability": "labour_ability",
}
HEAD = "head"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    title = "Precondition required"


def county_of(region_code: str) -> str:
    return region_code[:6].ljust(12, "0")


# Reading ----------------------------------------------------------------------------------------------


async def get_household(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> Household:
    """A household in scope (404 otherwise: missing and out of scope are indistinguishable)."""
    household = await session.scalar(scoped(Household, principal).where(Household.id == household_id))
    if household is None:
        raise NotFound("household")
    require(principal, Permission.HOUSEHOLDS_READ)
    return household


@dataclass(frozen=True)
class HouseholdView:
    household: dict[str, Any]
    members: list[dict[str, Any]]


async def read_household(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, *, include_left: bool = False
) -> HouseholdView:
    """The household with its members, masked for the caller; an unmasked read is audited."""
    household = await get_household(session, principal, household_id)
    members = await _members(session, principal, household.id, include_left=include_left)
    return await present(session, principal, household, members)


async def present(
    session: AsyncSession, principal: Principal, household: Household, members: Sequence[Member]
) -> HouseholdView:
    unmasked = masking.may_see_personal_data(principal)
    view = HouseholdView(
        masking.household_dict(household, unmasked=unmasked),
        [masking.member_dict(member, unmasked=unmasked) for member in members],
    )
    if unmasked:
        await audit.record(
            session,
            principal,
            action="read_personal_data",
            record_type="household",
            record_ids=[str(household.id)],
            region_code=household.region_code,
            fields=masking.revealed_fields(household, members),
        )
    return view


async def present_member(session: AsyncSession, principal: Principal, member: Member) -> dict[str, Any]:
    unmasked = masking.may_see_personal_data(principal)
    if unmasked:
        await audit.record(
            session,
            principal,
            action="read_personal_data",
            record_type="member",
            record_ids=[str(member.id)],
            region_code=member.region_code,
            fields=["member.id_number"],
        )
    return masking.member_dict(member, unmasked=unmasked)


async def _members(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, *, include_left: bool = False
) -> list[Member]:
    statement = scoped(Member, principal).where(Member.household_id == household_id)
    if not include_left:
        statement = statement.where(Member.is_active)
    return list((await session.scalars(statement.order_by(Member.relation != HEAD, Member.birth_date))).all())


def etag(household: Household) -> str:
    return f'"{household.id}.{household.version}"'


def ensure_version(household: Household, if_match: str | None) -> None:
    """Optimistic concurrency: the caller must name the version they read (``If-Match: <ETag>``)."""
    if if_match is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the household you read, so that no one else's change is lost.",
            "household.if_match_required",
        )
    accepted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in accepted and etag(household) not in accepted:
        raise PreconditionFailed(
            f"The household changed since you read it (now version {household.version}); read it again.",
            "household.version_mismatch",
        )


# Registering --------------------------------------------------------------------------------------------


async def create_household(
    session: AsyncSession,
    principal: Principal,
    fields: dict[str, Any],
    members: Sequence[dict[str, Any]],
    *,
    comment: str | None = None,
) -> Household:
    """Register an application (农户申请): the household, its members, status ``applicant``."""
    require(principal, Permission.HOUSEHOLDS_WRITE)
    region_code = fields["region_code"]
    region = await ensure_region_exists(session, principal, region_code)
    if region.level != "village":
        raise InvalidInput(
            "A household belongs to a village.",
            "household.region_not_village",
            errors=[FieldError(("body", "region_code"), f"{region_code} is a {region.level}", "level")],
        )
    book = await code_book(session, region_code, clock.today().year)
    errors = household_field_errors(fields, book, loc=("body",))
    errors += members_errors(members, book, loc=("body", "members"), require_head=True)
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the application.", "household.invalid", errors)
    household = Household(
        **fields,
        county_code=county_of(region_code),
        head_name=next(m["name"] for m in members if m["relation"] == HEAD),
        status="applicant",
        procedure="identification",
        procedure_step="applied",
        procedure_started_on=clock.today(),
    )
    await _insert_household(session, principal, household)
    for member in members:
        await _insert_member(session, principal, household, member)
    await record_event(
        session,
        principal,
        household,
        action="apply",
        to_status="applicant",
        to_step="applied",
        comment=comment,
    )
    return household


async def _insert_household(session: AsyncSession, principal: Principal, household: Household) -> None:
    try:
        async with session.begin_nested():
            session.add(household)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            f"The household number {household.household_number} is already used in this county.",
            "household.number_taken",
            errors=[FieldError(("body", "household_number"), "already used in this county", "taken")],
        ) from None


async def _insert_member(
    session: AsyncSession, principal: Principal, household: Household, fields: dict[str, Any]
) -> Member:
    parsed = parse_id_number(fields["id_number"])
    await ensure_not_member_elsewhere(session, principal, parsed.value, household.id)
    member = Member(
        **{**fields, "id_number": parsed.value},
        household_id=household.id,
        region_code=household.region_code,
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        is_active=True,
    )
    session.add(member)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent registration of the same person won the race
        raise _member_conflict(None) from None
    return member


async def ensure_not_member_elsewhere(
    session: AsyncSession, principal: Principal, id_number: str, household_id: uuid.UUID | None
) -> None:
    """One person is an active member of one household at most. The other household's number is named
    only if the caller may see that household."""
    other = await session.scalar(
        select(Member.household_id).where(  # scope: uniqueness is national; the answer is scoped below
            Member.id_number == id_number, Member.is_active, Member.household_id != household_id
        )
        if household_id is not None
        else select(Member.household_id).where(  # scope: as above
            Member.id_number == id_number, Member.is_active
        )
    )
    if other is None:
        return
    visible = await session.scalar(scoped(Household, principal).where(Household.id == other))
    raise _member_conflict(visible)


def _member_conflict(other: Household | None) -> Conflict:
    if other is None:
        return Conflict(
            "This person is already an active member of another household.",
            "member.already_registered",
        )
    return Conflict(
        f"This person is already an active member of household {other.household_number}.",
        "member.already_registered",
        extra={"household_id": str(other.id), "household_number": other.household_number},
    )


# Validation -------------------------------------------------------------------------------------------


def household_field_errors(
    fields: dict[str, Any],
    book: CodeBook,
    *,
    loc: tuple[str | int, ...],
    kept: dict[str, Any] | None = None,
) -> list[FieldError]:
    """Problems of the ``fields`` given. ``kept``: the stored causes of a household being changed; the
    causes are checked together with them, but only the codes given against the code lists (a code
    retired since stays valid on the households that already have it)."""
    errors = [
        error
        for name, list_name in HOUSEHOLD_CODED.items()
        if name in fields and (error := book.check(list_name, fields[name], (*loc, name))) is not None
    ]
    if "other_causes" in fields or "primary_cause" in fields:
        causes = {**(kept or {}), **fields}
        others = causes.get("other_causes") or []
        if len(others) > MAX_OTHER_CAUSES:
            errors.append(
                FieldError((*loc, "other_causes"), f"at most {MAX_OTHER_CAUSES} other causes", "too_many")
            )
        if len(set(others)) != len(others) or causes.get("primary_cause") in others:
            errors.append(
                FieldError(
                    (*loc, "other_causes"), "causes must differ from each other and the primary", "duplicate"
                )
            )
        for index, cause in enumerate(fields.get("other_causes") or []):
            if (error := book.check("cause", cause, (*loc, "other_causes", index))) is not None:
                errors.append(error)
    return errors


def member_errors(fields: dict[str, Any], book: CodeBook, *, loc: tuple[str | int, ...]) -> list[FieldError]:
    errors = [
        error
        for name, list_name in MEMBER_CODED.items()
        if name in fields and (error := book.check(list_name, fields[name], (*loc, name))) is not None
    ]
    if "id_number" in fields:
        try:
            parse_id_number(fields["id_number"])
        except InvalidIdNumber as problem:
            errors.append(FieldError((*loc, "id_number"), str(problem), "id_number"))
    return errors


def members_errors(
    members: Sequence[dict[str, Any]], book: CodeBook, *, loc: tuple[str | int, ...], require_head: bool
) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for index, member in enumerate(members):
        errors += member_errors(member, book, loc=(*loc, index))
        number = str(member.get("id_number", "")).strip().upper()
        if number in seen:
            errors.append(
                FieldError((*loc, index, "id_number"), f"same person as member {seen[number]}", "duplicate")
            )
        seen.setdefault(number, index)
    heads = sum(1 for member in members if member.get("relation") == HEAD)
    if require_head and heads != 1:
        errors.append(FieldError(loc, f"exactly one member is the head (户主); found {heads}", "head_count"))
    return errors


# Editing ----------------------------------------------------------------------------------------------


async def update_household(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    if_match: str | None,
) -> Household:
    household = await get_household(session, principal, household_id)
    require(principal, Permission.HOUSEHOLDS_WRITE)
    ensure_version(household, if_match)
    book = await code_book(session, changes.get("region_code", household.region_code), clock.today().year)
    kept = {"primary_cause": household.primary_cause, "other_causes": household.other_causes}
    errors = household_field_errors(changes, book, loc=("body",), kept=kept)
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the changes.", "household.invalid", errors)
    try:
        if "region_code" in changes and changes["region_code"] != household.region_code:
            await _move(session, principal, household, changes.pop("region_code"))
        for name, value in changes.items():
            setattr(household, name, value)
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "The household number is already used in this county.",
            "household.number_taken",
            errors=[FieldError(("body", "household_number"), "already used in this county", "taken")],
        ) from None
    except StaleDataError:  # a concurrent change passed the same If-Match first
        raise _changed_meanwhile(conditional=True) from None
    return household


async def _move(session: AsyncSession, principal: Principal, household: Household, region_code: str) -> None:
    """A household moves to another village in scope: its dependent rows move with it."""
    region = await ensure_region_exists(session, principal, region_code)
    if region.level != "village" or county_of(region_code) != household.county_code:
        raise RuleViolation(
            "A household moves only to another village of the same county.",
            "household.move_outside_county",
            errors=[FieldError(("body", "region_code"), "not a village of this county", "level")],
        )
    previous = household.region_code
    household.region_code = region_code
    for model in HOUSEHOLD_ROWS:
        statement = update(model).where(model.household_id == household.id)  # scope: the household's own rows
        await session.execute(statement.values(region_code=region_code))
    await changes.record_moves(session, [(household.id, previous, region_code)], with_households=False)


async def add_member(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    fields: dict[str, Any],
    *,
    if_match: str | None,
) -> Member:
    household = await get_household(session, principal, household_id)
    require(principal, Permission.HOUSEHOLDS_WRITE)
    ensure_version(household, if_match)
    book = await code_book(session, household.region_code, clock.today().year)
    errors = member_errors(fields, book, loc=("body",))
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the member.", "member.invalid", errors)
    member = await _insert_member(session, principal, household, fields)
    if fields["relation"] == HEAD:
        await _check_single_head(session, principal, household)
    await _touch(session, household, conditional=True)
    return member


async def update_member(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    if_match: str | None,
) -> Member:
    """Change a member; ``is_active: false`` with ``left_on``/``left_reason`` records that they left
    (death, marriage out, ...): members are never deleted."""
    household = await get_household(session, principal, household_id)
    require(principal, Permission.HOUSEHOLDS_WRITE)
    ensure_version(household, if_match)
    member = await session.scalar(
        scoped(Member, principal).where(Member.id == member_id, Member.household_id == household.id)
    )
    if member is None:
        raise NotFound("member")
    book = await code_book(session, household.region_code, clock.today().year)
    errors = member_errors(changes, book, loc=("body",))
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the member.", "member.invalid", errors)
    if "id_number" in changes:
        parsed = parse_id_number(changes["id_number"])
        changes["id_number"], changes["sex"], changes["birth_date"] = (
            parsed.value,
            parsed.sex,
            parsed.birth_date,
        )
    reactivated = changes.get("is_active") is True and not member.is_active
    renumbered = "id_number" in changes and changes["id_number"] != member.id_number
    if changes.get("is_active", member.is_active) and (reactivated or renumbered):
        await ensure_not_member_elsewhere(
            session, principal, changes.get("id_number", member.id_number), household.id
        )
    if reactivated:
        changes.setdefault("left_on", None)
        changes.setdefault("left_reason", None)
    if changes.get("is_active") is False and member.is_active:
        changes.setdefault("left_on", clock.today())
    for name, value in changes.items():
        setattr(member, name, value)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _member_conflict(None) from None
    await _check_single_head(session, principal, household)
    await _touch(session, household, conditional=True)
    return member


async def _check_single_head(session: AsyncSession, principal: Principal, household: Household) -> None:
    """Never two active heads. A household may be without one for a while: changing the head is two
    changes (demote the old head, then promote the new one), and a head who dies or leaves is recorded
    before a successor is named; the household keeps the last head's name until then."""
    members = await _members(session, principal, household.id)
    heads = [member for member in members if member.relation == HEAD]
    if len(heads) > 1:
        raise _head_rule(f"found {len(heads)} active heads; change the current head's relation first")
    if heads:
        household.head_name = heads[0].name


def _head_rule(detail: str) -> RuleViolation:
    return RuleViolation(f"A household has one active head (户主) at most: {detail}.", "member.head_count")


async def _touch(session: AsyncSession, household: Household, *, conditional: bool) -> None:
    """A change of a household's members, incomes or indicators is a change of the household (new ETag).

    Flushed here, so that losing a race with a concurrent change of the same household is answered as
    such (412 when the caller named the version with If-Match, 409 otherwise), not as a server error."""
    household.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError:
        raise _changed_meanwhile(conditional=conditional) from None


def _changed_meanwhile(*, conditional: bool) -> DomainError:
    if conditional:
        return PreconditionFailed(
            "The household changed while your change was being made; read it again.",
            "household.version_mismatch",
        )
    return Conflict(
        "The household changed while your change was being made; try again.",
        "household.changed_concurrently",
    )


# Incomes and indicators ---------------------------------------------------------------------------------


async def list_incomes(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> list[Income]:
    household = await get_household(session, principal, household_id)
    statement = scoped(Income, principal).where(Income.household_id == household.id).order_by(Income.year)
    return list((await session.scalars(statement)).all())


async def set_income(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID, year: int, parts: IncomeParts
) -> Income:
    """Record a year's income (create or replace): net and per-capita income are computed here, from the
    parts and the active members, never typed."""
    household = await get_household(session, principal, household_id)
    require(principal, Permission.HOUSEHOLDS_WRITE)
    size = (
        await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.household_id == household.id, Member.is_active)  # scope: household checked
        )
        or 0
    )
    income = await session.scalar(
        scoped(Income, principal).where(Income.household_id == household.id, Income.year == year)
    )
    parts = parts.quantized()
    values = {
        "wage_income": parts.wage_income,
        "business_income": parts.business_income,
        "property_income": parts.property_income,
        "transfer_income": parts.transfer_income,
        "production_costs": parts.production_costs,
        "household_size": size,
        "net_income": parts.net_income,
        "per_capita_net_income": parts.per_capita(size),
    }
    if income is None:
        income = Income(household_id=household.id, region_code=household.region_code, year=year, **values)
        session.add(income)
    else:
        for name, value in values.items():
            setattr(income, name, value)
    await _touch(session, household, conditional=False)
    return income


async def list_indicators(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> list[Indicator]:
    household = await get_household(session, principal, household_id)
    statement = scoped(Indicator, principal).where(Indicator.household_id == household.id)
    rows = {row.indicator: row for row in (await session.scalars(statement)).all()}
    return [rows[name] for name in INDICATORS if name in rows]


async def set_indicator(
    session: AsyncSession,
    principal: Principal,
    household_id: uuid.UUID,
    indicator: str,
    *,
    holds: bool,
    verified_on: date,
    note: str | None,
) -> Indicator:
    household = await get_household(session, principal, household_id)
    require(principal, Permission.HOUSEHOLDS_WRITE)
    if verified_on > clock.today():
        raise InvalidInput(
            "A verification cannot be dated in the future.",
            "indicator.future_date",
            errors=[FieldError(("body", "verified_on"), "after today", "future")],
        )
    row = await session.scalar(
        scoped(Indicator, principal).where(
            Indicator.household_id == household.id, Indicator.indicator == indicator
        )
    )
    values = {
        "holds": holds,
        "verified_on": verified_on,
        "note": note,
        "verified_by_id": principal.id,
        "verified_by_name": principal.name,
        "updated_at": utcnow(),
    }
    if row is None:
        row = Indicator(
            household_id=household.id, indicator=indicator, region_code=household.region_code, **values
        )
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    await _touch(session, household, conditional=False)
    return row


# History ------------------------------------------------------------------------------------------------


async def record_event(
    session: AsyncSession,
    principal: Principal,
    household: Household,
    *,
    action: str,
    procedure: str | None = "identification",
    from_status: str | None = None,
    to_status: str | None = None,
    from_step: str | None = None,
    to_step: str | None = None,
    comment: str | None = None,
    document_numbers: Sequence[str] = (),
    publicity_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> HouseholdEvent:
    event = HouseholdEvent(
        household_id=household.id,
        region_code=household.region_code,
        procedure=procedure,
        action=action,
        from_status=from_status,
        to_status=to_status,
        from_step=from_step,
        to_step=to_step,
        actor_id=principal.id,
        actor_name=principal.name,
        actor_roles=sorted(principal.roles),
        at=clock.now(),
        comment=comment,
        document_numbers=list(document_numbers),
        publicity_id=publicity_id,
        details=details or {},
    )
    session.add(event)
    await session.flush()
    return event


async def list_households(
    reader: Reader, principal: Principal, f: HouseholdFilter, page: PageRequest
) -> Page[dict[str, Any]]:
    """A page of household summaries (no personal data) in the caller's scope, as plain rows."""
    require(principal, Permission.HOUSEHOLDS_READ)
    return await read_page(reader, household_list(principal, f), page)
