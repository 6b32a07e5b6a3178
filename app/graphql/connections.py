"""Relay-style connections (``first``/``after`` in; ``edges``, ``nodes``, ``pageInfo``, ``totalCount`` out)
over the domain's keyset pages (:mod:`app.domain.pagination`): the cursor is the same opaque keyset cursor
as REST's ``next_cursor``, so a page costs the same however deep it is.

``totalCount`` is a count query the resolver hands over unevaluated; it runs only when a client selects it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import Page, PageRequest, encode_cursor

N = TypeVar("N")

DEFAULT_FIRST = 20
MAX_FIRST = 100

FIRST_DESCRIPTION = f"Items in this page: 1 to {MAX_FIRST}"
AFTER_DESCRIPTION = "`pageInfo.endCursor` of the previous page; omit for the first page"


def page_request(first: int, after: str | None) -> PageRequest:
    """The domain's page request of a connection's arguments (refused outside 1..MAX_FIRST)."""
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput(
            f"`first` must be between 1 and {MAX_FIRST}.",
            "pagination.invalid_first",
            errors=[FieldError(("args", "first"), f"not in 1..{MAX_FIRST}", "range")],
        )
    if after is not None and len(after) > 1024:
        raise InvalidInput("The cursor is not one this list gave out.", "pagination.invalid_cursor")
    return PageRequest(limit=first, cursor=after)


@strawberry.type(description="Where a page ends and whether another follows")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` to read the next page")


@strawberry.type(description="A node with the cursor of its position")
class Edge(Generic[N]):
    cursor: str = strawberry.field(description="Pass as `after` to read the items after this one")
    node: N


@strawberry.type
class Connection(Generic[N]):
    """A page of a list: ``nodes`` (or ``edges``), ``pageInfo``, and ``totalCount`` when asked for."""

    nodes: list[N]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]
    _cursors: strawberry.Private[list[str]]

    @strawberry.field(description="Nodes with their cursors")
    def edges(self) -> list[Edge[N]]:
        return [
            Edge(cursor=cursor, node=node) for cursor, node in zip(self._cursors, self.nodes, strict=True)
        ]

    @strawberry.field(description="How many items the list holds (one count query, run only when selected)")
    async def total_count(self) -> int:
        return await self._count()

    @classmethod
    def of(
        cls,
        page: Page[Any],
        keys: Sequence[InstrumentedAttribute[Any]],
        convert: Callable[[Any], N],
        count: Callable[[], Awaitable[int]],
    ) -> Connection[N]:
        """A connection of a domain page of rows (dicts, or objects with attributes) ordered by ``keys``,
        each converted to its GraphQL type; ``count`` runs only if ``totalCount`` is selected."""
        cursors = [encode_cursor([_value(item, key.key) for key in keys]) for item in page.items]
        return cls(
            nodes=[convert(item) for item in page.items],
            page_info=PageInfo(
                has_next_page=page.next_cursor is not None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            _count=count,
            _cursors=cursors,
        )


def _value(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)
