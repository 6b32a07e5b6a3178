"""RFC 9457 problem details: every error leaves the service as ``application/problem+json``."""

from __future__ import annotations

from typing import Any

import orjson
from asyncpg.exceptions import QueryCanceledError  # raised as it is by the hot-read pool (app/db/reads.py)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import DomainError, FieldError
from app.logging import logger

PROBLEM_TYPE_BASE = "https://fupin.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class ProblemResponse(Response):
    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(
    status: int,
    title: str,
    detail: str,
    code: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    request: Request | None = None,
    instance: str | None = None,
    request_id: str | None = None,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if request is not None:
        instance = request.url.path
        request_id = request.scope.get("state", {}).get("request_id")
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    return ProblemResponse(body, status_code=status, headers=headers)


def _field_error(error: FieldError) -> dict[str, Any]:
    return {"loc": list(error.loc), "message": error.message, "code": error.code}


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers: dict[str, str] = {}
    if "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    if exc.status == 401:
        headers["WWW-Authenticate"] = (
            'Bearer error="invalid_token"' if exc.code == "auth.invalid_token" else "Bearer"
        )
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        exc.code,
        errors=[_field_error(e) for e in exc.errors],
        headers=headers,
        request=request,
    )


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": list(error.get("loc", ())),
            "message": error.get("msg", "invalid"),
            "code": error.get("type", "invalid"),
        }
        for error in exc.errors()
    ]
    return problem(
        422,
        "Invalid input",
        f"{len(errors)} field(s) failed validation.",
        "validation",
        errors=errors,
        request=request,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {
        404: "Not found",
        405: "Method not allowed",
        413: "Request too large",
        415: "Unsupported media type",
    }
    title = titles.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(
        exc.status_code,
        title,
        detail,
        f"http.{exc.status_code}",
        headers=dict(exc.headers or {}),
        request=request,
    )


def is_database_unavailable(exc: BaseException) -> bool:
    """Connection refused, dropped or timed out, the server shutting down, the pool exhausted: a
    condition of the moment, not of the request (503, retry), unlike a bad statement (500)."""
    if isinstance(exc, DBAPIError):
        return isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
    return isinstance(exc, OSError | PoolTimeout | TimeoutError)


# 57014 query_canceled: a statement ran past `statement_timeout` (FUPIN_DATABASE_STATEMENT_TIMEOUT_MS) or was
# cancelled by an operator. The transaction is rolled back: nothing was changed.
QUERY_CANCELED = "57014"


def is_statement_timeout(exc: BaseException) -> bool:
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(cause, "sqlstate", None) == QUERY_CANCELED


async def database_error(request: Request, exc: Exception) -> Response:
    if is_statement_timeout(exc):
        logger.warning("statement_timeout")
        return problem(
            503,
            "Service unavailable",
            "The database took too long to answer and the request was stopped; nothing was changed. "
            "Try again shortly, or narrow the request.",
            "database.timeout",
            headers={"Retry-After": "5"},
            request=request,
        )
    if not is_database_unavailable(exc):
        return await unexpected_error(request, exc)
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    logger.warning("database_unavailable", error=type(cause).__name__)
    return problem(
        503,
        "Service unavailable",
        "The database is not reachable right now; nothing was changed. Try again shortly.",
        "database.unavailable",
        headers={"Retry-After": "5"},
        request=request,
    )


async def unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled_error", exc_info=exc)
    return problem(
        500,
        "Internal server error",
        "Something went wrong on our side; the request id identifies it in the logs.",
        "internal",
        request=request,
    )


# The shape of every error body, as the OpenAPI description states it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable and meant for programs.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "message", "code"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _document_problems(app: FastAPI) -> None:
    """State in the OpenAPI description what the handlers above do: a validation failure (422) and every
    other error (`default`) is ``application/problem+json``, not FastAPI's ``application/json`` default."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        for item in document.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": "Invalid input", "content": _PROBLEM_CONTENT}
                responses.setdefault("default", {"description": "An error", "content": _PROBLEM_CONTENT})
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _document_problems(app)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for database_failure in (DBAPIError, OSError, PoolTimeout, TimeoutError, QueryCanceledError):
        app.add_exception_handler(database_failure, database_error)
