"""Concurrent transactions writing one village (and moving households between two) leave its rollups
exact: each refresh locks the village's rollup row first, so the last to commit counts everyone's rows.

PostgreSQL only, on real connections: SQLite's one database lock serialises every writer.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date

import pytest
from sqlalchemy import select, update

from app.db.models import Household, Member, VillageRollup
from app.db.session import Database
from app.domain.households.idnumbers import parse_id_number
from tests.conftest import VILLAGE_A1, VILLAGE_A2
from tests.factories import id_number, make_household
from tests.stats.test_kept_equals_rebuilt import assert_kept_equals_rebuilt

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("FUPIN_TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="row locks and concurrent transactions: PostgreSQL only",
    ),
    pytest.mark.usefixtures("tree"),
]
WORKERS = 4
ROUNDS = 5


def _household(region: str) -> Household:
    return Household(
        id=uuid.uuid4(),
        region_code=region,
        county_code=region[:6].ljust(12, "0"),
        household_number=uuid.uuid4().hex[:16],
        head_name="王建国",
        identification_standard="national",
        attribute="general",
        primary_cause="illness",
        other_causes=[],
        status="registered",
        registered_year=2015,
    )


def _member(household: Household, serial: int) -> Member:
    parsed = parse_id_number(
        id_number(date(1960 + serial % 40, 1 + serial % 12, 1 + serial % 28), region="620522")
    )
    return Member(
        household_id=household.id,
        region_code=household.region_code,
        name="王建国",
        id_number=parsed.value,
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        relation="head",
    )


async def test_concurrent_writes_on_one_village_leave_exact_rollups(db: Database) -> None:
    movers = [await make_household(db, VILLAGE_A2, members=1) for _ in range(WORKERS)]
    serials = iter(range(100_000))

    async def worker(index: int, barrier: asyncio.Barrier) -> None:
        async with db.sessionmaker() as session, session.begin():
            household = _household(VILLAGE_A1)
            session.add(household)
            await session.flush()
            session.add(_member(household, next(serials)))
            if index % 2 == 0:  # and move one household from A2 into A1: two villages locked in one order
                moved = await session.get(Household, movers[index].id)
                assert moved is not None
                moved.region_code = VILLAGE_A1
                await session.execute(  # its members move with it, as the service moves them
                    update(Member).where(Member.household_id == moved.id).values(region_code=VILLAGE_A1)
                )
                await session.flush()
            await barrier.wait()  # everyone has written, nobody has committed: the refreshes overlap

    for _ in range(ROUNDS):
        barrier = asyncio.Barrier(WORKERS)
        await asyncio.gather(*(worker(index, barrier) for index in range(WORKERS)))
        movers = [await make_household(db, VILLAGE_A2, members=1) for _ in range(WORKERS)]

    async with db.sessionmaker() as session:
        rows = {
            row.key: (row.households, row.people)
            for row in await session.scalars(
                select(VillageRollup).where(
                    VillageRollup.region_code == VILLAGE_A1, VillageRollup.dimension == "status"
                )
            )
        }
    moved = ROUNDS * (WORKERS // 2)
    assert rows == {"registered": (ROUNDS * WORKERS + moved, ROUNDS * WORKERS + moved)}
    await assert_kept_equals_rebuilt(db)
