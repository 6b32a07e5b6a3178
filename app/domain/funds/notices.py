"""Public fund notices (资金公告公示): what an allocation batch (one document number, 文号) or a project
puts on the notice board, as data for JSON, CSV and a printable page; the record of when and where a
notice was put up and taken down; and the report of allocations not published in time.

A notice never carries personal data: items are allocations to regions and projects (name, place, content,
amount, responsible unit); payments to households appear only as a count and a total.

Deadlines: an allocation is published within ``fund_notice_deadline_working_days`` (15) working days of
being issued (posted), working days being Monday to Friday — public holidays are not modelled, there is no
holiday list; a board keeps a notice up ``fund_notice_board_min_days`` (10) days at least.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import (
    FundAccount,
    FundTransfer,
    FundTransferSource,
    NoticePublication,
    Project,
    ProjectBeneficiary,
    Region,
)
from app.domain import audit, clock
from app.domain.access import require
from app.domain.errors import FieldError, Forbidden, InvalidInput, NotFound, RuleViolation
from app.domain.pagination import Page, PageRequest, fetch_page
from app.domain.principal import Permission, Principal
from app.domain.projects import settings as project_settings
from app.domain.projects.service import get_project
from app.domain.reference.service import setting
from app.domain.regions import codes
from app.domain.regions.service import ensure_region_exists
from app.domain.scope import ensure_in_scope, restrict, scoped, within_prefix

NOTICE_KINDS = ("appropriation", "allocation")  # what a batch notice lists
# The sources as a notice shows them: central, provincial, city (市级 = prefecture), and the rest.
SOURCE_LABELS = {
    "central": "中央",
    "provincial": "省级",
    "prefecture": "市级",
    "county": "县级",
    "integrated": "统筹整合",
    "donation": "社会捐赠",
    "enterprise_repayment": "企业还款",
    "self_raised": "自筹",
    "credit": "信贷",
    "other": "其他",
}


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days (Monday to Friday) after ``start``; public holidays not modelled."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def local_date(moment: datetime) -> date:
    return moment.astimezone().date()


@dataclass
class NoticeItem:
    name: str
    place: str
    content: str
    amount_fen: int
    responsible_unit: str
    sources: dict[str, int] = field(default_factory=dict)


@dataclass
class Notice:
    subject: str  # batch / project
    title: str
    document_number: str | None
    fiscal_year: int | None
    issued_on: date | None
    issuer: str  # the region issuing it
    region_code: str
    principle: str  # 分配原则
    sources: dict[str, int]
    items: list[NoticeItem]
    total_fen: int
    complaint_telephone: str
    households_paid: int = 0  # payments to households: a count and a total, never who
    households_paid_fen: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


async def _names(session: AsyncSession, region_codes: set[str]) -> dict[str, str]:
    wanted = set(region_codes)
    for code in region_codes:
        wanted.update(codes.ancestors_of(code))
    rows = await session.execute(
        select(Region.code, Region.name).where(Region.code.in_(wanted))  # scope: public names of regions
    )
    return {row.code: row.name for row in rows}


def place_of(region_code: str, names: dict[str, str]) -> str:
    """The place as printed: county, township and village names (``秦安县兴国镇王家庄村``)."""
    chain = [*codes.ancestors_of(region_code), region_code]
    parts = [
        names[code]
        for code in chain
        if code in names and codes.level_of(code) in ("county", "township", "village")
    ]
    return "".join(parts)


async def _telephone(session: AsyncSession, region_code: str) -> str:
    value: str = await setting(session, region_code, project_settings.COMPLAINT_TELEPHONE)
    return value


# Batch notice -------------------------------------------------------------------------------------------


async def batch_notice(session: AsyncSession, principal: Principal, document_number: str) -> Notice:
    """The notice of every posted allocation (and appropriation) under one document number in scope."""
    transfers = list(
        (
            await session.scalars(
                scoped(FundTransfer, principal)
                .where(
                    FundTransfer.document_number == document_number,
                    FundTransfer.status == "posted",
                    FundTransfer.kind.in_((*NOTICE_KINDS, "disbursement")),
                )
                .order_by(FundTransfer.credit_region_code, FundTransfer.created_at, FundTransfer.id)
            )
        ).all()
    )
    reversed_ids = set(
        (
            await session.scalars(
                restrict(
                    select(FundTransfer.reverses_id).where(
                        FundTransfer.reverses_id.in_([t.id for t in transfers]),
                        FundTransfer.status == "posted",
                    ),
                    FundTransfer,
                    principal,
                )
            )
        ).all()
    )
    transfers = [t for t in transfers if t.id not in reversed_ids]  # a reversed allocation was never made
    if not transfers:
        raise NotFound("fund notice", "notice.not_found")
    require(principal, Permission.FUNDS_READ)  # after scope: out of scope is not found, as everywhere
    splits: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for row in await session.execute(
        select(
            FundTransferSource.transfer_id, FundTransferSource.source, FundTransferSource.amount_fen
        ).where(FundTransferSource.transfer_id.in_([t.id for t in transfers]))
    ):
        splits[row.transfer_id][row.source] = row.amount_fen
    accounts = {
        account.id: account
        for account in (
            await session.scalars(
                restrict(
                    select(FundAccount).where(FundAccount.id.in_([t.credit_account_id for t in transfers])),
                    FundAccount,
                    principal,
                )
            )
        ).all()
    }
    project_ids = [a.project_id for a in accounts.values() if a.project_id is not None]
    projects = {
        p.id: p
        for p in (await session.scalars(scoped(Project, principal).where(Project.id.in_(project_ids)))).all()
    }
    names = await _names(
        session, {t.credit_region_code for t in transfers} | {t.debit_region_code for t in transfers}
    )
    items: list[NoticeItem] = []
    sources: dict[str, int] = defaultdict(int)
    households_paid: set[uuid.UUID] = set()
    households_paid_fen = 0
    for t in transfers:
        account = accounts.get(t.credit_account_id)
        split = splits.get(t.id, {})
        for source, amount in split.items():
            sources[source] += amount
        if t.kind == "disbursement" and account is not None and account.household_id is not None:
            households_paid.add(account.household_id)
            households_paid_fen += t.amount_fen
            continue
        project = projects.get(account.project_id) if account is not None and account.project_id else None
        if project is not None:
            items.append(
                NoticeItem(
                    name=project.name,
                    place=place_of(project.region_code, names) + (project.location or ""),
                    content=project.content or t.purpose,
                    amount_fen=t.amount_fen,
                    responsible_unit=project.responsible_unit_name,
                    sources=split,
                )
            )
        else:
            region_name = names.get(t.credit_region_code, t.credit_region_code)
            is_pool = account is None or account.kind == "pool"
            items.append(
                NoticeItem(
                    name=region_name if is_pool else account.name,  # type: ignore[union-attr]
                    place=place_of(t.credit_region_code, names),
                    content=t.purpose,
                    amount_fen=t.amount_fen,
                    responsible_unit=f"{region_name}人民政府" if is_pool else account.name,  # type: ignore[union-attr]
                    sources=split,
                )
            )
    issuer_code = min(
        (t.debit_region_code for t in transfers), key=lambda code: len(codes.region_prefix(code))
    )
    principles = sorted({t.purpose for t in transfers if t.kind in NOTICE_KINDS})
    issued = min((t.decided_at or t.created_at) for t in transfers)
    return Notice(
        subject="batch",
        title=f"{names.get(issuer_code, '')}扶贫资金分配公告（{document_number}）",
        document_number=document_number,
        fiscal_year=transfers[0].fiscal_year,
        issued_on=local_date(issued),
        issuer=names.get(issuer_code, issuer_code),
        region_code=issuer_code,
        principle="；".join(principles),
        sources=dict(sources),
        items=items,
        total_fen=sum(item.amount_fen for item in items) + households_paid_fen,
        complaint_telephone=await _telephone(session, issuer_code),
        households_paid=len(households_paid),
        households_paid_fen=households_paid_fen,
    )


# Project notice -----------------------------------------------------------------------------------------


async def project_notice(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> Notice:
    project = await get_project(session, principal, project_id)
    names = await _names(session, {project.region_code})
    sources: dict[str, int] = {part["source"]: int(part["amount_fen"]) for part in project.financing}
    item = NoticeItem(
        name=project.name,
        place=place_of(project.region_code, names) + (project.location or ""),
        content=project.content,
        amount_fen=project.budget_fen,
        responsible_unit=project.responsible_unit_name,
        sources=sources,
    )
    beneficiaries = await session.scalar(
        restrict(
            select(func.count())
            .select_from(ProjectBeneficiary)
            .where(ProjectBeneficiary.project_id == project.id),
            ProjectBeneficiary,
            principal,
        )
    )
    return Notice(
        subject="project",
        title=f"{names.get(project.region_code, '')}扶贫项目公告公示：{project.name}",
        document_number=project.approval_document,
        fiscal_year=project.fiscal_year,
        issued_on=local_date(project.approved_at) if project.approved_at else None,
        issuer=names.get(project.county_code, project.county_code),
        region_code=project.region_code,
        principle=project.benefit_mechanism,
        sources=sources,
        items=[item],
        total_fen=project.budget_fen,
        complaint_telephone=await _telephone(session, project.region_code),
        extra={
            "status": project.status,
            "planned_start": project.planned_start,
            "planned_end": project.planned_end,
            "performance_targets": project.performance_targets,
            "beneficiary_households": beneficiaries or 0,
        },
    )


# Publications -------------------------------------------------------------------------------------------


def _may_publish(principal: Principal) -> None:
    if not (principal.can(Permission.FUNDS_WRITE) or principal.can(Permission.PROJECTS_WRITE)):
        raise Forbidden(
            "Recording a notice's publication needs funds:write (finance officer) or projects:write "
            "(county officer).",
            "auth.forbidden",
        )


async def _check_board_days(
    session: AsyncSession, region_code: str, published_on: date, taken_down_on: date | None
) -> None:
    if published_on > clock.today():
        raise InvalidInput(
            "A notice cannot be published in the future.",
            "notice.future_date",
            errors=[FieldError(("body", "published_on"), "in the future", "range")],
        )
    if taken_down_on is None:
        return
    minimum: int = await setting(session, region_code, project_settings.NOTICE_BOARD_MIN_DAYS)
    if (taken_down_on - published_on).days < minimum:
        raise RuleViolation(
            f"A fund notice stays on the board at least {minimum} days: not before "
            f"{published_on + timedelta(days=minimum)}.",
            "notice.board_days",
            errors=[FieldError(("body", "taken_down_on"), f"fewer than {minimum} days up", "range")],
        )


async def record_publication(
    session: AsyncSession, principal: Principal, fields: dict[str, Any]
) -> NoticePublication:
    _may_publish(principal)
    region_code = fields["region_code"]
    await ensure_region_exists(session, principal, region_code)
    if fields["subject"] == "batch":
        if not fields.get("document_number") or fields.get("project_id") is not None:
            raise InvalidInput(
                "A batch notice names its document_number (and no project).",
                "notice.subject",
                errors=[FieldError(("body", "document_number"), "required for a batch", "missing")],
            )
        notice = await batch_notice(session, principal, fields["document_number"])
        fields["project_id"] = None
    else:
        if fields.get("project_id") is None:
            raise InvalidInput(
                "A project notice names its project_id.",
                "notice.subject",
                errors=[FieldError(("body", "project_id"), "required for a project", "missing")],
            )
        notice = await project_notice(session, principal, fields["project_id"])
        fields["document_number"] = None
    if notice.issued_on is not None and fields["published_on"] < notice.issued_on:
        raise RuleViolation(
            f"The notice cannot be published before it was issued ({notice.issued_on}).",
            "notice.published_before_issued",
            errors=[FieldError(("body", "published_on"), "before it was issued", "range")],
        )
    await _check_board_days(session, region_code, fields["published_on"], fields.get("taken_down_on"))
    publication = NoticePublication(created_by=principal.subject, **fields)
    session.add(publication)
    await session.flush()
    await _audit(session, principal, "publish", publication)
    return publication


async def get_publication(
    session: AsyncSession, principal: Principal, publication_id: uuid.UUID
) -> NoticePublication:
    publication = await session.scalar(
        scoped(NoticePublication, principal).where(NoticePublication.id == publication_id)
    )
    if publication is None:
        raise NotFound("notice publication")
    require(principal, Permission.FUNDS_READ)
    return publication


async def take_down(
    session: AsyncSession, principal: Principal, publication_id: uuid.UUID, taken_down_on: date
) -> NoticePublication:
    publication = await get_publication(session, principal, publication_id)
    _may_publish(principal)
    if taken_down_on > clock.today():
        raise InvalidInput(
            "Record a take-down once it happened.",
            "notice.future_date",
            errors=[FieldError(("body", "taken_down_on"), "in the future", "range")],
        )
    await _check_board_days(session, publication.region_code, publication.published_on, taken_down_on)
    publication.taken_down_on = taken_down_on
    await session.flush()
    await _audit(session, principal, "take_down", publication)
    return publication


async def list_publications(
    session: AsyncSession, principal: Principal, page: PageRequest, *, region: str | None = None
) -> Page[NoticePublication]:
    require(principal, Permission.FUNDS_READ)
    statement = scoped(NoticePublication, principal)
    if region is not None:
        ensure_in_scope(principal, region)
        statement = statement.where(within_prefix(NoticePublication.region_code, codes.region_prefix(region)))
    return await fetch_page(session, statement, [NoticePublication.region_code, NoticePublication.id], page)


async def _audit(
    session: AsyncSession, principal: Principal, action: str, publication: NoticePublication
) -> None:
    await audit.record(
        session,
        principal,
        action=action,
        record_type="fund_notice_publication",
        record_ids=[str(publication.id)],
        region_code=publication.region_code,
        fields=["published_on", "board_location", "taken_down_on"],
        details={
            "subject": publication.subject,
            "document_number": publication.document_number,
            "project_id": str(publication.project_id) if publication.project_id else None,
        },
    )


# Overdue report -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueBatch:
    document_number: str
    fiscal_year: int
    region_code: str  # the issuing (highest debit) region
    issued_on: date
    deadline: date
    transfers: int
    amount_fen: int
    published_on: date | None  # first publication, if any (then after the deadline)


async def overdue_batches(
    session: AsyncSession, principal: Principal, region_code: str, as_of: date | None = None
) -> list[OverdueBatch]:
    """Allocation batches in a region's subtree not published within the deadline: unpublished when the
    deadline has passed, or published after it. One grouped query over the posted allocations and one
    over the publications of the subtree."""
    region = await ensure_region_exists(session, principal, region_code)
    require(principal, Permission.FUNDS_READ)
    today = as_of or clock.today()
    prefix = codes.region_prefix(region.code)
    reversal = aliased(FundTransfer)
    batches = await session.execute(
        restrict(
            select(  # type: ignore[arg-type]
                FundTransfer.document_number,
                func.min(FundTransfer.fiscal_year).label("fiscal_year"),
                func.min(FundTransfer.debit_region_code).label("region_code"),
                func.min(FundTransfer.decided_at).label("issued_at"),
                func.count().label("transfers"),
                func.sum(FundTransfer.amount_fen).label("amount_fen"),
            )
            .where(
                FundTransfer.kind == "allocation",
                FundTransfer.status == "posted",
                within_prefix(FundTransfer.region_code, prefix),
                ~exists(  # a reversed allocation was never made
                    select(reversal.id).where(reversal.reverses_id == FundTransfer.id)  # scope: same accounts
                ),
            )
            .group_by(FundTransfer.document_number),
            FundTransfer,
            principal,
        )
    )
    published = {
        row.document_number: row.first
        for row in await session.execute(
            restrict(
                select(  # type: ignore[arg-type]
                    NoticePublication.document_number, func.min(NoticePublication.published_on).label("first")
                )
                .where(NoticePublication.subject == "batch")
                .group_by(NoticePublication.document_number),
                NoticePublication,
                principal,
            )
        )
    }
    found: list[OverdueBatch] = []
    for row in batches:
        issued_at = row.issued_at
        if isinstance(issued_at, str):  # SQLite hands aggregates back as text
            issued_at = datetime.fromisoformat(issued_at)
        issued_on = local_date(issued_at) if issued_at.tzinfo else issued_at.date()
        days: int = await setting(session, row.region_code, project_settings.NOTICE_DEADLINE_WORKING_DAYS)
        deadline = add_working_days(issued_on, days)
        first = published.get(row.document_number)
        if isinstance(first, str):
            first = date.fromisoformat(first)
        late = first is not None and first > deadline
        missing = first is None and today > deadline
        if late or missing:
            found.append(
                OverdueBatch(
                    row.document_number,
                    row.fiscal_year,
                    row.region_code,
                    issued_on,
                    deadline,
                    row.transfers,
                    int(row.amount_fen),
                    first,
                )
            )
    return sorted(found, key=lambda batch: (batch.issued_on, batch.document_number))
