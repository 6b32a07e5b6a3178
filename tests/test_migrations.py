"""Migrations: they build exactly the schema the models describe, and a server refuses a stale schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from app.db.base import Base
from app.db.migrate import SchemaBehind, head_revision, upgrade
from app.db.session import Database
from app.main import create_app
from app.settings import Settings
from tests.conftest import TEST_SECRET


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], "models and migrations disagree: write a migration"


async def test_server_refuses_to_start_on_an_empty_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", jwt_secret=TEST_SECRET)
    app = create_app(settings)
    with pytest.raises(SchemaBehind, match="fupin db upgrade"):
        async with app.router.lifespan_context(app):
            pass


async def test_server_starts_once_upgraded(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await asyncio.to_thread(upgrade, url)
    app = create_app(Settings(database_url=url, jwt_secret=TEST_SECRET))
    async with app.router.lifespan_context(app):
        assert app.state.database is not None
    assert head_revision() is not None
