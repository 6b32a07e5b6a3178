"""The scope sweep's vocabulary: how a route is declared, the world of records it is aimed at.

Each domain declares its routes in a module of this package (``SPECS``) and, if its routes need records,
a ``build`` coroutine that stores one record per target region into the :class:`World`.

The world is built once per run: before every route the sweep puts the database back as the build left it
and hands the route a deep copy of the World (tests/api/test_scope_sweep.py ``Worlds``). So whatever a
route uses up (pools of fresh records) lives in the World, as lists or iterators, never in module globals;
and what the World holds must survive ``copy.deepcopy`` (else the sweep warns and builds per route).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.domain.principal import Permission, Principal
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
)

SWEEP_LEVELS = (COUNTY, TOWNSHIP_A, VILLAGE_A1)
TARGETS = (
    COUNTY,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
    OTHER_COUNTY,
    OTHER_VILLAGE,
)
VILLAGES = (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, VILLAGE_B2, OTHER_VILLAGE)

Request = dict[str, Any]


@dataclass
class World:
    """Records per kind and region (``records["user"][region] = id``), and the sweep's principals, which
    are stored users too (so their regions show up in user lists)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    principals: list[tuple[Principal, str]] = field(default_factory=list)
    # The villages of households stored besides the one ``household`` per village (one entry each), which
    # the household list must show too.
    extra_households: list[str] = field(default_factory=list)

    def add(self, kind: str, region: str, value: Any) -> None:
        self.records.setdefault(kind, {})[region] = value

    def id(self, kind: str, region: str) -> Any:
        return self.records[kind][region]

    def regions(self, kind: str) -> list[str]:
        return list(self.records.get(kind, {}))


@dataclass(frozen=True)
class Public:
    """Needs no token (probes, the token endpoint itself)."""

    why: str


@dataclass(frozen=True)
class Own:
    """Acts on the caller's own account; every authenticated principal may call it."""

    request: Callable[[Principal], Request]
    expected: int


@dataclass(frozen=True)
class Permitted:
    """Not aimed at a region (it answers from the caller's own region): 200 with the permission, else 403."""

    permission: Permission
    request: Callable[[Principal], Request] = lambda principal: {}


@dataclass(frozen=True)
class Targeted:
    """Reads or writes a record that lives in a region."""

    permission: Permission
    request: Callable[[World, str, Principal], Request]
    # Creating or importing checks the role before the target (there is no record to hide yet).
    permission_first: bool = False
    # Who may, when the permission alone does not say (a role held at a region level); default: the
    # holders of ``permission``.
    allows: Callable[[Principal], bool] | None = None
    out_of_scope_status: int = 404
    targets: tuple[str, ...] = TARGETS


@dataclass(frozen=True)
class Listing:
    """A list whose items carry ``region_code``; it must hold exactly the caller's subtree."""

    permission: Permission
    url: str
    expected_regions: Callable[[World], list[str]]


Spec = Public | Own | Permitted | Targeted | Listing


def unique_suffix() -> str:
    return uuid.uuid4().hex[:10]
