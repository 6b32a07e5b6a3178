"""Sweep declarations of the sync feed and snapshots (tests/sync proves what they deliver).

Both are aimed at a region by ``?region=``: outside the caller's scope 404, in scope without the
collection's permission 403. The households collection needs ``households:export``, as an export does.
"""

from __future__ import annotations

from app.db.session import Database
from app.domain.principal import Permission
from app.settings import Settings
from tests.api.sweep import Spec, Targeted, World


async def build(db: Database, settings: Settings, world: World) -> None:
    """No records of its own: the feed and snapshots read what the other domains stored."""


def _aimed(collection: str) -> Targeted:
    permission = {
        "households": Permission.HOUSEHOLDS_EXPORT,
        "assignments": Permission.HOUSEHOLDS_READ,
        "fund_transfers": Permission.FUNDS_READ,
    }[collection]
    return Targeted(
        permission,
        lambda w, region, p: {"path": {"collection": collection}, "params": {"region": region}},
    )


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/sync/{collection}"): _aimed("households"),
    ("GET", "/api/v1/sync/{collection}/snapshot"): _aimed("households"),
}
