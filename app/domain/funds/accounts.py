"""Fund accounts: finding them in scope, and creating each on first use (one per region pool, source and
county, project, household, contractor: ``natural_key`` makes the database keep exactly one)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import FundAccount, FundAccountSource, Household, Project, Region
from app.db.models.funds import SOURCES
from app.domain.access import require
from app.domain.errors import FieldError, InvalidInput, NotFound, RuleViolation
from app.domain.funds.rules import PAYABLE_HOUSEHOLD_STATUSES, Side
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.domain.scope import ensure_in_scope, is_in_scope, scoped

SOURCE_NAMES = {
    "central": "中央财政资金",
    "provincial": "省级财政资金",
    "prefecture": "市级财政资金",
    "county": "县级财政资金",
    "integrated": "统筹整合涉农资金",
    "donation": "社会捐赠资金",
    "enterprise_repayment": "企业还款",
}
POOL_LEVELS = ("county", "township", "village")
CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")  # 统一社会信用代码 (GB 32100)


def insert_for(session: AsyncSession):  # type: ignore[no-untyped-def]
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite both do)."""
    assert session.bind is not None
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def is_postgresql(session: AsyncSession) -> bool:
    assert session.bind is not None
    return session.bind.dialect.name == "postgresql"


async def get_account(session: AsyncSession, principal: Principal, account_id: uuid.UUID) -> FundAccount:
    """An account in the caller's scope; anything else is not found."""
    account = await session.scalar(scoped(FundAccount, principal).where(FundAccount.id == account_id))
    if account is None:
        raise NotFound("fund account")
    require(principal, Permission.FUNDS_READ)
    return account


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> FundAccount | None:
    """Any account, scope unchecked: for the credit side of a transfer, whose place on the debit's chain
    the rules check (a recovery goes to a pool above the caller's scope)."""
    statement = select(FundAccount)  # scope: checked against the chain by the caller
    return await session.scalar(statement.where(FundAccount.id == account_id))


async def source_balances(session: AsyncSession, account_id: uuid.UUID) -> list[FundAccountSource]:
    rows = (
        await session.scalars(
            select(FundAccountSource)
            .where(FundAccountSource.account_id == account_id)
            .execution_options(populate_existing=True)
        )
    ).all()
    order = {name: n for n, name in enumerate(SOURCES)}
    return sorted(rows, key=lambda row: order[row.source])


async def side_of(session: AsyncSession, account: FundAccount) -> Side:
    """What the route rules need of an account (a project's status, a payee household's status)."""
    status = None
    if account.project_id is not None:
        status = await session.scalar(
            select(Project.status).where(Project.id == account.project_id)  # scope: the account's own project
        )
    household_status = None
    if account.household_id is not None:
        household_status = await session.scalar(
            select(Household.status).where(Household.id == account.household_id)  # scope: the account's own
        )
    return Side(
        kind=account.kind,
        region_code=account.region_code,
        payee_kind=account.payee_kind,
        project_status=status,
        household_status=household_status,
    )


async def _get_or_create(session: AsyncSession, natural_key: str, values: dict[str, object]) -> FundAccount:
    statement = select(FundAccount).where(FundAccount.natural_key == natural_key)  # scope: checked by callers
    account = await session.scalar(statement)
    if account is not None:
        return account
    now = utcnow()
    insert = insert_for(session)
    await session.execute(
        insert(FundAccount)  # scope: checked by callers
        .values(
            id=uuid.uuid4(),
            natural_key=natural_key,
            balance_fen=0,
            reserved_fen=0,
            created_at=now,
            updated_at=now,
            **values,
        )
        .on_conflict_do_nothing(index_elements=["natural_key"])
    )
    account = await session.scalar(statement)
    assert account is not None
    return account


async def _region_name(session: AsyncSession, region_code: str) -> str:
    name = await session.scalar(
        select(Region.name).where(Region.code == region_code)  # scope: a name on the caller's chain
    )
    if name is None:
        raise NotFound("region")
    return name


async def pool_of(session: AsyncSession, region_code: str) -> FundAccount:
    """The pool of a county, township or village, scope unchecked (callers check it)."""
    level = codes.level_of(region_code) if codes.is_valid_code(region_code) else None
    if level not in POOL_LEVELS:
        raise InvalidInput(
            "Pools (资金池) belong to counties, townships and villages.",
            "fund_account.pool_level",
            errors=[FieldError(("body", "region_code"), "not a county, township or village")],
        )
    name = await _region_name(session, region_code)
    return await _get_or_create(
        session, f"pool:{region_code}", {"kind": "pool", "region_code": region_code, "name": f"{name}资金池"}
    )


async def account_for_region(session: AsyncSession, principal: Principal, region_code: str) -> FundAccount:
    """The pool (资金池) of a county, township or village in scope, created on first use."""
    require(principal, Permission.FUNDS_READ)
    ensure_in_scope(principal, region_code, "fund account")
    return await pool_of(session, region_code)


async def pool_in_reach(session: AsyncSession, principal: Principal, region_code: str) -> FundAccount:
    """A pool the caller may name in a transfer: in scope, or above it on the caller's own chain (where a
    recovery returns money to)."""
    require(principal, Permission.FUNDS_READ)
    if not (
        is_in_scope(principal, region_code)
        or (codes.is_valid_code(region_code) and region_code in codes.ancestors_of(principal.region_code))
    ):
        raise NotFound("fund account")
    return await pool_of(session, region_code)


async def source_account(
    session: AsyncSession, principal: Principal, county_code: str, source: str
) -> FundAccount:
    """The account of an external source (central, provincial, …) as it pays into one county."""
    require(principal, Permission.FUNDS_READ)
    ensure_in_scope(principal, county_code, "fund account")
    if source not in SOURCES:
        raise InvalidInput(
            f"Unknown source {source!r}; one of {', '.join(SOURCES)}.",
            "fund_account.source",
            errors=[FieldError(("body", "source"), "unknown source")],
        )
    if not codes.is_valid_code(county_code) or codes.level_of(county_code) != "county":
        raise InvalidInput(
            "Source accounts belong to a county.",
            "fund_account.source_county",
            errors=[FieldError(("body", "county_code"), "not a county")],
        )
    name = await _region_name(session, county_code)
    return await _get_or_create(
        session,
        f"source:{county_code}:{source}",
        {
            "kind": "source",
            "region_code": county_code,
            "source": source,
            "name": f"{name} {SOURCE_NAMES[source]}",
        },
    )


async def account_for_project(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID
) -> FundAccount:
    """A project's account, created on first use in the project's region."""
    require(principal, Permission.FUNDS_READ)
    project = await session.scalar(scoped(Project, principal).where(Project.id == project_id))
    if project is None:
        raise NotFound("project")
    return await _get_or_create(
        session,
        f"project:{project.id}",
        {
            "kind": "project",
            "region_code": project.region_code,
            "project_id": project.id,
            "name": project.name[:200],
        },
    )


async def account_for_household(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> FundAccount:
    """A household's payee account (in its village), created on first use: registered or exited
    households only (贫困户 and those out of poverty still supported)."""
    require(principal, Permission.FUNDS_READ)
    household = await session.scalar(scoped(Household, principal).where(Household.id == household_id))
    if household is None:
        raise NotFound("household")
    if household.status not in PAYABLE_HOUSEHOLD_STATUSES:
        raise RuleViolation(
            f"The household is {household.status}: only registered or exited households are paid.",
            "transfer.household_status",
        )
    return await _get_or_create(
        session,
        f"household:{household.id}",
        {
            "kind": "payee",
            "payee_kind": "household",
            "region_code": household.region_code,
            "household_id": household.id,
            "name": f"农户 {household.household_number}",
        },
    )


async def account_for_contractor(
    session: AsyncSession, principal: Principal, region_code: str, name: str, credit_code: str
) -> FundAccount:
    """A contractor's payee account, registered in a region in scope (统一社会信用代码 ``credit_code``)."""
    require(principal, Permission.FUNDS_READ)
    ensure_in_scope(principal, region_code, "fund account")
    errors = []
    if not CREDIT_CODE.fullmatch(credit_code):
        errors.append(FieldError(("body", "credit_code"), "18 characters of 0-9 and A-Z (no I, O, S, V, Z)"))
    if not name.strip() or len(name) > 200:
        errors.append(FieldError(("body", "name"), "1 to 200 characters"))
    if errors:
        raise InvalidInput(
            "The contractor is not described correctly.", "fund_account.contractor", errors=errors
        )
    await _region_name(session, region_code)
    return await _get_or_create(
        session,
        f"contractor:{region_code}:{credit_code}",
        {
            "kind": "payee",
            "payee_kind": "contractor",
            "region_code": region_code,
            "contractor_code": credit_code,
            "name": name.strip(),
        },
    )
