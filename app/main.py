"""The application factory: routers, middleware, error handlers and the database's lifetime."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.exc import DBAPIError

from app import __version__
from app.api import (
    auth,
    bulk,
    clients,
    fund_reports,
    funds,
    health,
    households,
    jobs,
    lifecycle,
    me,
    metrics,
    plans,
    problems,
    projects,
    reference,
    regions,
    responsibility,
    stats,
    sync,
    users,
)
from app.api.caching import ConditionalGetMiddleware
from app.api.limits import BodySizeMiddleware
from app.api.middleware import RequestContextMiddleware
from app.db.migrate import ensure_schema_current
from app.db.session import create_database
from app.domain.auth.accounts import AccountGate
from app.domain.jobs import JobRunner, fail_interrupted
from app.domain.limits import Limiter
from app.graphql.router import graphql_router
from app.logging import configure_logging, logger
from app.settings import Settings

DESCRIPTION = """
Fupin (扶贫) is the backbone API of a targeted poverty alleviation information system: regions, users,
households, responsibility chains, assistance plans and funds. Every caller sees only the part of the region
tree their account belongs to.

**Signing in**: use *Authorize* with a username and password (the demo users' password is `demo`), or get a
token from `POST /api/v1/auth/token`. Errors are RFC 9457 `application/problem+json`; lists are paged with
`limit` and `cursor`.
"""


def create_app(settings: Settings | None = None, *, check_schema: bool = True) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, json=settings.log_json)
    # Fail at start-up, not on the first request, when a key or secret is missing.
    _ = settings.signing_key, settings.verification_key

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = create_database(settings)
        try:
            if check_schema:
                await ensure_schema_current(database.engine)
            app.state.database = database
            app.state.account_gate = AccountGate(database.sessionmaker, settings.account_check_seconds)
            app.state.jobs = JobRunner(
                database.sessionmaker, app_metrics.job_finished if app_metrics is not None else None
            )
            try:
                await fail_interrupted(database.sessionmaker)
            except (DBAPIError, OSError) as error:  # the service starts without its database (503s)
                logger.warning("jobs of dead processes not checked", error=str(error))
            logger.info("started", database=database.engine.dialect.name, version=__version__)
            # Everything built so far (routes, models, compiled schemas) lives as long as the process: move it
            # out of the collector's sight, so full collections stop walking it in the middle of requests.
            gc.collect()
            gc.freeze()
            yield
        finally:
            if (runner := getattr(app.state, "jobs", None)) is not None:
                # uvicorn has let in-flight requests finish; running jobs get as long again.
                await runner.shutdown(settings.shutdown_timeout_seconds)
            await app.state.limiter.close()
            await database.dispose()

    app = FastAPI(
        title="Fupin API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        swagger_ui_parameters={"persistAuthorization": True},
        # FastAPI's native OpenTelemetry hooks look up the global providers on every request; Fupin exports
        # its own Prometheus metrics instead.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.limiter = Limiter(settings)
    app_metrics = metrics.Metrics() if settings.metrics_enabled else None
    app.state.metrics = app_metrics
    for router in (
        health.router,
        metrics.router,
        # First after the probes: routes are matched in order, and the household list is the hottest.
        bulk.router,  # before households: /households/export is not a household id
        households.router,
        auth.router,
        me.router,
        regions.router,
        users.router,
        clients.router,
        jobs.router,
        lifecycle.router,
        plans.router,
        reference.router,
        responsibility.router,
        projects.router,
        fund_reports.router,
        funds.router,
        sync.router,
        stats.router,
    ):
        app.include_router(router)
    app.include_router(graphql_router(settings))
    problems.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    # FUPIN_MAX_REQUEST_BODY_BYTES (the import routes allow more), 413 as a problem (app/api/limits.py).
    app.add_middleware(BodySizeMiddleware, max_body_size=settings.max_request_body_bytes)
    app.add_middleware(ConditionalGetMiddleware)  # inside the request context: 304s carry the request id
    if app_metrics is not None:
        app_metrics.name_routes(app.routes)
    app.add_middleware(RequestContextMiddleware, metrics=app_metrics)
    return app
