"""The region tree: look up a region with its ancestors, list regions, import a region list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile

from app.api.caching import private_cache
from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page
from app.api.schemas.regions import RegionDetail, RegionImportReport, RegionRead, RegionSummary
from app.domain.errors import InvalidInput
from app.domain.regions import service
from app.domain.regions.codes import Level

router = APIRouter(prefix="/api/v1/regions", tags=["regions"], dependencies=[Depends(private_cache)])

MAX_IMPORT_BYTES = 20 * 1024 * 1024


@router.get(
    "",
    summary="List regions in your scope",
    description="With `parent`, the children of that region (only those in your scope); ordered by code.",
    response_model=Page[RegionRead],
)
async def list_regions(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    parent: Annotated[str | None, Query(description="12-digit code of the parent region")] = None,
    level: Annotated[Level | None, Query(description="Only regions of this level")] = None,
) -> Page[RegionRead]:
    result = await service.list_regions(session, principal, page, parent=parent, level=level)
    return Page[RegionRead](
        items=[RegionRead.model_validate(r) for r in result.items], next_cursor=result.next_cursor
    )


@router.get("/{code}", summary="A region with its ancestors", response_model=RegionDetail)
async def get_region(code: str, principal: PrincipalDep, session: SessionDep) -> RegionDetail:
    found = await service.get_region_with_ancestors(session, principal, code)
    return RegionDetail(
        **RegionRead.model_validate(found.region).model_dump(),
        ancestors=[RegionSummary.model_validate(a) for a in found.ancestors],
    )


@router.post(
    "/import",
    summary="Import a region list (admin)",
    description=(
        "CSV with the header `code,name` (UTF-8 or GB 18030). Creates missing regions and renames changed "
        "ones; importing the same file again changes nothing. Every region must lie in your scope and have "
        "its parent stored or in the same file. All or nothing: any error imports no row."
    ),
    response_model=RegionImportReport,
    max_body_size=MAX_IMPORT_BYTES + 64 * 1024,  # the file and its multipart wrapping
)
async def import_regions(
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="code,name CSV")],
) -> RegionImportReport:
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MiB.", "region.import.too_large"
        )
    report = await service.import_region_file(session, principal, data)
    return RegionImportReport.model_validate(report)
