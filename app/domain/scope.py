"""Scope, in exactly one place: every read of a region-bound table starts from :func:`scoped`, every write
checks its target region with :func:`ensure_in_scope`.

A region-bound model names its region column in ``__scope_column__`` (``region_code`` unless it says
otherwise). The filter is a closed range on that column, which PostgreSQL answers with one index range
scan (collation "C"); out-of-scope rows are simply not found, indistinguishable from missing ones.
A test (tests/test_scope_lint.py) fails the build on any other filter on a region column in ``app/``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.errors import NotFound
from app.domain.principal import Principal
from app.domain.regions.codes import ancestors_of, is_within, subtree_bounds

T = TypeVar("T")


def scope_column(entity: type[Any]) -> InstrumentedAttribute[str]:
    column: InstrumentedAttribute[str] = getattr(entity, getattr(entity, "__scope_column__", "region_code"))
    return column


def within_prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` lies in the subtree of ``prefix`` (also used for filters narrower than the scope)."""
    low, high = subtree_bounds(prefix)
    return and_(column >= low, column <= high)


def scope_filter(entity: type[Any], principal: Principal) -> ColumnElement[bool]:
    return within_prefix(scope_column(entity), principal.scope_prefix)


def scoped(entity: type[T], principal: Principal) -> Select[T]:
    """``SELECT entity`` already limited to what the principal may read."""
    return select(entity).where(scope_filter(entity, principal))


def restrict(statement: Select[Any], entity: type[Any], principal: Principal) -> Select[Any]:
    """Limit any statement over ``entity`` (Core columns, joins, aggregates) to the principal's scope."""
    return statement.where(scope_filter(entity, principal))


def applying_to(entity: type[Any], region_code: str) -> ColumnElement[bool]:
    """Reference rows (code lists, poverty lines, settings) that apply to a region: set at the region
    itself or at one of its ancestors. Reading them reveals nothing of other regions' records."""
    return scope_column(entity).in_([*ancestors_of(region_code), region_code])


def applicable(entity: type[T], region_code: str) -> Select[T]:
    """``SELECT entity`` of the reference rows that apply to a region (see :func:`applying_to`)."""
    return select(entity).where(applying_to(entity, region_code))


def readable_reference(entity: type[T], principal: Principal) -> Select[T]:
    """Reference rows the principal may read: those applying to their region, and those set inside
    their subtree."""
    return select(entity).where(
        or_(applying_to(entity, principal.region_code), scope_filter(entity, principal))
    )


def is_in_scope(principal: Principal, region_code: str) -> bool:
    return is_within(region_code, principal.scope_prefix)


def ensure_in_scope(principal: Principal, region_code: str, what: str = "region") -> None:
    """Refuse a write aimed outside the principal's subtree, as if the target did not exist."""
    if not is_in_scope(principal, region_code):
        raise NotFound(what)
