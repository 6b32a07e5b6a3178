"""Upgrading a database that already holds records: migration 0008 gives each one an ``upsert`` row, so a
client following the feed from the beginning receives the records stored before the feed existed."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

from app.db.migrate import upgrade


async def test_existing_records_are_in_the_feed_after_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url, "0007")
    household, project = uuid.uuid4().hex, uuid.uuid4().hex
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO regions (code, name, level, parent_code, created_at, updated_at) VALUES "
            "('620000000000', '甘肃省', 'province', '000000000000', '2020-01-01', '2020-01-01')"
        )
        connection.execute(
            "INSERT INTO households (id, region_code, county_code, household_number, head_name, "
            "identification_standard, attribute, primary_cause, other_causes, is_relocated, status, "
            "has_returned_to_poverty, version, created_at, updated_at) VALUES (?, '620000000000', "
            "'620000000000', '1', '张三', 'national', 'general', 'illness', '[]', 0, 'registered', 0, 1, "
            "'2020-01-01', '2020-01-01')",
            (household,),
        )
        connection.execute(
            "INSERT INTO projects (id, region_code, county_code, fiscal_year, name, category, "
            "construction_type, content, responsible_unit_name, budget_fen, financing, performance_targets, "
            "benefit_mechanism, status, income_shared_fen, created_by, version, created_at, updated_at) "
            "VALUES (?, '620000000000', '620000000000', 2020, '路', 'infrastructure', 'new', '', '县', 1, "
            "'[]', '[]', '', 'planned', 0, 'test', 1, '2020-01-01', '2020-01-01')",
            (project,),
        )
    await asyncio.to_thread(upgrade, url)
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT collection, lower(replace(entity_id, '-', '')), region_code, operation FROM sync_changes"
        ).fetchall()
    assert sorted(rows) == [
        ("households", household, "620000000000", "upsert"),
        ("projects", project, "620000000000", "upsert"),
    ]
