"""Reference data: code lists (代码表), poverty lines (贫困线), per-region settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from app.api.caching import private_cache
from app.api.deps import PrincipalDep, SessionDep
from app.api.schemas.reference import (
    CodeEntryCreate,
    CodeEntryRead,
    CodeEntryUpdate,
    ListName,
    PovertyLineRead,
    PovertyLineWrite,
    SettingRead,
    SettingWrite,
)
from app.domain.reference import service

router = APIRouter(prefix="/api/v1", tags=["reference data"], dependencies=[Depends(private_cache)])


@router.get(
    "/code-lists",
    summary="Code list entries",
    description="Entries that apply to your region (national defaults, your ancestors' additions) and those "
    "set inside your scope. The most specific entry of a code wins for a record.",
    response_model=list[CodeEntryRead],
)
async def list_code_entries(
    principal: PrincipalDep,
    session: SessionDep,
    list_name: Annotated[ListName | None, Query(alias="list", description="Only this list")] = None,
) -> list[CodeEntryRead]:
    rows = await service.list_code_entries(session, principal, list_name=list_name)
    return [CodeEntryRead.model_validate(row) for row in rows]


@router.post(
    "/code-lists",
    status_code=status.HTTP_201_CREATED,
    summary="Add or override a code list entry for a region",
    response_model=CodeEntryRead,
)
async def create_code_entry(
    body: CodeEntryCreate, principal: PrincipalDep, session: SessionDep
) -> CodeEntryRead:
    return CodeEntryRead.model_validate(
        await service.create_code_entry(session, principal, **body.model_dump())
    )


@router.patch(
    "/code-lists/{entry_id}",
    summary="Change a code list entry set in your scope",
    response_model=CodeEntryRead,
)
async def update_code_entry(
    entry_id: int, body: CodeEntryUpdate, principal: PrincipalDep, session: SessionDep
) -> CodeEntryRead:
    entry = await service.update_code_entry(session, principal, entry_id, body.model_dump(exclude_unset=True))
    return CodeEntryRead.model_validate(entry)


@router.get(
    "/poverty-lines", summary="Poverty lines by year and standard", response_model=list[PovertyLineRead]
)
async def list_poverty_lines(principal: PrincipalDep, session: SessionDep) -> list[PovertyLineRead]:
    return [
        PovertyLineRead.model_validate(row) for row in await service.list_poverty_lines(session, principal)
    ]


@router.put(
    "/poverty-lines",
    summary="Set a poverty line",
    description="For a region in your scope and its subtree, a year and a standard; replaces earlier values.",
    response_model=PovertyLineRead,
)
async def set_poverty_line(
    body: PovertyLineWrite, principal: PrincipalDep, session: SessionDep
) -> PovertyLineRead:
    return PovertyLineRead.model_validate(
        await service.set_poverty_line(session, principal, **body.model_dump())
    )


@router.get(
    "/regions/{code}/settings",
    summary="Settings in force for a region",
    description="Publicity periods and other local policy values, with the defaults where none is set.",
    response_model=dict[str, Any],
)
async def region_settings(code: str, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    return await service.effective_settings(session, principal, code)


@router.put("/regions/{code}/settings/{key}", summary="Set a region's setting", response_model=SettingRead)
async def set_region_setting(
    code: str,
    key: Annotated[str, Path(pattern=r"^[a-z_]{1,64}$")],
    body: SettingWrite,
    principal: PrincipalDep,
    session: SessionDep,
) -> SettingRead:
    row = await service.set_setting(session, principal, region_code=code, key=key, value=body.value)
    return SettingRead.model_validate(row)
