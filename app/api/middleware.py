"""Request context: a request id on every request, response and log line, and one access-log line each."""

from __future__ import annotations

import itertools
import os
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.metrics import Metrics
from app.api.problems import problem
from app.domain.context import current_request_id
from app.logging import logger

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Request ids unique across processes and restarts without a system call per request: a random per-process
# prefix and a counter (uuid4 reads os.urandom on every call).
_PREFIX = os.urandom(11).hex()
_COUNTER = itertools.count(1)


def _new_prefix() -> None:  # a forked worker gets its own prefix
    global _PREFIX
    _PREFIX = os.urandom(11).hex()


os.register_at_fork(after_in_child=_new_prefix)


def _incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            return incoming if _VALID_REQUEST_ID.fullmatch(incoming) else ""
    return ""


class RequestContextMiddleware:
    """Also counts each request into ``metrics`` (app/api/metrics.py) with the time it already measures."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope["headers"]) or f"{_PREFIX}{next(_COUNTER):010x}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        request_id_token = current_request_id.set(request_id)
        status = 500
        status_sent = False
        metrics = self.metrics
        if metrics is not None:
            metrics.active += 1
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Anything no handler turned into a response: answer a generic problem, never a trace.
            if status_sent:
                raise
            logger.exception("unhandled_error", exc_info=exc, principal=state.get("principal"))
            response = problem(
                500,
                "Internal server error",
                "Something went wrong on our side; the request id identifies it in the logs.",
                "internal",
                instance=scope["path"],
                request_id=request_id,
            )
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            current_request_id.reset(request_id_token)
            if metrics is not None:
                metrics.active -= 1
                # The route template that matched (never the raw path: ids would make a series each).
                metrics.observe(scope["method"], metrics.route_of(scope), status, seconds)
            logger.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
                principal=state.get("principal"),
            )
