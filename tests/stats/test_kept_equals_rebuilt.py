"""After a seeded random series of writes through the API (households, members, moves, lifecycle steps,
pairings, imports), the rollups kept on every write equal a rebuild from scratch."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import TownshipRollup, VillageRollup
from app.db.session import Database
from app.domain.principal import Role
from app.domain.stats.rollups import rebuild_all
from tests.conftest import (
    COUNTY,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
    Account,
)
from tests.factories import make_household
from tests.households.bulk_files import household_rows, run_import, to_csv
from tests.households.registry_helpers import application, member
from tests.responsibility.factories import make_cadre

VILLAGES = (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, VILLAGE_B2)
HOUSEHOLDS = "/api/v1/households"


async def rollup_rows(db: Database) -> set[tuple[Any, ...]]:
    async with db.sessionmaker() as session:
        rows = set()
        for model in (VillageRollup, TownshipRollup):
            result = await session.execute(
                select(model.region_code, model.dimension, model.key, model.households, model.people)  # type: ignore[attr-defined]
            )
            rows |= {(model.__name__, *row) for row in result}
        return rows


async def assert_kept_equals_rebuilt(db: Database) -> None:
    kept = await rollup_rows(db)
    async with db.sessionmaker() as session, session.begin():
        await rebuild_all(session)
    assert await rollup_rows(db) == kept


class Writer:
    def __init__(self, client: httpx.AsyncClient, account: Account, rng: random.Random) -> None:
        self.client, self.account, self.rng = client, account, rng
        self.households: list[str] = []
        self.cadres: dict[str, str] = {}
        self.pairings: list[str] = []
        self.births = iter(range(10_000))
        self.reviewers: dict[str, Account] = {}  # per township

    def headers(self, etag: str | None = None) -> dict[str, str]:
        return {**self.account.headers, **({"If-Match": etag} if etag else {})}

    async def read(self, household_id: str) -> tuple[dict[str, Any], str]:
        response = await self.client.get(f"{HOUSEHOLDS}/{household_id}", headers=self.headers())
        assert response.status_code == 200, response.text
        return response.json(), response.headers["ETag"]

    def birth(self) -> date:
        n = next(self.births)
        return date(1950 + n % 50, 1 + n % 12, 1 + n % 28)

    async def create(self) -> None:
        village = self.rng.choice(VILLAGES)
        body = application(
            village,
            members=[member(birth=self.birth()), member("钱桂兰", "spouse", birth=self.birth(), male=False)],
        )
        response = await self.client.post(HOUSEHOLDS, headers=self.headers(), json=body)
        assert response.status_code == 201, response.text
        self.households.append(response.json()["id"])

    async def add_member(self) -> None:
        household_id = self.rng.choice(self.households)
        _, etag = await self.read(household_id)
        response = await self.client.post(
            f"{HOUSEHOLDS}/{household_id}/members",
            headers=self.headers(etag),
            json=member("孙小华", "child", birth=self.birth()),
        )
        assert response.status_code == 201, response.text

    async def member_leaves(self) -> None:
        household_id = self.rng.choice(self.households)
        household, etag = await self.read(household_id)
        others = [m for m in household["members"] if m["relation"] != "head"]
        if not others:
            return
        response = await self.client.patch(
            f"{HOUSEHOLDS}/{household_id}/members/{self.rng.choice(others)['id']}",
            headers=self.headers(etag),
            json={"is_active": False, "left_reason": "外嫁"},
        )
        assert response.status_code == 200, response.text

    async def edit_or_move(self) -> None:
        household_id = self.rng.choice(self.households)
        household, etag = await self.read(household_id)
        change = self.rng.choice(
            [
                {"region_code": self.rng.choice([v for v in VILLAGES if v != household["region_code"]])},
                {"primary_cause": self.rng.choice(["illness", "disability", "schooling"])},
                {"attribute": self.rng.choice(["general", "dibao"])},
                {"category": self.rng.choice(["targeted", "policy_guaranteed"])},
            ]
        )
        response = await self.client.patch(
            f"{HOUSEHOLDS}/{household_id}", headers=self.headers(etag), json=change
        )
        assert response.status_code == 200, response.text

    async def remove(self) -> None:
        household_id = self.rng.choice(self.households)
        household, _ = await self.read(household_id)
        if household["status"] not in ("registered", "exited") or household["procedure"] is not None:
            return
        reviewer = self.reviewers[household["region_code"][:9].ljust(12, "0")]
        for actor, action, payload in (
            (reviewer, "propose_removal", {"comment": "错评"}),
            (reviewer, "township_review", {}),
            (self.account, "county_approve_removal", {"document_numbers": ["秦扶发〔2020〕1号"]}),
        ):
            response = await self.client.post(
                f"{HOUSEHOLDS}/{household_id}/transitions",
                headers=actor.headers,
                json={"action": action, **payload},
            )
            assert response.status_code == 200, response.text

    async def pair(self) -> None:
        household_id = self.rng.choice(self.households)
        household, _ = await self.read(household_id)
        if household["status"] not in ("registered", "exited"):
            return
        response = await self.client.post(
            "/api/v1/assignments",
            headers=self.headers(),
            json={
                "kind": "pairing",
                "cadre_id": self.cadres[household["region_code"]],
                "household_id": household_id,
            },
        )
        if response.status_code == 201:
            self.pairings.append(response.json()["id"])
        else:  # a household not out of poverty has one cadre pairing at most
            assert response.status_code == 422, response.text

    async def end_pairing(self) -> None:
        if not self.pairings:
            return
        assignment_id = self.pairings.pop(self.rng.randrange(len(self.pairings)))
        response = await self.client.post(
            f"/api/v1/assignments/{assignment_id}/end", headers=self.headers(), json={"reason": "轮换"}
        )
        assert response.status_code == 200, response.text

    async def import_households(self) -> None:
        rows = [
            row
            for _ in range(2)
            for row in household_rows(
                self.rng.choice(VILLAGES),
                members=self.rng.randint(1, 4),
                status=self.rng.choice(["registered", "exited"]),
                exited_year="",
            )
        ]
        for row in rows:
            if row["status"] == "exited":
                row["exited_year"] = "2019"
        job = await run_import(self.client, self.headers(), to_csv(rows))
        assert job["status"] == "succeeded", job


@pytest.mark.parametrize("seed", [1, 2])
async def test_rollups_kept_on_every_write_equal_a_rebuild(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any, seed: int
) -> None:
    rng = random.Random(seed)
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    writer = Writer(client, account, rng)
    for township in (TOWNSHIP_A, TOWNSHIP_B):
        writer.reviewers[township] = await account_factory(township, Role.TOWNSHIP_REVIEWER)
    for village in VILLAGES:
        writer.cadres[village] = str((await make_cadre(db, village)).id)
        for status in ("registered", "exited"):
            household = await make_household(
                db,
                village,
                status=status,
                members=rng.randint(1, 5),
                exited_year=2019 if status == "exited" else None,
            )
            writer.households.append(str(household.id))
    operations = [
        writer.create,
        writer.add_member,
        writer.member_leaves,
        writer.edit_or_move,
        writer.edit_or_move,
        writer.remove,
        writer.pair,
        writer.pair,
        writer.end_pairing,
        writer.import_households,
    ]
    for number in range(30):
        await rng.choice(operations)()
        if number % 10 == 9:
            await assert_kept_equals_rebuilt(db)
    await writer.import_households()
    await assert_kept_equals_rebuilt(db)
    assert await rollup_rows(db)  # the writes were counted at all
