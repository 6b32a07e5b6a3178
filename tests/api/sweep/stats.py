"""Sweep declarations of region statistics and rural population: every level sees exactly its subtree."""

from __future__ import annotations

from app.db.session import Database
from app.domain.principal import Permission
from app.settings import Settings
from tests.api.sweep import Spec, Targeted, World

SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/regions/{code}/stats"): Targeted(
        Permission.HOUSEHOLDS_READ, lambda w, region, p: {"path": {"code": region}, "params": {"year": 2020}}
    ),
    ("GET", "/api/v1/regions/{code}/rural-population"): Targeted(
        Permission.REGIONS_READ, lambda w, region, p: {"path": {"code": region}}
    ),
    ("PUT", "/api/v1/regions/{code}/rural-population/{year}"): Targeted(
        Permission.REFERENCE_WRITE,
        lambda w, region, p: {"path": {"code": region, "year": 2020}, "json": {"population": 12345}},
    ),
}


async def build(db: Database, settings: Settings, world: World) -> None:
    """Statistics read the rollups of the other domains' records; nothing of their own to store."""
