"""Sweep declarations of the project library, fund reports and fund notices (helper J).

Every village holds a completed project that shares income, with the plans sweep's registered household as
its beneficiary and 100 yuan in its account, allocated straight from the county pool after the county's
central appropriation (document numbers ``SWEEP-J-<region>``: one batch per county and per village). Pools
of planned and approved projects per village serve the routes that use a project up (delete, transitions):
every project writer takes a fresh one. Each village also holds a notice publication. This module comes
after the plans sweep in DOMAINS (it uses its households).

The ledger records made here are added to ``world.records["fund_account_regions"]`` and
``["fund_transfer_regions"]`` (a region per record), the ledger sweep's lists: that module comes first.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.db.base import utcnow
from app.db.models import FundAccount, FundTransfer, NoticePublication, Project, ProjectBeneficiary
from app.db.session import Database
from app.domain import clock
from app.domain.funds import ledger
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.settings import Settings
from tests.api.sweep import VILLAGES, Listing, Spec, Targeted, World, unique_suffix
from tests.conftest import COUNTY, OTHER_COUNTY, PROVINCE

PROJECT = "/api/v1/projects/{project_id}"
PUBLICATION = "/api/v1/fund-notices/publications/{publication_id}"
POOL_SIZE = 3  # one per principal who may use a project up: a project writer at county, township, village
PROJECT_REGIONS = (*VILLAGES, "620522100000", "620522101000")


def _project(region: str, status: str, **fields: Any) -> Project:
    return Project(
        id=uuid.uuid4(),
        region_code=region,
        county_code=region[:6].ljust(12, "0"),
        fiscal_year=2020,
        name=f"扫描项目 {status}",
        category="photovoltaic",
        construction_type="new",
        content="村级光伏电站",
        responsible_unit_name="县扶贫开发办公室",
        budget_fen=100_000,
        financing=[],
        performance_targets=[{"kind": "output", "indicator": "装机容量", "target": "100 千瓦"}],
        benefit_mechanism="收益分红",
        status=status,
        income_sharing_basis="equal",
        income_shared_fen=0,
        approved_at=utcnow() - timedelta(days=30) if status != "planned" else None,
        created_by="user:sweep",
        **fields,
    )


async def build(db: Database, settings: Settings, world: World) -> None:
    operator = Principal.build(
        kind="user", id=uuid.uuid4(), name="sweep", region_code=PROVINCE, roles=["finance_officer"]
    )
    before = await _ledger_rows(db)
    async with db.sessionmaker() as s, s.begin():
        planned = [_project(region, "planned") for region in VILLAGES for _ in range(POOL_SIZE)]
        approved = [_project(region, "approved") for region in VILLAGES for _ in range(POOL_SIZE)]
        s.add_all(planned + approved)
        await s.flush()
    for region in VILLAGES:
        world.add("j_planned", region, iter([p.id for p in planned if p.region_code == region]))
        world.add("j_approved", region, iter([p.id for p in approved if p.region_code == region]))
    appropriated: set[str] = set()
    for village in VILLAGES:
        household_id = world.id("plan_household", village)  # the plans sweep's registered household
        world.add("j_household", village, household_id)
        county = village[:6].ljust(12, "0")
        async with db.sessionmaker() as s, s.begin():
            project = _project(village, "completed", actual_start=clock.today() - timedelta(days=20))
            s.add(project)
            await s.flush()
            s.add(
                ProjectBeneficiary(
                    project_id=project.id,
                    household_id=household_id,
                    region_code=village,
                    added_by="user:sweep",
                    added_at=utcnow(),
                )
            )
            publication = NoticePublication(
                region_code=village,
                subject="project",
                project_id=project.id,
                published_on=clock.today() - timedelta(days=20),
                board_location="村委会公示栏",
                created_by="user:sweep",
            )
            s.add(publication)
            pool = (await ledger.account_for_region(s, operator, county)).id
            project_account = (await ledger.account_for_project(s, operator, project.id)).id
            if county not in appropriated:
                appropriated.add(county)
                source = (await ledger.source_account(s, operator, county, "central")).id
                await _move(s, operator, "appropriation", source, pool, 10_000_00, county)
            # Straight from the county pool to the village's project: the batch of the village.
            await _move(s, operator, "allocation", pool, project_account, 100_00, village)
        world.add("j_project", village, project.id)
        world.add("j_publication", village, publication.id)
    # The ledger's list sweeps expect every account and transfer: add the ones made here.
    after = await _ledger_rows(db)
    for kind, rows in after.items():
        new = [region for row_id, region in rows.items() if row_id not in before[kind]]
        world.records.setdefault(f"{kind}_regions", {"list": []})["list"].extend(new)


async def _ledger_rows(db: Database) -> dict[str, dict[uuid.UUID, str]]:
    async with db.sessionmaker() as s:
        accounts = (await s.execute(select(FundAccount.id, FundAccount.region_code))).all()
        transfers = (await s.execute(select(FundTransfer.id, FundTransfer.region_code))).all()
    return {
        "fund_account": {row.id: row.region_code for row in accounts},
        "fund_transfer": {row.id: row.region_code for row in transfers},
    }


async def _move(
    s: Any,
    operator: Principal,
    kind: str,
    debit: uuid.UUID,
    credit: uuid.UUID,
    fen: int,
    region: str,
    tag: str = "",
) -> None:
    await ledger.transfer(
        s,
        operator,
        ledger.TransferRequest(
            kind=kind,
            debit_account_id=debit,
            credit_account_id=credit,
            amount_fen=fen,
            fiscal_year=2020,
            document_number=f"SWEEP-J-{tag}{region}",
            purpose="扫描测试",
            category="general",
        ),
    )


def _may_publish(principal: Principal) -> bool:
    return principal.can(Permission.FUNDS_WRITE) or principal.can(Permission.PROJECTS_WRITE)


def _used_up(kind: str, w: World, region: str, p: Principal) -> uuid.UUID:
    """A fresh project of the pool for a principal who will succeed, else the village's project (a refusal
    uses nothing up)."""
    if p.can(Permission.PROJECTS_WRITE) and codes.is_within(region, p.scope_prefix):
        return next(w.id(kind, region))  # type: ignore[no-any-return]
    return w.id("j_project", region)  # type: ignore[no-any-return]


def _read_project() -> Targeted:
    return Targeted(
        Permission.FUNDS_READ,
        lambda w, region, p: {"path": {"project_id": w.id("j_project", region)}},
        targets=VILLAGES,
    )


BATCH_TARGETS = (COUNTY, OTHER_COUNTY, *VILLAGES)  # the batches built: a county's, a village's

SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/projects"): Listing(
        Permission.FUNDS_READ,
        "/api/v1/projects",
        lambda w: [region for region in VILLAGES for _ in range(2 * POOL_SIZE + 1)],
    ),
    ("POST", "/api/v1/projects"): Targeted(
        Permission.PROJECTS_WRITE,
        lambda w, region, p: {
            "json": {
                "region_code": region,
                "name": f"新项目 {unique_suffix()}",
                "category": "infrastructure",
                "construction_type": "new",
                "fiscal_year": 2021,
                "budget": "1000.00",
                "responsible_unit_name": "乡政府",
                "performance_targets": [{"indicator": "道路长度", "target": "2 公里"}],
            }
        },
        permission_first=True,
        targets=PROJECT_REGIONS,
    ),
    ("GET", PROJECT): _read_project(),
    ("PATCH", PROJECT): Targeted(
        Permission.PROJECTS_WRITE,
        lambda w, region, p: {
            "path": {"project_id": w.id("j_project", region)},
            "json": {"location": f"一组 {unique_suffix()}"},
            "headers": {"If-Match": "*"},
        },
        targets=VILLAGES,
    ),
    ("DELETE", PROJECT): Targeted(
        Permission.PROJECTS_WRITE,
        lambda w, region, p: {
            "path": {"project_id": _used_up("j_planned", w, region, p)},
            "headers": {"If-Match": "*"},
        },
        targets=VILLAGES,
    ),
    ("POST", PROJECT + "/transitions"): Targeted(
        Permission.PROJECTS_WRITE,
        lambda w, region, p: {
            "path": {"project_id": _used_up("j_approved", w, region, p)},
            "json": {"status": "under_construction"},
        },
        targets=VILLAGES,
    ),
    ("GET", PROJECT + "/beneficiaries"): _read_project(),
    ("POST", PROJECT + "/beneficiaries"): Targeted(
        Permission.PROJECTS_WRITE,
        lambda w, region, p: {
            "path": {"project_id": w.id("j_project", region)},
            "json": {"households": [{"household_id": str(w.id("j_household", region)), "share_weight": 2}]},
        },
        targets=VILLAGES,
    ),
    ("DELETE", PROJECT + "/beneficiaries/{household_id}"): Targeted(
        Permission.PROJECTS_WRITE,
        lambda w, region, p: {
            "path": {"project_id": w.id("j_project", region), "household_id": str(uuid.uuid4())},
        },
        targets=VILLAGES,
    ),
    ("POST", PROJECT + "/income-sharing"): Targeted(
        Permission.FUNDS_WRITE,
        lambda w, region, p: {
            "path": {"project_id": w.id("j_project", region)},
            "json": {"amount": "0.01", "fiscal_year": 2020, "document_number": "SWEEP-J-分红"},
            "headers": {"Idempotency-Key": f"sweep-{unique_suffix()}"},
        },
        targets=VILLAGES,
    ),
    ("GET", PROJECT + "/notice"): _read_project(),
    ("GET", "/api/v1/regions/{code}/fund-report"): Targeted(
        Permission.FUNDS_READ,
        lambda w, region, p: {"path": {"code": region}, "params": {"fiscal_year": 2020}},
    ),
    ("GET", "/api/v1/regions/{code}/fund-notices/overdue"): Targeted(
        Permission.FUNDS_READ, lambda w, region, p: {"path": {"code": region}}
    ),
    ("GET", "/api/v1/fund-notices/batch"): Targeted(
        Permission.FUNDS_READ,
        lambda w, region, p: {"params": {"document_number": f"SWEEP-J-{region}"}},
        targets=BATCH_TARGETS,
    ),
    ("POST", "/api/v1/fund-notices/publications"): Targeted(
        Permission.FUNDS_WRITE,
        lambda w, region, p: {
            "json": {
                "subject": "project",
                "project_id": str(w.id("j_project", region)),
                "region_code": region,
                "published_on": clock.today().isoformat(),
                "board_location": f"村委会公示栏 {unique_suffix()}",
            }
        },
        permission_first=True,
        allows=_may_publish,
        targets=VILLAGES,
    ),
    ("GET", "/api/v1/fund-notices/publications"): Listing(
        Permission.FUNDS_READ, "/api/v1/fund-notices/publications", lambda w: w.regions("j_publication")
    ),
    ("GET", PUBLICATION): Targeted(
        Permission.FUNDS_READ,
        lambda w, region, p: {"path": {"publication_id": w.id("j_publication", region)}},
        targets=VILLAGES,
    ),
    ("PATCH", PUBLICATION): Targeted(
        Permission.FUNDS_WRITE,
        lambda w, region, p: {
            "path": {"publication_id": w.id("j_publication", region)},
            "json": {"taken_down_on": clock.today().isoformat()},
        },
        allows=_may_publish,
        targets=VILLAGES,
    ),
}
