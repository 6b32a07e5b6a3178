"""The hot-read path (app/db/reads.py): the same rows as a session gives, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db.models import Household
from app.db.session import Database
from app.domain.pagination import KeysetRead, PageRequest, read_page
from tests.conftest import VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.factories import make_household

pytestmark = pytest.mark.usefixtures("tree")


async def test_a_keyset_read_pages_through_the_same_rows_as_a_session(db: Database) -> None:
    for village in (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1):
        for _ in range(3):
            await make_household(db, village)
    statement = select(Household.id, Household.region_code, Household.other_causes, Household.updated_at)
    keys = (Household.region_code, Household.id)
    async with db.sessionmaker() as session:
        expected = [dict(row._mapping) for row in await session.execute(statement.order_by(*keys))]

    read = KeysetRead(statement.where(Household.region_code != VILLAGE_A2), keys)
    seen: list[dict[str, object]] = []
    page = PageRequest(limit=2)
    while True:
        result = await read_page(db.reader, read, page)
        seen += result.items
        if result.next_cursor is None:
            break
        page = PageRequest(limit=2, cursor=result.next_cursor)

    wanted = [row for row in expected if row["region_code"] != VILLAGE_A2]
    assert len(wanted) == 6
    assert [{**row, "id": str(row["id"])} for row in seen] == [
        {**row, "id": str(row["id"])} for row in wanted
    ]


async def test_a_read_statement_must_name_its_columns(db: Database) -> None:
    from sqlalchemy import func

    from app.db.reads import CompiledRead

    statement = select(func.count()).select_from(Household)
    with pytest.raises(ValueError, match="named columns"):
        CompiledRead(statement, db.engine.dialect)
