"""The GraphQL scope sweep's vocabulary. Each area declares, in a module of this package, ``ROOTS``: one
spec per root field of ``Query``, each with an operation that selects the fields it covers. The sweep
runs every spec for every principal of the REST sweep (tests/api/sweep) against its world of records,
and fails for any root field without a spec and any field of any type that no spec's operation selects.

A spec's operation must select ``regionCode`` (or ``code`` for regions) wherever a type has it: the sweep
checks that every ``regionCode`` anywhere in an answer lies inside the caller's scope, and every region
``code`` inside it or on the chain above the caller's own region (never beside it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.domain.principal import Permission, Principal
from tests.api.sweep import TARGETS, World

Variables = dict[str, Any]


@dataclass(frozen=True)
class Targeted:
    """A root field aimed at one record (or region): for every target, in scope with the permission →
    data without errors; in scope without it → an error with ``extensions.status`` 403; out of scope →
    404 (``*.not_found``), exactly like a missing record."""

    permission: Permission | None  # None: every signed-in principal may read it
    query: str
    variables: Callable[[World, str, Principal], Variables]
    targets: tuple[str, ...] = TARGETS
    # Who may, when the permission alone does not say; default: the holders of ``permission``.
    allows: Callable[[Principal], bool] | None = None
    # Keys of the answer under which records of the regions above the caller's own (on its chain, never
    # beside it) belong to the answer by design: the county leaders of a responsibility chain.
    above_scope: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    """A root connection (``first``/``after``/``pageInfo``/``nodes { regionCode }``): paged through with
    ``first: 2``, it must hold exactly the expected records inside the caller's scope; without the
    permission, an error with ``extensions.status`` 403. ``query`` takes ``$first`` and ``$after``."""

    permission: Permission | None
    query: str
    expected_regions: Callable[[World], list[str]]
    # The key of each node's region (``code`` for regions).
    region_key: str = "regionCode"
    variables: Callable[[World, Principal], Variables] = lambda world, principal: {}
    above_scope: tuple[str, ...] = ()


Spec = Targeted | Listing
