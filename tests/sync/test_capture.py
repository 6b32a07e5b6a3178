"""Change capture: the ORM listener, the Core paths (imports), savepoints, and retention of the log."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from app.db.base import utcnow
from app.db.models import Change, ChangePurge, Household, Member
from app.db.session import Database
from app.domain.sync import retention
from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_A2, assert_problem
from tests.factories import make_household
from tests.households.bulk_files import household_rows, run_import, to_csv
from tests.sync.support import SYNC, follow, snapshot

pytestmark = pytest.mark.usefixtures("tree")


async def _rows(db: Database) -> list[tuple[str, str, str]]:
    async with db.sessionmaker() as session:
        result = await session.execute(
            select(Change.collection, Change.region_code, Change.operation).order_by(Change.seq)
        )
        return [tuple(row) for row in result.all()]  # type: ignore[misc]


async def test_one_row_per_entity_and_transaction_and_none_for_a_rolled_back_savepoint(db: Database) -> None:
    household = await make_household(db, VILLAGE_A1, members=3)  # two flushes in one transaction
    assert await _rows(db) == [("households", VILLAGE_A1, "upsert")]
    async with db.sessionmaker() as session, session.begin():
        async with session.begin_nested() as savepoint:
            changed = await session.get(Household, household.id)
            assert changed is not None
            changed.address = "撤销的地址"
            await session.flush()
            await savepoint.rollback()
        member = (await session.scalars(select(Member).where(Member.household_id == household.id))).first()
        assert member is not None
        member.education = "初中"  # a part of the household: the household is recorded again
    assert await _rows(db) == [("households", VILLAGE_A1, "upsert")] * 2
    async with db.sessionmaker() as session, session.begin():
        unchanged = await session.get(Household, household.id)
        assert unchanged is not None
        unchanged.address = unchanged.address  # no net change, no row
    assert len(await _rows(db)) == 2


async def test_imports_are_captured_with_moves(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    officer = await account_factory(COUNTY, "county_officer", has_personal_data_grant=True)
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    staying = household_rows(VILLAGE_A1, members=2)
    moving = household_rows(VILLAGE_A1, members=3)
    job = await run_import(client, officer.headers, to_csv(staying + moving))
    assert job["status"] == "succeeded", job
    county_mirror: dict = {}  # type: ignore[type-arg]
    clerk_mirror: dict = {}  # type: ignore[type-arg]
    _, county_cursor = await follow(client, db, officer.headers, "households", mirror=county_mirror)
    _, clerk_cursor = await follow(client, db, clerk.headers, "households", mirror=clerk_mirror)
    assert len(county_mirror) == 2
    assert len(clerk_mirror) == 2
    assert sorted(len(state["members"]) for state in county_mirror.values()) == [2, 3]

    moved = [{**row, "region_code": VILLAGE_A2} for row in moving]
    changed = [{**row, "address": "新址"} for row in staying]
    job = await run_import(client, officer.headers, to_csv(changed + moved))
    assert job["status"] == "succeeded", job
    await follow(client, db, officer.headers, "households", county_cursor, mirror=county_mirror)
    await follow(client, db, clerk.headers, "households", clerk_cursor, mirror=clerk_mirror)
    assert county_mirror == (await snapshot(client, officer.headers, "households"))[0]
    assert [state["address"] for state in clerk_mirror.values()] == ["新址"]  # the moved one is gone
    assert {state["region_code"] for state in county_mirror.values()} == {VILLAGE_A1, VILLAGE_A2}


async def test_purge_compacts_and_expires_old_tombstones(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    kept = await make_household(db, VILLAGE_A1)
    moved = await make_household(db, VILLAGE_A1)
    _, early_cursor = await follow(client, db, county.headers, "households")
    for address in ("一", "二", "三"):
        async with db.sessionmaker() as session, session.begin():
            household = await session.get(Household, kept.id)
            assert household is not None
            household.address = address
    response = await client.patch(
        f"/api/v1/households/{moved.id}",
        headers={**county.headers, "If-Match": "*"},
        json={"region_code": VILLAGE_A2},
    )
    assert response.status_code == 200, response.text
    _, late_cursor = await follow(client, db, county.headers, "households")

    async with db.sessionmaker() as session, session.begin():
        result = await retention.purge(session, tombstone_days=90)
    # kept: 4 rows -> 1; moved: created in A1, then deleted from A1 (a tombstone) and upserted in A2.
    assert (result.superseded, result.tombstones) == (4, 0)
    assert sorted(await _rows(db)) == [
        ("households", VILLAGE_A1, "delete"),
        ("households", VILLAGE_A1, "upsert"),
        ("households", VILLAGE_A2, "upsert"),
    ]
    items, _ = await follow(client, db, county.headers, "households", early_cursor)
    assert {item["id"] for item in items} == {str(kept.id), str(moved.id)}

    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Change).values(changed_at=utcnow() - timedelta(days=91)))
        result = await retention.purge(session, tombstone_days=90)
    assert (result.superseded, result.tombstones) == (0, 1)
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ChangePurge)) == 1
    # A cursor from before the removed tombstone might have missed it: take a new snapshot.
    response = await client.get(f"{SYNC}/households", params={"cursor": early_cursor}, headers=county.headers)
    assert_problem(response, 410, "sync.cursor_expired")
    # A cursor past it, and a new follower with an empty mirror, lose nothing.
    await follow(client, db, county.headers, "households", late_cursor)
    mirror: dict = {}  # type: ignore[type-arg]
    await follow(client, db, county.headers, "households", mirror=mirror)
    assert mirror == (await snapshot(client, county.headers, "households"))[0]


async def test_the_last_row_of_an_entity_in_a_region_says_whether_it_is_there(db: Database) -> None:
    household = await make_household(db, VILLAGE_A1, members=1)
    async with db.sessionmaker() as session, session.begin():
        moving = await session.get(Household, household.id)
        assert moving is not None
        for village in (VILLAGE_A2, VILLAGE_A1, VILLAGE_A2):  # back and forth in one transaction
            moving.region_code = village
            await session.flush()
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(select(Change.region_code, Change.operation).order_by(Change.seq))
        ).all()
    last = {region: operation for region, operation in rows}
    assert last == {VILLAGE_A1: "delete", VILLAGE_A2: "upsert"}
