"""The fund report (资金报表): every figure against a hand computation of the ledger scenario in
tests/funds/test_projects_helpers.py (amounts in yuan there), scope and roles."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from app.db.session import Database
from app.settings import Settings
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    assert_problem,
)
from tests.funds.test_projects_helpers import build_ledger

pytestmark = pytest.mark.usefixtures("tree")


def url(code: str, year: int = 2020) -> str:
    return f"/api/v1/regions/{code}/fund-report?fiscal_year={year}"


def figures(row: dict, *names: str) -> dict:  # type: ignore[type-arg]
    return {name: row[name] for name in names}


MONEY = ("received", "allocated_on", "disbursed", "returned", "sent_down", "reserved", "balance")


async def test_the_county_report_matches_a_hand_computation(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    reader = await account_factory(COUNTY, "inspector")
    response = await client.get(url(COUNTY), headers=reader.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    # Received: the two appropriations. Disbursed: 250 + 50 paid, 20 recovered from a household. The
    # allocation to township B and its reversal cancel out. Balance: 1500 − 280 = 1220, which is what the
    # accounts hold (county 630, A 200, A1 170, project 150, A2 70).
    assert report["total"] == {
        "received": "1500.00",
        "allocated_on": "900.00",
        "disbursed": "280.00",
        "returned": "0.00",
        "sent_down": "0.00",
        "reserved": "80.00",
        "balance": "1220.00",
        "balance_ratio": "0.8133",  # 1220 / 1500 = 0.81333…
        "disbursement_progress": "0.1867",  # 280 / 1500 = 0.18666…
    }
    own = report["own_level"]
    assert figures(own, "received", "sent_down", "balance") == {
        "received": "1530.00",  # 1500 appropriated + 30 recovered from A2
        "sent_down": "900.00",
        "balance": "630.00",
    }
    children = {child["region_code"]: child for child in report["children"]}
    assert set(children) == {TOWNSHIP_A, TOWNSHIP_B}
    assert figures(children[TOWNSHIP_A], *MONEY) == {
        "received": "900.00",
        "allocated_on": "700.00",
        "disbursed": "280.00",
        "returned": "30.00",
        "sent_down": "0.00",
        "reserved": "80.00",
        "balance": "590.00",
    }
    assert children[TOWNSHIP_A]["balance_ratio"] == "0.6556"
    assert children[TOWNSHIP_B]["received"] == "0.00"
    assert children[TOWNSHIP_B]["balance_ratio"] is None
    # The parts add up: own level + children = the total balance.
    assert Decimal(own["balance"]) + sum(Decimal(c["balance"]) for c in report["children"]) == Decimal(
        "1220.00"
    )
    by_source = {row["source"]: row for row in report["by_source"]}
    assert [row["source"] for row in report["by_source"]] == ["central", "provincial"]
    assert figures(by_source["central"], "received", "disbursed", "balance", "balance_ratio") == {
        "received": "1000.00",
        "disbursed": "280.00",
        "balance": "720.00",
        "balance_ratio": "0.7200",
    }
    assert figures(by_source["provincial"], "received", "disbursed", "balance") == {
        "received": "500.00",
        "disbursed": "0.00",
        "balance": "500.00",
    }
    by_category = {row["category"]: row for row in report["by_category"]}
    assert by_category["photovoltaic"]["disbursed"] == "230.00"  # 250 paid, 20 recovered
    assert by_category["industry"]["disbursed"] == "50.00"
    assert by_category["industry"]["reserved"] == "80.00"
    assert sum(Decimal(row["balance"]) for row in report["by_category"]) == Decimal("1220.00")


async def test_a_township_and_a_village_report(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    township = await account_factory(TOWNSHIP_A, "township_reviewer")
    report = (await client.get(url(TOWNSHIP_A), headers=township.headers)).json()
    assert figures(report["total"], "received", "returned", "disbursed", "balance", "balance_ratio") == {
        "received": "900.00",
        "returned": "30.00",
        "disbursed": "280.00",
        "balance": "590.00",
        "balance_ratio": "0.6556",
    }
    children = {child["region_code"]: child for child in report["children"]}
    assert figures(children[VILLAGE_A1], "received", "allocated_on", "disbursed", "reserved", "balance") == {
        "received": "600.00",
        "allocated_on": "400.00",
        "disbursed": "280.00",
        "reserved": "80.00",
        "balance": "320.00",  # pool 170 + project 150
    }
    assert figures(children[VILLAGE_A2], "received", "returned", "balance") == {
        "received": "100.00",
        "returned": "30.00",
        "balance": "70.00",
    }
    assert figures(report["own_level"], "received", "sent_down", "balance") == {
        "received": "900.00",
        "sent_down": "700.00",
        "balance": "200.00",
    }
    village = (await client.get(url(VILLAGE_A1), headers=township.headers)).json()
    assert village["children"] == []
    assert village["own_level"] is None
    assert village["total"]["disbursement_progress"] == "0.4667"  # 280 / 600


async def test_nothing_received_gives_null_ratios_and_another_year_is_empty(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    reader = await account_factory(COUNTY, "data_consumer")
    report = (await client.get(url(COUNTY, 2019), headers=reader.headers)).json()
    assert report["total"]["received"] == "0.00"
    assert report["total"]["balance_ratio"] is None
    assert report["total"]["disbursement_progress"] is None
    assert report["by_source"] == []
    assert report["by_category"] == []


async def test_the_report_is_scoped(
    client: httpx.AsyncClient, account_factory, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    township = await account_factory(TOWNSHIP_B, "township_reviewer")
    assert_problem(await client.get(url(TOWNSHIP_A), headers=township.headers), 404)
    assert_problem(await client.get(url(COUNTY), headers=township.headers), 404)
    county = await account_factory(COUNTY, "finance_officer")
    assert_problem(await client.get(url(OTHER_COUNTY), headers=county.headers), 404)
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(url(COUNTY), headers=admin.headers), 403)
    assert_problem(await client.get(f"/api/v1/regions/{COUNTY}/fund-report", headers=county.headers), 422)
