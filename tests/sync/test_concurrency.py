"""Transactions that commit out of order: the feed skips nothing and repeats nothing.

On PostgreSQL a transaction that started first (and took the smaller sequence number) commits last; a
follower that polls in between must not move past it. A cursor on the sequence number alone does exactly
that, and the first test shows it would lose the change. On SQLite writers are serialised, and the same
randomised test runs there too.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from app.db.models import Change, Household
from app.db.session import Database
from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.factories import household_number
from tests.sync.support import SYNC, Mirror, apply, follow, settle, snapshot

pytestmark = pytest.mark.usefixtures("tree")
IS_POSTGRESQL = os.environ.get("FUPIN_TEST_DATABASE_URL", "").startswith("postgresql")


def _household(region_code: str) -> Household:
    return Household(
        id=uuid.uuid4(),
        region_code=region_code,
        county_code=region_code[:6].ljust(12, "0"),
        household_number=household_number(region_code),
        head_name="张三",
        identification_standard="national",
        attribute="general",
        primary_cause="illness",
        other_causes=[],
        status="registered",
    )


async def _poll(
    client: httpx.AsyncClient, headers: dict[str, str], cursor: str | None
) -> tuple[list[Any], str]:
    """One page (no waiting for the horizon: what a client polling at this moment gets)."""
    params = {"cursor": cursor} if cursor else {}
    response = await client.get(f"{SYNC}/households", params={**params, "limit": 1000}, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    return page["items"], page["next_cursor"]


@pytest.mark.skipif(not IS_POSTGRESQL, reason="on SQLite one database lock serialises every writer")
async def test_a_transaction_that_started_first_and_commits_last_is_not_skipped(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    _, cursor = await follow(client, db, county.headers, "households")
    delivered: list[dict[str, Any]] = []

    async with db.sessionmaker() as first, db.sessionmaker() as second:
        early = _household(VILLAGE_A1)
        first.add(early)
        await first.flush()  # its change row takes the smaller sequence number, and it stays open
        late = _household(VILLAGE_A2)
        second.add(late)
        await second.commit()  # the later one commits first

        async with db.engine.connect() as reader:
            committed = (
                await reader.execute(select(Change.seq, Change.entity_id).order_by(Change.seq))
            ).all()
        assert [entity for _, entity in committed][-1:] == [late.id]
        naive_cursor = committed[-1][0]  # where a follower by sequence number alone would now stand

        for _ in range(3):  # polls while the first transaction is open: the later change waits behind it
            items, cursor = await _poll(client, county.headers, cursor)
            delivered += items
        assert str(late.id) not in {item["id"] for item in delivered}
        await first.commit()

    items, cursor = await follow(client, db, county.headers, "households", cursor)
    delivered += items
    assert Counter(item["id"] for item in delivered) == {str(early.id): 1, str(late.id): 1}

    # The sequence-number follower would have lost the early transaction's change for good.
    async with db.engine.connect() as reader:
        after_naive = (await reader.execute(select(Change.entity_id).where(Change.seq > naive_cursor))).all()
        early_seq = await reader.scalar(select(Change.seq).where(Change.entity_id == early.id))
    assert after_naive == []
    assert early_seq is not None
    assert early_seq < naive_cursor


async def test_concurrent_writers_and_a_polling_follower_end_with_every_change_exactly_once(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    rng = random.Random(7)
    writers = 12 if IS_POSTGRESQL else 6
    created: list[uuid.UUID] = []
    done = asyncio.Event()

    async def writer(n: int) -> None:
        async with db.sessionmaker() as session:
            # Writers start in order; the first ones commit last.
            await asyncio.sleep(0.01 * n)
            household = _household(rng.choice((VILLAGE_A1, VILLAGE_A2, VILLAGE_B1)))
            session.add(household)
            await session.flush()
            created.append(household.id)
            if IS_POSTGRESQL:
                await asyncio.sleep(0.05 * (writers - n))
            await session.commit()

    delivered: list[dict[str, Any]] = []
    mirror: Mirror = {}

    async def follower() -> str:
        cursor: str | None = None
        while not done.is_set():
            items, cursor = await _poll(client, county.headers, cursor)
            delivered.extend(items)
            apply(mirror, items)
            await asyncio.sleep(0.01)
        assert cursor is not None
        return cursor

    following = asyncio.create_task(follower())
    await asyncio.gather(*(writer(n) for n in range(writers)))
    done.set()
    cursor = await following
    await settle(db)
    items, _ = await follow(client, db, county.headers, "households", cursor, mirror=mirror)
    delivered += items
    assert Counter(item["id"] for item in delivered) == {str(household_id): 1 for household_id in created}
    assert mirror == (await snapshot(client, county.headers, "households"))[0]
    if IS_POSTGRESQL:
        async with db.engine.connect() as connection:
            xids = (await connection.execute(text("SELECT DISTINCT xid FROM sync_changes"))).all()
        assert len(xids) == writers
