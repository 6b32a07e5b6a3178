"""Every log line of a request carries its request id and, once the caller is known, its principal: both
are bound as structlog context variables (merged into each line), and a job started by the request
inherits them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import structlog
from fastapi import Request

from app.api.deps import PrincipalDep
from app.db.session import Database
from app.main import create_app
from app.settings import Settings
from tests.conftest import COUNTY, Account


async def test_request_and_job_log_context_names_the_request_and_the_principal(
    settings: Settings,
    db: Database,
    account_factory,
    tree,  # type: ignore[no-untyped-def]
) -> None:
    county: Account = await account_factory(COUNTY, "county_officer")
    app = create_app(settings)
    seen: dict[str, dict[str, Any]] = {}
    job_done = asyncio.Event()

    @app.get("/context")
    async def context(request: Request, principal: PrincipalDep) -> dict[str, Any]:
        seen["request"] = structlog.contextvars.get_contextvars()

        async def work() -> None:
            seen["job"] = structlog.contextvars.get_contextvars()
            job_done.set()

        request.app.state.jobs.start(uuid.uuid4(), work)
        return {}

    @app.get("/anonymous")
    async def anonymous() -> dict[str, Any]:
        seen["anonymous"] = structlog.contextvars.get_contextvars()
        return {}

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        response = await http.get("/context", headers={**county.headers, "X-Request-ID": "ctx-1"})
        assert response.status_code == 200, response.text
        await asyncio.wait_for(job_done.wait(), 10)
        assert (await http.get("/anonymous", headers={"X-Request-ID": "anon-1"})).status_code == 200

    expected = {"request_id": "ctx-1", "principal": county.principal.subject}
    assert seen["request"] == expected
    assert seen["job"] == expected
    # The next request starts clean: no principal left over from the previous one.
    assert seen["anonymous"] == {"request_id": "anon-1"}
