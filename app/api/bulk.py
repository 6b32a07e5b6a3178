"""Bulk import and export of households: the import template, imports as background jobs, streamed exports.

Registered before the household router, so that ``/households/export`` is not taken for a household id.
"""

from __future__ import annotations

import tempfile
from typing import IO, Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from app.api.deps import PrincipalDep, SessionDep, SessionmakerDep
from app.api.limits import guarded, start_export
from app.api.schemas.households import HouseholdQuery
from app.api.schemas.jobs import JobRead
from app.domain import jobs
from app.domain.households import exports, imports
from app.domain.households.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from app.settings import Settings


class HouseholdExportQuery(HouseholdQuery):
    format: exports.ExportFormat = "csv"


router = APIRouter(prefix="/api/v1/households", tags=["household import and export"])

MAX_IMPORT_BYTES = 256 * 1024 * 1024
# The request around the file (multipart boundaries, the form fields) may add this much to it; the rest of
# the API keeps FUPIN_MAX_REQUEST_BODY_BYTES.
MULTIPART_OVERHEAD = 64 * 1024
SPOOL_IN_MEMORY = 4 * 1024 * 1024
READ_BLOCK = 1024 * 1024
TEMPLATE_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}
LAYOUT_DOC = "The column layout is described in docs/households-import.md and in the template."


@router.get(
    "/import-template",
    summary="The import template",
    description="The header of the import layout and one example row. " + LAYOUT_DOC,
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}}},
)
async def import_template(principal: PrincipalDep, format: Literal["csv", "xlsx"] = "csv") -> Response:
    return Response(
        imports.template(principal, format),
        media_type=TEMPLATE_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="households-import-template.{format}"'},
    )


@router.post(
    "/imports",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Import households with members (CSV or XLSX)",
    description="Starts a background job and answers with it (`Location`: the job). Every row is checked "
    "(code lists of its village, ID numbers, one head per household, one active household per person, your "
    "scope); the report lists every error with its column. `dry_run` validates only. `all_or_nothing`: any "
    "error imports nothing; `row_by_row`: households with an error are skipped, the others imported. "
    "Households are matched by household number within the county and members by ID number, so importing "
    "the same file again creates no duplicates. " + LAYOUT_DOC,
    response_model=JobRead,
    responses={413: {"description": "The file is larger than 256 MiB"}},
    max_body_size=MAX_IMPORT_BYTES + MULTIPART_OVERHEAD,
)
async def import_households(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    sessionmaker: SessionmakerDep,
    file: Annotated[UploadFile, File(description="A .csv (UTF-8 or GB 18030) or .xlsx file")],
    dry_run: Annotated[bool, Form(description="Validate only: nothing but the report is written")] = False,
    mode: Annotated[imports.Mode, Form(description="What an error does to the rest of the file")] = (
        "all_or_nothing"
    ),
) -> JobRead:
    imports.ensure_may_import(principal)
    spooled = await _spool(file)
    runner: jobs.JobRunner = request.app.state.jobs
    job_id = await imports.submit_import(
        sessionmaker, runner, principal, spooled, file.filename, imports.ImportOptions(dry_run, mode)
    )
    async with sessionmaker() as session:
        job = await jobs.get_job(session, principal, job_id)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobRead.model_validate(job)


async def _spool(upload: UploadFile) -> IO[bytes]:
    """A copy of the upload the job owns (the upload itself is closed with the request)."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    size = 0
    while block := await upload.read(READ_BLOCK):
        size += len(block)
        if size > MAX_IMPORT_BYTES:
            spooled.close()
            raise imports.FileTooLarge(
                f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MiB: split it.",
                "household.import.too_large",
            )
        spooled.write(block)
    return spooled


@router.get(
    "/export",
    summary="Export households with members (CSV, XLSX or NDJSON)",
    description="Any filtered list (the filters of `GET /api/v1/households`), streamed. CSV and XLSX: one "
    "row per member in the import layout, so an export made with the personal-data grant imports again. "
    "NDJSON: one household per line with its `members`. ID numbers, phones and bank accounts are masked "
    "without the personal-data grant; every export is recorded in the audit log.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}, "application/x-ndjson": {}}},
        429: {"description": "Too many exports at once, or the client's daily export quota is used up"},
    },
)
async def export_households(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    query: Annotated[HouseholdExportQuery, Query()],
) -> StreamingResponse:
    plan = await exports.begin_export(session, principal, query.to_filter(), query.format)
    slot = await start_export(request, principal)  # 429 past the cap or quota: the audit row rolls back
    settings: Settings = request.app.state.settings
    chunks = guarded(
        slot,
        exports.stream_export(
            sessionmaker, principal, plan, statement_timeout_ms=settings.database_export_statement_timeout_ms
        ),
    )
    if (metrics := request.app.state.metrics) is not None:
        chunks = metrics.track_export(chunks)
    return StreamingResponse(
        chunks,
        media_type=plan.media_type,
        headers={"Content-Disposition": f'attachment; filename="{plan.filename}"'},
    )
