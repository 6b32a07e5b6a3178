"""Upgrading a database that already holds records: migration 0008 gives each one an ``upsert`` row, so a
client following the feed from the beginning receives the records stored before the feed existed."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import upgrade
from tests.funds.test_concurrency import _recreate

TEST_URL = os.environ.get("FUPIN_TEST_DATABASE_URL", "")
HOUSEHOLD = (
    "INSERT INTO households (id, region_code, county_code, household_number, head_name, "
    "identification_standard, attribute, primary_cause, other_causes, is_relocated, status, "
    "has_returned_to_poverty, version, created_at, updated_at) VALUES (:id, '620000000000', "
    "'620000000000', '1', '张三', 'national', 'general', 'illness', "
    "'[]', false, 'registered', false, 1, :at, :at)"
)
PROJECT = (
    "INSERT INTO projects (id, region_code, county_code, fiscal_year, name, category, construction_type, "
    "content, responsible_unit_name, budget_fen, financing, performance_targets, benefit_mechanism, status, "
    "income_shared_fen, created_by, version, created_at, updated_at) VALUES (:id, '620000000000', "
    "'620000000000', 2020, '路', 'infrastructure', 'new', '', '县', 1, '[]', '[]', '', 'planned', 0, 'test', "
    "1, :at, :at)"
)


async def test_existing_records_are_in_the_feed_after_the_upgrade(tmp_path: Path) -> None:
    if TEST_URL.startswith("postgresql"):
        parsed = make_url(TEST_URL)
        url = parsed.set(database=f"{parsed.database}_backfill").render_as_string(hide_password=False)
        await _recreate(url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    try:
        await asyncio.to_thread(upgrade, url, "0007")
        household, project = uuid.uuid4(), uuid.uuid4()
        engine = create_async_engine(url)
        at = datetime(2020, 1, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO regions (code, name, level, parent_code, created_at, updated_at) VALUES "
                    "('620000000000', '甘肃省', 'province', '000000000000', :at, :at)"
                ),
                {"at": at},
            )
            id_of = str if connection.dialect.name == "postgresql" else (lambda value: value.hex)
            await connection.execute(text(HOUSEHOLD), {"id": id_of(household), "at": at})
            await connection.execute(text(PROJECT), {"id": id_of(project), "at": at})
        await engine.dispose()
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT collection, entity_id, region_code, operation FROM sync_changes")
                )
            ).all()
        await engine.dispose()
        found = sorted((c, str(e).replace("-", ""), r, o) for c, e, r, o in rows)
        assert found == [
            ("households", household.hex, "620000000000", "upsert"),
            ("projects", project.hex, "620000000000", "upsert"),
        ]
    finally:
        if url.startswith("postgresql"):
            await _recreate(url, create=False)
