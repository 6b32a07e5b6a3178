"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from app.api.deps import get_database
from app.api.problems import problem
from app.db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and its schema is current",
    responses={503: {"description": "Not ready", "content": {"application/problem+json": {}}}},
)
async def readyz(request: Request) -> Response:
    database = await get_database(request)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await current_revision(database.engine)
    except Exception:
        return problem(
            503, "Not ready", "The database is not reachable.", "readiness.database", request=request
        )
    if current != head_revision():
        return problem(
            503,
            "Not ready",
            f"The database schema is at {current}, expected {head_revision()}: run `fupin db upgrade`.",
            "readiness.schema",
            request=request,
        )
    return JSONResponse({"status": "ready", "schema_revision": current})
