"""Fund reports (资金报表) and public fund notices (资金公告公示)."""

from __future__ import annotations

import csv
import html
import io
import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import HTMLResponse

from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page, RegionCodeStr
from app.api.schemas.projects import (
    CategoryFigures,
    ChildFigures,
    FiguresRead,
    FundReportRead,
    NoticeRead,
    OverdueBatchRead,
    PublicationCreate,
    PublicationRead,
    PublicationTakeDown,
    SourceFigures,
    to_yuan,
)
from app.domain.funds import notices, reports

router = APIRouter(prefix="/api/v1", tags=["fund reports and notices"])

RegionPath = Annotated[RegionCodeStr, Path(description="A region in your scope")]
PublicationId = Annotated[uuid.UUID, Path(description="Publication id")]
FiscalYear = Annotated[int, Query(ge=2000, le=2100, description="The fiscal year (年度) of the transfers")]


@router.get(
    "/regions/{code}/fund-report",
    summary="Fund report of a region for a fiscal year (资金报表)",
    description="Received (到位), allocated on (下拨), disbursed (支出), returned (收回), reserved, "
    "balance (结余), balance ratio (结余率 = balance / received) and disbursement progress "
    "(支出进度 = disbursed / received), "
    "in total, by source, by category, for the region's own level (本级) and per child region. Amounts in "
    "yuan; ratios are decimals with 4 places, null when nothing was received. Reversals cancel their "
    "originals. Needs `funds:read`.",
    response_model=FundReportRead,
)
async def fund_report(
    code: RegionPath, fiscal_year: FiscalYear, principal: PrincipalDep, session: SessionDep
) -> FundReportRead:
    report = await reports.fund_report(session, principal, code, fiscal_year)
    return FundReportRead(
        region_code=report.region_code,
        name=report.region_name,
        fiscal_year=report.fiscal_year,
        total=FiguresRead.of(report.total.as_dict()),
        by_source=[
            SourceFigures(source=source, **FiguresRead.of(figures.as_dict()).model_dump())
            for source, figures in sorted(
                report.by_source.items(), key=lambda item: reports.source_order(item[0])
            )
        ],
        by_category=[
            CategoryFigures(category=category, **FiguresRead.of(figures.as_dict()).model_dump())
            for category, figures in sorted(report.by_category.items())
        ],
        own_level=None if report.own_level is None else FiguresRead.of(report.own_level.as_dict()),
        children=[
            ChildFigures(region_code=code, name=name, **FiguresRead.of(figures.as_dict()).model_dump())
            for code, name, figures in report.children
        ],
    )


# Notices -----------------------------------------------------------------------------------------------

NoticeFormat = Annotated[
    Literal["json", "csv", "html"],
    Query(alias="format", description="json (default), csv, or html (a printable page in Chinese)"),
]
NOTICE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, "text/html": {}}, "description": "The notice"}
}


def _notice_response(notice: notices.Notice, fmt: str) -> Response:
    if fmt == "csv":
        return Response(
            _csv(notice),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="fund-notice.csv"'},
        )
    if fmt == "html":
        return HTMLResponse(_html(notice))
    body = NoticeRead.model_validate(_notice_dict(notice))
    return Response(body.model_dump_json(), media_type="application/json")


@router.get(
    "/fund-notices/batch",
    summary="Public notice of an allocation batch (资金公告公示)",
    description="Every posted allocation (and appropriation) under one document number (文号) in your scope: "
    "source split (central / provincial / city …), allocation principle, per item name, place, content, "
    "amount, responsible unit, and the complaint telephone. Payments to households show as a count and a "
    "total only: a notice never carries personal data. `format`: json, csv or html.",
    response_model=NoticeRead,
    responses=NOTICE_RESPONSES,
)
async def batch_notice(
    principal: PrincipalDep,
    session: SessionDep,
    document_number: Annotated[str, Query(min_length=1, max_length=100, description="文号")],
    fmt: NoticeFormat = "json",
) -> Response:
    return _notice_response(await notices.batch_notice(session, principal, document_number), fmt)


@router.get(
    "/projects/{project_id}/notice",
    summary="Public notice of a project (项目公告公示)",
    description="Name, place, content, budget and its sources, responsible unit, benefit mechanism, "
    "performance targets, the number of beneficiary households (no names), complaint telephone. "
    "`format`: json, csv or html.",
    response_model=NoticeRead,
    responses=NOTICE_RESPONSES,
)
async def project_notice(
    project_id: Annotated[uuid.UUID, Path(description="Project id")],
    principal: PrincipalDep,
    session: SessionDep,
    fmt: NoticeFormat = "json",
) -> Response:
    return _notice_response(await notices.project_notice(session, principal, project_id), fmt)


@router.post(
    "/fund-notices/publications",
    status_code=status.HTTP_201_CREATED,
    summary="Record that a notice was put up on a notice board",
    description="Finance officers or county officers. Not in the future, not before the batch or project was "
    "issued; a take-down date at least `fund_notice_board_min_days` (10) days after "
    "(422 `notice.board_days`).",
    response_model=PublicationRead,
)
async def record_publication(
    body: PublicationCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> PublicationRead:
    publication = await notices.record_publication(session, principal, body.model_dump())
    response.headers["Location"] = f"/api/v1/fund-notices/publications/{publication.id}"
    return PublicationRead.model_validate(publication)


@router.get(
    "/fund-notices/publications",
    summary="Notice publications in your scope",
    description="By region and id; paged by cursor.",
    response_model=Page[PublicationRead],
)
async def list_publications(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    region: Annotated[RegionCodeStr | None, Query(description="Only this subtree")] = None,
) -> Page[PublicationRead]:
    result = await notices.list_publications(session, principal, page, region=region)
    return Page[PublicationRead](
        items=[PublicationRead.model_validate(p) for p in result.items], next_cursor=result.next_cursor
    )


@router.get(
    "/fund-notices/publications/{publication_id}",
    summary="A notice publication",
    response_model=PublicationRead,
)
async def get_publication(
    publication_id: PublicationId, principal: PrincipalDep, session: SessionDep
) -> PublicationRead:
    return PublicationRead.model_validate(await notices.get_publication(session, principal, publication_id))


@router.patch(
    "/fund-notices/publications/{publication_id}",
    summary="Record that a notice was taken down",
    description="At least `fund_notice_board_min_days` (10) days after it was put up "
    "(422 `notice.board_days`).",
    response_model=PublicationRead,
)
async def take_down(
    publication_id: PublicationId, body: PublicationTakeDown, principal: PrincipalDep, session: SessionDep
) -> PublicationRead:
    publication = await notices.take_down(session, principal, publication_id, body.taken_down_on)
    return PublicationRead.model_validate(publication)


@router.get(
    "/regions/{code}/fund-notices/overdue",
    summary="Allocations not published within 15 working days (未按期公告)",
    description="Allocation batches (by document number) issued in the region's subtree whose notice was not "
    "put up within `fund_notice_deadline_working_days` (15) working days: unpublished past the deadline, or "
    "published late. Working days are Monday to Friday; public holidays are not modelled. `as_of`: the day "
    "to judge on (today by default).",
    response_model=list[OverdueBatchRead],
)
async def overdue(
    code: RegionPath,
    principal: PrincipalDep,
    session: SessionDep,
    as_of: Annotated[date | None, Query(description="Judge as of this day")] = None,
) -> list[OverdueBatchRead]:
    batches = await notices.overdue_batches(session, principal, code, as_of)
    return [
        OverdueBatchRead(
            document_number=b.document_number,
            fiscal_year=b.fiscal_year,
            region_code=b.region_code,
            issued_on=b.issued_on,
            deadline=b.deadline,
            transfers=b.transfers,
            amount=to_yuan(b.amount_fen) or Decimal(0),
            published_on=b.published_on,
        )
        for b in batches
    ]


# Rendering a notice ------------------------------------------------------------------------------------


def _notice_dict(notice: notices.Notice) -> dict[str, Any]:
    def money(fen: int) -> Decimal:
        return to_yuan(fen) or Decimal("0.00")

    return {
        "subject": notice.subject,
        "title": notice.title,
        "document_number": notice.document_number,
        "fiscal_year": notice.fiscal_year,
        "issued_on": notice.issued_on,
        "issuer": notice.issuer,
        "region_code": notice.region_code,
        "principle": notice.principle,
        "sources": {source: money(amount) for source, amount in notice.sources.items()},
        "items": [
            {
                "name": item.name,
                "place": item.place,
                "content": item.content,
                "amount": money(item.amount_fen),
                "responsible_unit": item.responsible_unit,
                "sources": {source: money(amount) for source, amount in item.sources.items()},
            }
            for item in notice.items
        ],
        "total": money(notice.total_fen),
        "households_paid": notice.households_paid,
        "households_paid_amount": money(notice.households_paid_fen),
        "complaint_telephone": notice.complaint_telephone,
        "extra": {
            key: str(value) if isinstance(value, date) else value for key, value in notice.extra.items()
        },
    }


def _source_columns(notice: notices.Notice) -> list[str]:
    present = {source for item in notice.items for source in item.sources} | set(notice.sources)
    return [source for source in notices.SOURCE_LABELS if source in present]


def _csv(notice: notices.Notice) -> bytes:
    """The items as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read the Chinese)."""
    sources = _source_columns(notice)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["文号", "序号", "项目名称", "建设地点", "建设内容", "金额（元）", "责任单位"]
        + [f"{notices.SOURCE_LABELS[source]}（元）" for source in sources]
        + ["监督举报电话"]
    )
    for n, item in enumerate(notice.items, start=1):
        writer.writerow(
            [
                notice.document_number or "",
                n,
                item.name,
                item.place,
                item.content,
                f"{item.amount_fen / 100:.2f}",
            ]
            + [item.responsible_unit]
            + [f"{item.sources.get(source, 0) / 100:.2f}" for source in sources]
            + [notice.complaint_telephone]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _html(notice: notices.Notice) -> str:
    """A printable page in Chinese (A4, one table), everything escaped."""
    e = html.escape
    sources = _source_columns(notice)
    source_text = "，".join(
        f"{notices.SOURCE_LABELS[source]} {notice.sources[source] / 100:,.2f} 元"
        for source in sources
        if source in notice.sources
    )
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(value))}</td>"
            for value in (
                n,
                item.name,
                item.place,
                item.content,
                f"{item.amount_fen / 100:,.2f}",
                item.responsible_unit,
            )
        )
        + "</tr>"
        for n, item in enumerate(notice.items, start=1)
    )
    paid = (
        f"<p>直接发放到户：{notice.households_paid} 户，合计 {notice.households_paid_fen / 100:,.2f} 元"
        "（名单另行公示，本公告不含个人信息）。</p>"
        if notice.households_paid
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(notice.title)}</title>
<style>
@page {{ size: A4; margin: 18mm; }}
body {{ font-family: "SimSun", "Songti SC", serif; font-size: 12pt; }}
h1 {{ text-align: center; font-size: 18pt; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #000; padding: 4px 6px; }}
td:nth-child(5) {{ text-align: right; }}
.footer {{ margin-top: 2em; }}
</style></head><body>
<h1>{e(notice.title)}</h1>
<p>文号：{e(notice.document_number or "—")}　　年度：{e(str(notice.fiscal_year or "—"))}　　下达日期：\
{e(str(notice.issued_on or "—"))}</p>
<p>资金来源：{e(source_text or "—")}</p>
<p>分配原则：{e(notice.principle or "—")}</p>
<table><thead><tr><th>序号</th><th>项目名称</th><th>建设地点</th><th>建设内容</th><th>金额（元）</th><th>责任单位</th></tr>
</thead><tbody>
{rows}
</tbody><tfoot><tr><td colspan="4">合计</td><td>{notice.total_fen / 100:,.2f}</td><td></td></tr>
</tfoot></table>
{paid}
<p class="footer">公示期不少于 10 天。如有异议，请拨打监督举报电话：{e(notice.complaint_telephone)}</p>
<p class="footer">{e(notice.issuer)}</p>
</body></html>
"""
