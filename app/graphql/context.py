"""What every resolver gets in ``info.context``: the request's session and principal, per-request DataLoaders,
and the personal-data reads to audit when the operation ends.

The context is built by a FastAPI dependency on the very same ``get_session`` and ``authenticate`` as REST:
a POST without a valid bearer token is answered 401 problem+json before any GraphQL runs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeAlias, TypeVar, cast

import strawberry
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from app.api.deps import SessionDep, authenticate, bearer_token
from app.domain import audit
from app.domain.principal import Principal
from app.domain.regions import codes
from app.settings import Settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# A batch function of a DataLoader: the context and the keys in, one value per key out (same order).
BatchFn: TypeAlias = Callable[["GraphQLContext", Sequence[Any]], Awaitable[Sequence[Any]]]


@dataclass
class GraphQLContext(BaseContext):
    session: AsyncSession
    settings: Settings
    _principal: Principal | None = None
    _loaders: dict[BatchFn, DataLoader[Any, Any]] = field(default_factory=dict)
    # (record_type, fields) -> {record id: region code}: the personal data this operation revealed.
    _revealed: dict[tuple[str, tuple[str, ...]], dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def principal(self) -> Principal:
        """The signed-in caller (only GET, which serves GraphiQL and never runs a query, has none)."""
        if self._principal is None:  # pragma: no cover - POST always authenticates first
            raise RuntimeError("no principal on a GraphQL request")
        return self._principal

    def loader(self, batch: BatchFn) -> DataLoader[Any, Any]:
        """The request's DataLoader of a batch function (created on first use, cached for the request).

        ``batch(context, keys)`` must return one value per key, in the order of the keys."""
        found = self._loaders.get(batch)
        if found is None:

            async def load(keys: list[Any]) -> Sequence[Any]:
                return await batch(self, keys)

            found = self._loaders[batch] = DataLoader(load_fn=load)
        return found

    def reveal(self, record_type: str, region_code: str, record_id: str, fields: Sequence[str]) -> None:
        """Note an unmasked read of personal data (:meth:`write_audit` records it when the operation ends)."""
        self._revealed.setdefault((record_type, tuple(fields)), {})[record_id] = region_code

    async def write_audit(self) -> None:
        """The audit rows of the operation's unmasked reads (one per record, as REST writes them), in one
        insert per kind of record whatever the number of records: their region is the smallest region
        holding all of them."""
        if self._principal is None:
            return
        revealed, self._revealed = self._revealed, {}
        for (record_type, fields), records in sorted(revealed.items()):
            await audit.record(
                self.session,
                self._principal,
                action="read_personal_data",
                record_type=record_type,
                record_ids=sorted(records),
                region_code=_smallest_common_region(records.values()),
                fields=list(fields),
            )

    async def finish(self) -> None:
        """Write the audit rows, then let go of the session (see :meth:`SerialSession.close`)."""
        await self.write_audit()
        if isinstance(self.session, SerialSession):
            await self.session.close()


def _smallest_common_region(region_codes: Iterable[str]) -> str:
    # Character by character on purpose: the common prefix is then cut back to a whole level.
    prefix = os.path.commonprefix([codes.region_prefix(code) for code in region_codes])  # noqa: RUF071
    while len(prefix) not in {0, *(end for _, end in codes.GROUPS)}:
        prefix = prefix[:-1]
    return codes.code_of_prefix(prefix)


class SerialSession:
    """The request's session for resolvers that run concurrently: GraphQL resolves sibling fields (and
    DataLoader batches) at the same time, but a session runs one statement at a time, so each statement
    waits for the one before. A statement is never cut off half-way either: when an error cancels the
    resolvers still running, their statements finish (a cancelled one would invalidate the connection).
    Everything else is the session itself."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._lock = asyncio.Lock()
        self._is_closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async def statement() -> Any:
            async with self._lock:
                if self._is_closed:
                    raise RuntimeError("the GraphQL operation has ended")
                return await getattr(self._session, method)(*args, **kwargs)

        task = asyncio.ensure_future(statement())
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await self._run("execute", *args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self._run("scalar", *args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return await self._run("scalars", *args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await self._run("get", *args, **kwargs)

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        await self._run("flush", *args, **kwargs)

    async def close(self) -> None:
        """End the operation's use of the session: wait for the statements already queued and refuse any
        later one, so that the request's commit never overlaps a statement."""
        async with self._lock:
            self._is_closed = True


def _retrieve(task: asyncio.Future[Any]) -> None:
    """A statement whose resolver was cancelled: nobody awaits its outcome any more."""
    if not task.cancelled():
        task.exception()


async def get_context(request: Request, session: SessionDep) -> GraphQLContext:
    """The context of one request. POST (the only way to run an operation) needs a valid bearer token,
    checked exactly as REST checks it; GET only serves GraphiQL, when that is enabled."""
    settings: Settings = request.app.state.settings
    principal = None
    if request.method != "GET":
        principal = await authenticate(request, bearer_token(request))
    serial = cast(AsyncSession, SerialSession(session))
    return GraphQLContext(session=serial, settings=settings, _principal=principal)


ContextDep = Annotated[GraphQLContext, Depends(get_context)]
Info: TypeAlias = strawberry.Info[GraphQLContext, None]
