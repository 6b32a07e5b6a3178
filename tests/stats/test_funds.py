"""The fund figures of region statistics are the fund report's, for every region, kept on every posting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.db.session import Database
from app.domain.stats.rollups import rebuild_all
from app.settings import Settings
from tests.conftest import (
    COUNTY,
    PREFECTURE,
    PROVINCE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
)
from tests.funds.test_projects_helpers import build_ledger

pytestmark = pytest.mark.usefixtures("tree")
REGIONS = (PROVINCE, PREFECTURE, COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1)


async def _both(client: httpx.AsyncClient, headers: dict[str, str], code: str) -> tuple[Any, Any]:
    report = await client.get(f"/api/v1/regions/{code}/fund-report?fiscal_year=2020", headers=headers)
    stats = await client.get(f"/api/v1/regions/{code}/stats?year=2020", headers=headers)
    assert report.status_code == 200, report.text
    assert stats.status_code == 200, stats.text
    return report.json()["total"], stats.json()["funds"]


async def test_fund_figures_equal_the_fund_report_at_every_level(
    client: httpx.AsyncClient, account_factory: Any, db: Database, settings: Settings
) -> None:
    await build_ledger(db, settings)
    reader = await account_factory(PROVINCE, "inspector")
    for code in REGIONS:
        total, funds = await _both(client, reader.headers, code)
        assert funds["received"] == total["received"], code
        assert funds["disbursed"] == total["disbursed"], code
        assert funds["balance"] == total["balance"], code
        expected = None if total["balance_ratio"] is None else float(Decimal(total["balance_ratio"]))
        assert funds["balance_ratio"] == expected, code
    county_total, _ = await _both(client, reader.headers, COUNTY)
    assert county_total["received"] == "1500.00"  # the scenario really moved money

    kept = {code: (await _both(client, reader.headers, code))[1] for code in REGIONS}
    async with db.sessionmaker() as session, session.begin():
        await rebuild_all(session)
    assert kept == {code: (await _both(client, reader.headers, code))[1] for code in REGIONS}
