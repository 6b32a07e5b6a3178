"""Helpers of J's tests (projects, reports, notices): a project body, entering and advancing a project, and a
small ledger built through helper L's ledger API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from app.db.models import FundTransfer, Household, Project, RegionSetting
from app.db.session import Database
from app.domain.funds import ledger
from app.domain.principal import Principal
from app.settings import Settings
from tests.conftest import (
    COUNTY,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    Account,
    make_user,
)
from tests.factories import make_household

PROJECTS = "/api/v1/projects"


def project_body(region_code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region_code": region_code,
        "name": "光伏扶贫电站",
        "category": "photovoltaic",
        "construction_type": "new",
        "content": "建设 100 千瓦村级光伏电站一座",
        "fiscal_year": 2020,
        "planned_start": "2020-03-01",
        "planned_end": "2020-09-30",
        "responsible_unit_name": "县扶贫开发办公室",
        "budget": "800000.00",
        "financing": [
            {"source": "central", "amount": "500000.00"},
            {"source": "provincial", "amount": "200000.00"},
            {"source": "county", "amount": "100000.00"},
        ],
        "performance_targets": [
            {"kind": "output", "indicator": "装机容量", "target": "100 千瓦"},
            {"kind": "benefit", "indicator": "带动贫困户增收", "target": "户均 3000 元/年"},
        ],
        "benefit_mechanism": "电站收益的 60% 用于贫困户分红",
        "income_sharing_basis": "equal",
        "expected_annual_income": "90000.00",
    }
    body.update(overrides)
    return body


async def enter_project(
    client: httpx.AsyncClient, account: Account, region_code: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        PROJECTS, headers=account.headers, json=project_body(region_code, **overrides)
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def advance(
    client: httpx.AsyncClient, account: Account, project_id: str, *statuses: str, on: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for status in statuses:
        response = await client.post(
            f"{PROJECTS}/{project_id}/transitions",
            headers=account.headers,
            json={"status": status, **({"on": on} if on else {})},
        )
        assert response.status_code == 200, response.text
        body = response.json()
    return body


# A small ledger, built through helper L's ledger API ---------------------------------------------------

YUAN = 100  # fen


@dataclass
class Ledger:
    """The scenario of the report tests (amounts in yuan, fiscal year 2020):

    appropriations central 1000 + provincial 500 into the county pool; county → township A 900, county →
    township B 300 (reversed); A → village A1 600, A → A2 100; A1 → project P 400; P → household H 250;
    A1 → household H2 50; H → A1 recovered 20; A2 → county recovered 30; A1 → H 80 pending (A1's approval
    threshold is then set to 60 yuan)."""

    finance: Principal
    project: Project
    households: list[Household]
    transfers: dict[str, FundTransfer]


async def build_ledger(db: Database, settings: Settings) -> Ledger:
    finance = (await make_user(db, settings, region_code=COUNTY, roles=["finance_officer"])).principal
    h = await make_household(db, VILLAGE_A1)
    h2 = await make_household(db, VILLAGE_A1)
    transfers: dict[str, FundTransfer] = {}
    async with db.sessionmaker() as s, s.begin():
        project = Project(
            region_code=VILLAGE_A1,
            county_code=COUNTY,
            fiscal_year=2020,
            name="王家庄村光伏电站",
            category="photovoltaic",
            construction_type="new",
            content="100 千瓦村级光伏电站",
            responsible_unit_name="县扶贫开发办公室",
            budget_fen=400 * YUAN,
            financing=[{"source": "central", "amount_fen": 400 * YUAN}],
            performance_targets=[{"kind": "output", "indicator": "装机容量", "target": "100 千瓦"}],
            benefit_mechanism="收益分红",
            status="approved",
            income_sharing_basis="equal",
            created_by="user:test",
        )
        s.add(project)
        await s.flush()
        # Ids, not objects: a transfer expires the accounts it locks.
        pool = {
            code: (await ledger.account_for_region(s, finance, code)).id
            for code in (COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, VILLAGE_A2)
        }
        central = (await ledger.source_account(s, finance, COUNTY, "central")).id
        provincial = (await ledger.source_account(s, finance, COUNTY, "provincial")).id
        p = (await ledger.account_for_project(s, finance, project.id)).id
        payee = (await ledger.account_for_household(s, finance, h.id)).id
        payee2 = (await ledger.account_for_household(s, finance, h2.id)).id

        async def move(
            name: str,
            kind: str,
            debit: uuid.UUID,
            credit: uuid.UUID,
            yuan: int,
            category: str = "general",
            doc: str = "秦财农〔2020〕1号",
        ) -> None:
            transfers[name] = await ledger.transfer(
                s,
                finance,
                ledger.TransferRequest(
                    kind=kind,
                    debit_account_id=debit,
                    credit_account_id=credit,
                    amount_fen=yuan * YUAN,
                    fiscal_year=2020,
                    document_number=doc,
                    purpose=f"测试 {name}",
                    category=category,
                ),
            )

        await move("central", "appropriation", central, pool[COUNTY], 1000)
        await move("provincial", "appropriation", provincial, pool[COUNTY], 500)
        await move("to_a", "allocation", pool[COUNTY], pool[TOWNSHIP_A], 900, doc="秦财农〔2020〕5号")
        await move("to_b", "allocation", pool[COUNTY], pool[TOWNSHIP_B], 300, doc="秦财农〔2020〕5号")
        transfers["to_b_reversed"] = await ledger.reverse(
            s, finance, transfers["to_b"].id, document_number="秦财农〔2020〕6号", purpose="错拨更正"
        )
        await move("to_a1", "allocation", pool[TOWNSHIP_A], pool[VILLAGE_A1], 600)
        await move("to_a2", "allocation", pool[TOWNSHIP_A], pool[VILLAGE_A2], 100)
        await move(
            "to_p", "allocation", pool[VILLAGE_A1], p, 400, category="photovoltaic", doc="秦财农〔2020〕9号"
        )
        await move("pay_h", "disbursement", p, payee, 250, category="photovoltaic")
        await move("pay_h2", "disbursement", pool[VILLAGE_A1], payee2, 50, category="industry")
        await move("back_h", "recovery", payee, pool[VILLAGE_A1], 20, category="photovoltaic")
        await move("back_a2", "recovery", pool[VILLAGE_A2], pool[COUNTY], 30)
        s.add(RegionSetting(region_code=VILLAGE_A1, key="fund_approval_threshold_yuan", value=60))
        await s.flush()
        await move("pending", "disbursement", pool[VILLAGE_A1], payee, 80, category="industry")
    assert transfers["pending"].status == "pending"
    return Ledger(finance, project, [h, h2], transfers)
