"""The sync feed for provincial systems: ordered changes with a cursor, and full snapshots (NDJSON)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.api.deps import PrincipalDep, SessionDep, SessionmakerDep
from app.api.limits import guarded, start_export
from app.api.schemas.common import RegionCodeStr
from app.api.schemas.sync import Collection, SyncPage
from app.domain.sync import feed, snapshot
from app.domain.sync.states import dumps
from app.settings import Settings

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])

CollectionPath = Annotated[
    Collection,
    Path(
        description="households (with members, incomes, indicators), assignments, plans (with measures), "
        "projects or fund_transfers (with their source split)"
    ),
]
RegionQuery = Annotated[
    RegionCodeStr | None,
    Query(
        description="Only this subtree of your scope; follow the feed with the same `region` as the snapshot"
    ),
]
NDJSON = "application/x-ndjson"


@router.get(
    "/{collection}",
    summary="Changes of a collection since a cursor",
    description="The changes in your scope in commit-safe order, each with the entity's current state "
    "(`upsert`) or a tombstone (`delete`: removed, or moved out of your scope). Start from a snapshot's "
    "cursor (or without one: from the beginning) and keep sending `next_cursor`: you end with exactly the "
    "server's data, no change skipped, none repeated. `has_more: false` means you are up to date. 410 "
    "`sync.cursor_expired`: removals after your cursor were purged, take a new snapshot. Households need "
    "`households:export`, assignments and plans `households:read`, projects and fund transfers `funds:read`.",
    response_class=Response,
    responses={
        200: {"model": SyncPage, "content": {"application/json": {}}},
        410: {"description": "The cursor is older than the retention of removals: take a new snapshot"},
    },
)
async def changes(
    collection: CollectionPath,
    principal: PrincipalDep,
    session: SessionDep,
    region: RegionQuery = None,
    cursor: Annotated[
        str | None, Query(max_length=1024, description="`next_cursor` of the last page or of a snapshot")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=feed.MAX_LIMIT, description="Changes per page")
    ] = feed.DEFAULT_LIMIT,
) -> Response:
    page = await feed.read_page(session, principal, collection, cursor=cursor, limit=limit, region=region)
    if page.items:
        await snapshot.record_read(session, principal, collection, region, "feed")
    body = {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more}
    return Response(dumps(body), media_type="application/json")


@router.get(
    "/{collection}/snapshot",
    summary="A full snapshot of a collection (NDJSON, streamed)",
    description="Every entity of the collection in your scope (or `region`'s subtree), one JSON object a "
    'line, streamed in constant memory. The first line is `{"snapshot": {"collection", "region", '
    '"cursor"}}`, then one `{"op": "upsert", "id", "data"}` per entity (the feed\'s items), and the '
    'last `{"end": {"count", "cursor"}}`: without it the stream was cut off. Follow the feed from '
    "`cursor` (with the same `region`) to stay an exact mirror.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {NDJSON: {}}},
        429: {"description": "Too many exports at once, or the client's daily export quota is used up"},
    },
)
async def take_snapshot(
    request: Request,
    collection: CollectionPath,
    principal: PrincipalDep,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    region: RegionQuery = None,
) -> StreamingResponse:
    plan = await snapshot.begin_snapshot(session, principal, collection, region)
    # A snapshot is a bulk pull: it counts against the export cap and quota like an export.
    slot = await start_export(request, principal)
    settings: Settings = request.app.state.settings
    chunks = guarded(
        slot,
        snapshot.stream_snapshot(
            sessionmaker, principal, plan, statement_timeout_ms=settings.database_export_statement_timeout_ms
        ),
    )
    if (metrics := request.app.state.metrics) is not None:
        chunks = metrics.track_export(chunks)
    return StreamingResponse(
        chunks,
        media_type=NDJSON,
        headers={"Content-Disposition": f'attachment; filename="{collection}-snapshot.ndjson"'},
    )
