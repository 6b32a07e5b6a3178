"""Shared by the lifecycle tests: a movable clock, the actors at each level, and short ways to take steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.domain import clock
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, Account

HOUSEHOLDS = "/api/v1/households"
# Late enough for last year's national line (2020: 4000 yuan) to be seeded.
START = date(2021, 3, 1)


@dataclass
class Clock:
    """The service's date, moved by the test; timestamps keep the real time of day, so they stay ordered."""

    day: date

    def now(self) -> datetime:
        return datetime.combine(self.day, datetime.now(UTC).time(), UTC)

    def travel(self, days: int) -> date:
        self.day += timedelta(days=days)
        return self.day

    def set(self, day: date) -> None:
        self.day = day


@pytest.fixture
def time_machine(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock(START)
    monkeypatch.setattr(clock, "today", lambda: moved.day)
    monkeypatch.setattr(clock, "now", moved.now)
    return moved


@dataclass
class Actors:
    village: Account  # village clerk of VILLAGE_A1
    township: Account  # township reviewer of TOWNSHIP_A
    county: Account  # county officer of COUNTY
    township_clerk: Account  # a village clerk account at TOWNSHIP_A (townships enter for villages)


@pytest.fixture
async def actors(account_factory, tree) -> Actors:  # type: ignore[no-untyped-def]
    return Actors(
        village=await account_factory(VILLAGE_A1, "village_clerk"),
        township=await account_factory(TOWNSHIP_A, "township_reviewer"),
        county=await account_factory(COUNTY, "county_officer"),
        township_clerk=await account_factory(TOWNSHIP_A, "village_clerk"),
    )


def url(household_id: Any, tail: str = "") -> str:
    return f"{HOUSEHOLDS}/{household_id}{tail}"


async def take(
    client: httpx.AsyncClient, account: Account, household_id: Any, action: str, **payload: Any
) -> httpx.Response:
    return await client.post(
        url(household_id, "/transitions"), headers=account.headers, json={"action": action, **payload}
    )


async def step(
    client: httpx.AsyncClient, account: Account, household_id: Any, action: str, **payload: Any
) -> dict[str, Any]:
    """A step that must succeed: the household after it."""
    response = await take(client, account, household_id, action, **payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def history(client: httpx.AsyncClient, account: Account, household_id: Any) -> list[dict[str, Any]]:
    response = await client.get(url(household_id, "/history"), headers=account.headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def available(client: httpx.AsyncClient, account: Account, household_id: Any) -> dict[str, Any]:
    response = await client.get(url(household_id, "/transitions"), headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def action_of(view: dict[str, Any], action: str) -> dict[str, Any]:
    matches = [item for item in view["actions"] if item["action"] == action]
    assert len(matches) == 1, (action, [item["action"] for item in view["actions"]])
    return matches[0]


def reason_codes(item: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in item["reasons"]]


async def household(client: httpx.AsyncClient, account: Account, household_id: Any) -> dict[str, Any]:
    response = await client.get(url(household_id), headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def object_to(
    client: httpx.AsyncClient, account: Account, household_id: Any, raised_on: date, content: str = "收入不实"
) -> dict[str, Any]:
    response = await client.post(
        url(household_id, "/objections"),
        headers=account.headers,
        json={"raised_on": raised_on.isoformat(), "raised_by": "村民代表", "content": content},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def resolve(
    client: httpx.AsyncClient, account: Account, household_id: Any, objection_id: str
) -> httpx.Response:
    return await client.post(
        url(household_id, f"/objections/{objection_id}/resolve"),
        headers=account.headers,
        json={"resolution": "经核实, 异议不成立"},
    )
