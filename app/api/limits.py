"""Export guards at the HTTP edge: the concurrency cap and daily quota around a streamed export."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

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
