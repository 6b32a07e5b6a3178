"""Conditional reads: an ``ETag`` on every successful GET that answers JSON, ``304 Not Modified`` when the
client's ``If-None-Match`` still matches, and ``Cache-Control`` for the slow-changing reference reads.

A response that carries its own ETag (a record's version, e.g. ``"<id>.<version>"`` on households) keeps it;
any other JSON body gets a weak ETag over its bytes. The handler still runs (scope, masking and the audit
log see every read): what a 304 saves is the transfer and the client's parsing. Streams (exports) and
non-JSON bodies pass through untouched.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

NOT_MODIFIED_HEADERS = (b"etag", b"cache-control", b"vary", b"expires", b"content-location", b"date")


def weak_etag(body: bytes) -> bytes:
    """A digest of the bytes: SHA-1 (not for security), measured as fast as zlib's crc32 and adler32 together
    on a 19 KB list page, with far fewer collisions (bench/limits_overhead.py). Weak: it names equal bytes,
    not a record version."""
    return b'W/"%s"' % hashlib.sha1(body, usedforsecurity=False).hexdigest().encode()[:32]


def _opaque(tag: bytes) -> bytes:
    tag = tag.strip()
    return tag[2:] if tag.startswith(b"W/") else tag


def matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 §13.1.2: weak comparison against each listed tag, or ``*``."""
    ours = _opaque(etag)
    return any(tag.strip() == b"*" or _opaque(tag) == ours for tag in if_none_match.split(b","))


class ConditionalGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        held: Message | None = None

        async def send_conditionally(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    held = message  # until the body shows whether it is one JSON document
                    return
                await send(message)
                return
            if held is None:
                await send(message)
                return
            start, held = held, None
            if message["type"] != "http.response.body" or message.get("more_body", False):
                await send(start)  # a stream: as it is
                await send(message)
                return
            await self._answer(scope, start, message, send)

        await self.app(scope, receive, send_conditionally)

    async def _answer(self, scope: Scope, start: Message, body: Message, send: Send) -> None:
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", ()))
        etag = content_type = None
        for name, value in headers:
            if name == b"etag":
                etag = value
            elif name == b"content-type":
                content_type = value
        if etag is None:
            if content_type is None or not content_type.startswith(b"application/json"):
                await send(start)
                await send(body)
                return
            etag = weak_etag(body.get("body", b""))
            headers.append((b"etag", etag))
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if matches(value, etag):
                    kept = [(n, v) for n, v in headers if n in NOT_MODIFIED_HEADERS]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b""})
                    return
                break
        await send({**start, "headers": headers})
        await send(body)


async def private_cache(request: Request, response: Response) -> None:
    """``Cache-Control`` for reference reads (code lists, regions): they change seldom, but they need a token,
    so only the caller's own cache may keep them, and only for that token (``Vary: Authorization``)."""
    if request.method == "GET":
        settings: Settings = request.app.state.settings
        response.headers["Cache-Control"] = f"private, max-age={settings.reference_max_age_seconds}"
        response.headers["Vary"] = "Authorization"
