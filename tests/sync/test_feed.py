"""The sync feed over HTTP: changes of every collection with their current state, tombstones for removals and
moves out of scope, scope, cursors, snapshots."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from app.db.models import Change
from app.db.session import Database
from app.domain.sync import feed
from tests.conftest import (
    COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    assert_problem,
)
from tests.factories import add_income, make_household, verify_indicators
from tests.funds.ledger_support import make_project
from tests.plans.support import make_cadre, make_measure, make_plan
from tests.responsibility.factories import make_assignment
from tests.sync.support import SYNC, follow, snapshot

pytestmark = pytest.mark.usefixtures("tree")


async def _patch(
    client: httpx.AsyncClient, headers: dict[str, str], household_id: object, body: dict
) -> None:  # type: ignore[type-arg]
    response = await client.patch(
        f"/api/v1/households/{household_id}", headers={**headers, "If-Match": "*"}, json=body
    )
    assert response.status_code == 200, response.text


async def test_households_arrive_with_members_incomes_and_indicators(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    household = await make_household(db, VILLAGE_A1, members=3)
    mirror: dict = {}  # type: ignore[type-arg]
    items, cursor = await follow(client, db, county.headers, "households", mirror=mirror)
    state = mirror[str(household.id)]
    assert [item["op"] for item in items] == ["upsert"]
    assert len(state["members"]) == 3
    assert state["incomes"] == []
    assert state["indicators"] == []
    assert state["phone"] != "13800001234"  # masked without the personal-data grant
    assert all("*" in member["id_number"] for member in state["members"])

    # A change to a part (an income, the indicators) brings the whole household again.
    await add_income(db, household, 2020, "5000.00")
    await verify_indicators(db, household)
    items, cursor = await follow(client, db, county.headers, "households", cursor, mirror=mirror)
    assert [item["id"] for item in items] == [str(household.id)]  # two changes, one item
    assert [income["year"] for income in mirror[str(household.id)]["incomes"]] == [2020]
    assert len(mirror[str(household.id)]["indicators"]) == 6

    await _patch(client, county.headers, household.id, {"address": "新地址 1 号"})
    items, cursor = await follow(client, db, county.headers, "households", cursor, mirror=mirror)
    assert mirror[str(household.id)]["address"] == "新地址 1 号"
    # Up to date: the same cursor gives nothing, and keeps giving a cursor.
    items, again = await follow(client, db, county.headers, "households", cursor)
    assert items == []
    assert again


async def test_a_move_is_a_tombstone_for_the_village_left_and_an_upsert_for_the_new_one(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    old_clerk = await account_factory(VILLAGE_A1, "village_clerk")
    new_clerk = await account_factory(VILLAGE_B1, "village_clerk")
    household = await make_household(db, VILLAGE_A1)
    plan = await make_plan(db, household)
    await make_measure(db, plan)
    cadre = await make_cadre(db, COUNTY)
    pairing = await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=cadre.id, household_id=household.id)
    mirrors: dict[str, dict] = {}  # type: ignore[type-arg]
    cursors: dict[str, str | None] = {}
    for who, account in (("old", old_clerk), ("new", new_clerk), ("county", county)):
        for collection in ("households", "plans", "assignments"):
            mirror: dict = {}  # type: ignore[type-arg]
            _, cursors[who + collection] = await follow(
                client, db, account.headers, collection, mirror=mirror
            )
            mirrors[who + collection] = mirror
    assert set(mirrors["oldhouseholds"]) == {str(household.id)}
    assert mirrors["newhouseholds"] == {}
    assert len(mirrors["oldplans"][str(plan.id)]["measures"]) == 1

    await _patch(client, county.headers, household.id, {"region_code": VILLAGE_B1})

    for who, account in (("old", old_clerk), ("new", new_clerk), ("county", county)):
        for collection in ("households", "plans", "assignments"):
            key = who + collection
            await follow(client, db, account.headers, collection, cursors[key], mirror=mirrors[key])
    assert mirrors["oldhouseholds"] == {}
    assert mirrors["oldplans"] == {}
    assert mirrors["oldassignments"] == {}
    assert mirrors["newhouseholds"][str(household.id)]["region_code"] == VILLAGE_B1
    assert mirrors["newplans"][str(plan.id)]["region_code"] == VILLAGE_B1
    assert mirrors["newassignments"][str(pairing.id)]["region_code"] == VILLAGE_B1
    assert mirrors["countyhouseholds"][str(household.id)]["region_code"] == VILLAGE_B1
    for collection in ("households", "plans", "assignments"):
        assert mirrors["county" + collection] == (await snapshot(client, county.headers, collection))[0]


async def test_projects_and_fund_transfers_and_removals(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    project = await make_project(db, VILLAGE_A1, status="planned")
    other = await make_project(db, OTHER_VILLAGE, status="planned")
    mirror: dict = {}  # type: ignore[type-arg]
    _, cursor = await follow(client, db, county.headers, "projects", mirror=mirror)
    assert set(mirror) == {str(project.id)}  # the other county's project is not in scope
    response = await client.delete(
        f"/api/v1/projects/{project.id}", headers={**county.headers, "If-Match": "*"}
    )
    assert response.status_code == 204, response.text
    items, cursor = await follow(client, db, county.headers, "projects", cursor, mirror=mirror)
    assert items == [{"op": "delete", "id": str(project.id), "data": None}]
    assert mirror == {}
    assert other.id


async def test_a_page_without_changes_in_scope_still_moves_the_cursor(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    clerk = await account_factory(VILLAGE_A2, "village_clerk")
    _, first = await follow(client, db, clerk.headers, "households")
    for _ in range(3):
        await make_household(db, VILLAGE_A1)
    items, second = await follow(client, db, clerk.headers, "households", first, limit=1)
    assert items == []
    assert second != first
    async with db.sessionmaker() as session:
        last = (
            await session.execute(select(Change.xid, Change.seq).order_by(Change.seq.desc()).limit(1))
        ).one()
    # The cursor passed every row the clerk cannot see: the next page starts after them.
    assert feed.position_of(second) >= tuple(last)
    response = await client.get(f"{SYNC}/households", params={"cursor": second}, headers=clerk.headers)
    page = response.json()
    assert page["items"] == []
    assert feed.position_of(page["next_cursor"]) >= feed.position_of(second)


async def test_paging_delivers_every_change_once_in_order(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    township = await account_factory(TOWNSHIP_A, "township_reviewer")
    households = [await make_household(db, VILLAGE_A1 if n % 2 else VILLAGE_A2) for n in range(7)]
    items, _ = await follow(client, db, township.headers, "households", limit=2)
    assert [item["id"] for item in items] == [str(h.id) for h in households]


async def test_snapshot_then_feed_is_an_exact_mirror(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer", has_personal_data_grant=True)
    first = await make_household(db, VILLAGE_A1)
    second = await make_household(db, VILLAGE_A2)
    mirror, cursor = await snapshot(client, county.headers, "households")
    assert set(mirror) == {str(first.id), str(second.id)}
    assert mirror[str(first.id)]["phone"] == "13800001234"  # unmasked with the grant
    third = await make_household(db, VILLAGE_B1)
    await _patch(client, county.headers, first.id, {"region_code": VILLAGE_A2})
    await add_income(db, second, 2019, "3000.00")
    await follow(client, db, county.headers, "households", cursor, mirror=mirror)
    assert set(mirror) == {str(first.id), str(second.id), str(third.id)}
    assert mirror == (await snapshot(client, county.headers, "households"))[0]
    # A snapshot of a region, followed with the same region.
    regional, cursor = await snapshot(client, county.headers, "households", VILLAGE_A2)
    assert set(regional) == {str(first.id), str(second.id)}
    await _patch(client, county.headers, first.id, {"region_code": VILLAGE_A1})
    await follow(client, db, county.headers, "households", cursor, mirror=regional, region=VILLAGE_A2)
    assert set(regional) == {str(second.id)}


async def test_refusals(client: httpx.AsyncClient, account_factory) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    finance = await account_factory(COUNTY, "finance_officer")
    assert_problem(await client.get(f"{SYNC}/visits", headers=clerk.headers), 422)
    for cursor in (
        "WzE4NDQ2NzQ0MDczNzA5NTUxNjE1LDFd",
        "Wy0xLDFd",
        "WzEuNSwxXQ",
    ):  # [2**64-1, 1], [-1, 1], [1.5, 1]
        response = await client.get(f"{SYNC}/households", params={"cursor": cursor}, headers=clerk.headers)
        assert_problem(response, 422, "pagination.invalid_cursor")
    assert_problem(
        await client.get(f"{SYNC}/households", params={"cursor": "bm90IGEgY3Vyc29y"}, headers=clerk.headers),
        422,
        "pagination.invalid_cursor",
    )
    assert_problem(
        await client.get(f"{SYNC}/households", params={"region": VILLAGE_A2}, headers=clerk.headers), 404
    )
    assert_problem(
        await client.get(f"{SYNC}/households/snapshot", params={"region": VILLAGE_B1}, headers=clerk.headers),
        404,
    )
    assert_problem(await client.get(f"{SYNC}/households", headers=finance.headers), 403)
    assert_problem(await client.get(f"{SYNC}/households/snapshot", headers=finance.headers), 403)
    assert (await client.get(f"{SYNC}/fund_transfers", headers=finance.headers)).status_code == 200
    assert_problem(await client.get(f"{SYNC}/households"), 401)


async def test_assignments_end_and_plans_change(
    client: httpx.AsyncClient, db: Database, account_factory
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    cadre = await make_cadre(db, COUNTY)
    cover = await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=cadre.id)
    mirror: dict = {}  # type: ignore[type-arg]
    _, cursor = await follow(client, db, county.headers, "assignments", mirror=mirror)
    assert mirror[str(cover.id)]["ends_on"] is None
    response = await client.post(
        f"/api/v1/assignments/{cover.id}/end",
        headers=county.headers,
        json={"ends_on": date.today().isoformat(), "reason": "轮换"},
    )
    assert response.status_code == 200, response.text
    await follow(client, db, county.headers, "assignments", cursor, mirror=mirror)
    assert mirror[str(cover.id)]["ends_on"] == date.today().isoformat()


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (COUNTY, {VILLAGE_A1, VILLAGE_A2, VILLAGE_B1}),
        (TOWNSHIP_A, {VILLAGE_A1, VILLAGE_A2}),
        (VILLAGE_A2, {VILLAGE_A2}),
    ],
)
async def test_the_feed_and_the_snapshot_hold_exactly_the_callers_subtree(
    client: httpx.AsyncClient, db: Database, account_factory, region: str, expected: set[str]
) -> None:
    reader = await account_factory(region, "data_consumer")
    for village in (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, OTHER_VILLAGE):
        household = await make_household(db, village)
        await make_plan(db, household)
    for collection in ("households", "plans"):
        mirror: dict = {}  # type: ignore[type-arg]
        await follow(client, db, reader.headers, collection, mirror=mirror)
        assert {state["region_code"] for state in mirror.values()} == expected
        assert len(mirror) == len(expected)
        assert mirror == (await snapshot(client, reader.headers, collection))[0]
