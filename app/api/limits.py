"""Limits at the HTTP edge: request body sizes, and the concurrency cap and daily quota around an export."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request, Response
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY, RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem
from app.domain.limits import ExportSlot, Limiter, LimitsOf
from app.domain.principal import Principal


async def start_export(request: Request, principal: Principal) -> ExportSlot:
    """A slot for one export by ``principal`` (429 past the caller's cap or quota). Call it after the export
    is checked and recorded: a refusal rolls the request's transaction back, audit row included."""
    limiter: Limiter = request.app.state.limiter
    limits: LimitsOf = request.scope["state"]["limits"]  # set by authenticate()
    return await limiter.start_export(principal, limits)


def guarded(slot: ExportSlot, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``chunks``, releasing ``slot`` when the stream ends, fails, is cancelled or is never iterated."""

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            slot.release()

    body = stream()
    slot.release_with(body)
    return body


class BodySizeMiddleware:
    """At most ``max_body_size`` bytes of body (``FUPIN_MAX_REQUEST_BODY_BYTES``), 413 problem+json past it.

    The limiter is Starlette's, the one ``FastAPI(max_body_size=…)`` installs, and routes raise it for
    themselves with FastAPI's per-route ``max_body_size`` (the imports). Installed through ``FastAPI()`` it
    sits outside every middleware and handler, and a request that announces too large a ``Content-Length``
    gets a plain-text 413 with no request id; here it sits inside the request context, and that answer is
    replaced by a problem. GET requests pass untouched: no GET handler reads a body (hot reads pay nothing).
    """

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.limited = RequestBodyLimitMiddleware(app, max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_as_problem(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                content_type = dict(message.get("headers", ())).get(b"content-type", b"")
                if content_type.startswith(b"text/plain"):
                    replaced = True
                    limit = int(scope.get(MAX_BODY_SIZE_SCOPE_KEY) or 0)
                    await _too_large(scope, limit)(scope, receive, send)
                    return
            if not replaced:
                await send(message)

        await self.limited(scope, receive, send_as_problem)


def _too_large(scope: Scope, limit: int) -> Response:
    detail = f"The request body is larger than {limit} bytes." if limit else "The request body is too large."
    return problem(
        413,
        "Request too large",
        detail,
        "http.413",
        instance=scope["path"],
        request_id=scope.get("state", {}).get("request_id"),
    )
