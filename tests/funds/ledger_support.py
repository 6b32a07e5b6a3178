"""Helpers of the ledger tests (helper L): projects and households to pay, transfer bodies, posting through
the API with a fresh Idempotency-Key, and the consistency proof after each test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from app.db.models import Project
from app.db.session import Database
from app.domain.funds.verify import verify
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1, Account

TRANSFERS = "/api/v1/fund-transfers"
ACCOUNTS = "/api/v1/fund-accounts"


async def make_project(
    db: Database, region_code: str, *, status: str = "approved", name: str = "光伏电站"
) -> Project:
    project = Project(
        id=uuid.uuid4(),
        region_code=region_code,
        county_code=region_code[:6].ljust(12, "0"),
        fiscal_year=2020,
        name=name,
        category="photovoltaic",
        construction_type="new",
        content="100 千瓦",
        responsible_unit_name="县扶贫办",
        budget_fen=80_000_000,
        financing=[{"source": "central", "amount_fen": 80_000_000}],
        performance_targets=[{"kind": "output", "indicator": "装机容量", "target": "100 千瓦"}],
        benefit_mechanism="收益分红",
        status=status,
        created_by="user:test",
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(project)
    return project


def body(
    kind: str, debit: dict[str, Any], credit: dict[str, Any], amount: str, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "debit": debit,
        "credit": credit,
        "amount": amount,
        "fiscal_year": extra.pop("fiscal_year", 2020),
        "document_number": extra.pop("document_number", "秦财扶发〔2020〕1号"),
        "purpose": extra.pop("purpose", "产业扶贫"),
        "category": extra.pop("category", "industry"),
        **extra,
    }


def pool(region: str) -> dict[str, str]:
    return {"pool": region}


def source(name: str = "central", county: str = COUNTY) -> dict[str, str]:
    return {"source": name, "county": county}


async def send(
    client: httpx.AsyncClient, who: Account, payload: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {**who.headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(TRANSFERS, headers=headers, json=payload)


async def ok(client: httpx.AsyncClient, who: Account, payload: dict[str, Any]) -> dict[str, Any]:
    response = await send(client, who, payload)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def account(client: httpx.AsyncClient, who: Account, account_id: str) -> dict[str, Any]:
    response = await client.get(f"{ACCOUNTS}/{account_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def pool_account(client: httpx.AsyncClient, who: Account, region: str) -> dict[str, Any]:
    response = await client.get(ACCOUNTS, headers=who.headers, params={"kind": "pool", "region": region})
    assert response.status_code == 200, response.text
    match = [item for item in response.json()["items"] if item["region_code"] == region]
    assert len(match) == 1, response.text
    return match[0]  # type: ignore[no-any-return]


async def assert_consistent(db: Database) -> None:
    async with db.sessionmaker() as session:
        report = await verify(session)
    assert report.ok, report.failures


@dataclass
class Officers:
    county: Account
    county2: Account  # a second county finance officer: approves the first one's transfers
    township: Account
    village: Account


async def officers(account_factory: Any) -> Officers:
    return Officers(
        county=await account_factory(COUNTY, "finance_officer"),
        county2=await account_factory(COUNTY, "finance_officer"),
        township=await account_factory(TOWNSHIP_A, "finance_officer"),
        village=await account_factory(VILLAGE_A1, "finance_officer"),
    )


async def fund_county(
    client: httpx.AsyncClient, who: Account, amount: str = "1000.00", name: str = "central"
) -> None:
    await ok(client, who, body("appropriation", source(name), pool(COUNTY), amount, category="general"))
