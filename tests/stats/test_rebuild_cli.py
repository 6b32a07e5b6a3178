"""`fupin stats rebuild` recomputes rollups that went missing (a load behind the service's back)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from app.cli import cli
from app.db.models import TownshipRollup, VillageRollup
from app.db.session import Database
from tests.conftest import TOWNSHIP_A, VILLAGE_A1
from tests.factories import make_household
from tests.stats.test_kept_equals_rebuilt import rollup_rows


async def test_rebuild_restores_the_rollups(
    db: Database, tree: dict[str, str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_household(db, VILLAGE_A1, members=3)
    kept = await rollup_rows(db)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(delete(VillageRollup))  # scope: the test's own damage
        await session.execute(delete(TownshipRollup))  # scope: the test's own damage
    assert await rollup_rows(db) == set()
    monkeypatch.setenv("FUPIN_DATABASE_URL", database_url)
    result: Any = await asyncio.to_thread(CliRunner().invoke, cli, ["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rollups rebuilt" in result.output
    assert await rollup_rows(db) == kept
    async with db.sessionmaker() as session:
        row = await session.scalar(
            select(TownshipRollup).where(  # scope: the test reads what it checks
                TownshipRollup.region_code == TOWNSHIP_A, TownshipRollup.dimension == "status"
            )
        )
    assert row is not None
    assert (row.key, row.households, row.people) == ("registered", 1, 3)
