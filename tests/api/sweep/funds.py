"""Sweep declarations of the funds ledger (helper L): accounts, their entries, transfers, approval, rejection
and reversal.

Every county of the tree gets 100 million yuan of central money; every other target region's pool 10 million
from its county. Per target region the build stores: the transfer that funded it (its region is the target),
pending transfers above the default threshold (500,000 yuan) to approve and to reject, and posted ones to
reverse, all made by an operator who is none of the sweep's principals. For a county they are
appropriations; below, recoveries from the region's pool back to its county (debit in the region, so the
region decides them). Each principal who will succeed takes a fresh transfer; a refusal uses nothing up.
The expected lists are read from the database at the end of this build; the projects sweep, which comes
after this module in DOMAINS, adds the ledger records it makes to them.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FundAccount, FundTransfer
from app.db.session import Database
from app.domain.funds import ledger
from app.domain.principal import Permission, Principal
from app.domain.regions import codes
from app.settings import Settings
from tests.api.sweep import SWEEP_LEVELS, TARGETS, Listing, Spec, Targeted, World, unique_suffix
from tests.conftest import PROVINCE

TRANSFER = "/api/v1/fund-transfers/{transfer_id}"
ACCOUNT = "/api/v1/fund-accounts/{account_id}"
ABOVE_THRESHOLD = 50_000_001  # 500,000.01 yuan: waits for approval
REVERSING_LEVELS = ("national", "province", "prefecture", "county")


def _county(region: str) -> str:
    return region[:6].ljust(12, "0")


def _is_county(region: str) -> bool:
    return codes.level_of(region) == "county"


def _deciders(region: str) -> int:
    """How many of the sweep's finance officers (one per level) will decide a transfer of the region."""
    return sum(codes.is_within(region, codes.region_prefix(level)) for level in SWEEP_LEVELS)


def _reversers(region: str) -> int:
    return sum(
        codes.is_within(region, codes.region_prefix(level))
        for level in SWEEP_LEVELS
        if codes.level_of(level) in REVERSING_LEVELS
    )


async def _move(
    session: AsyncSession, operator: Principal, kind: str, debit: uuid.UUID, credit: uuid.UUID, fen: int
) -> uuid.UUID:
    made = await ledger.transfer(
        session,
        operator,
        ledger.TransferRequest(
            kind=kind,
            debit_account_id=debit,
            credit_account_id=credit,
            amount_fen=fen,
            fiscal_year=2020,
            document_number="SWEEP-L",
            purpose="扫描测试",
            category="general",
        ),
    )
    return made.id


async def _fund(
    session: AsyncSession,
    operators: tuple[Principal, Principal],
    kind: str,
    debit: uuid.UUID,
    credit: uuid.UUID,
    fen: int,
) -> uuid.UUID:
    """Move a large amount (above the threshold: the second operator approves it)."""
    made = await _move(session, operators[0], kind, debit, credit, fen)
    await ledger.approve(session, operators[1], made)
    return made


async def build(db: Database, settings: Settings, world: World) -> None:
    operator, second = (
        Principal.build(
            kind="user", id=uuid.uuid4(), name=name, region_code=PROVINCE, roles=["finance_officer"]
        )
        for name in ("sweep-l", "sweep-l2")
    )
    async with db.sessionmaker() as session, session.begin():
        pools = {
            region: (await ledger.account_for_region(session, operator, region)).id for region in TARGETS
        }
        for county in [region for region in TARGETS if _is_county(region)]:
            source = (await ledger.source_account(session, operator, county, "central")).id
            funded = await _fund(session, (operator, second), "appropriation", source, pools[county], 10**11)
            world.add("fund_transfer", county, funded)
            world.add("fund_source", county, source)
        for region in TARGETS:
            if _is_county(region):
                debit, credit, kind = world.id("fund_source", region), pools[region], "appropriation"
            else:
                county_pool = pools[_county(region)]
                funded = await _fund(
                    session, (operator, second), "allocation", county_pool, pools[region], 10**9
                )
                world.add("fund_transfer", region, funded)
                debit, credit, kind = pools[region], pools[_county(region)], "recovery"
            for pile, amount, takers in (
                ("fund_approve", ABOVE_THRESHOLD, _deciders(region)),
                ("fund_reject", ABOVE_THRESHOLD, _deciders(region)),
                ("fund_reverse", 100, _reversers(region)),
            ):
                made = [await _move(session, operator, kind, debit, credit, amount) for _ in range(takers)]
                world.add(pile, region, iter(made))
            world.add("fund_account", region, pools[region])
        # The test's own view of every record, not a scoped read.
        accounts = (await session.scalars(select(FundAccount.region_code))).all()
        transfers = (await session.scalars(select(FundTransfer.region_code))).all()
    world.records["fund_account_regions"] = {"list": list(accounts)}
    world.records["fund_transfer_regions"] = {"list": list(transfers)}


def _in_scope(p: Principal, region: str) -> bool:
    return codes.is_within(region, p.scope_prefix)


def _may_decide(p: Principal) -> bool:
    return p.can(Permission.FUNDS_APPROVE)


def _may_reverse(p: Principal) -> bool:
    """Both accounts of the region's transfers to reverse (the region's and its county's) in scope."""
    return p.can(Permission.FUNDS_WRITE) and codes.level_of(p.region_code) in REVERSING_LEVELS


def _fresh(pile: str, may: Any) -> Any:
    def pick(w: World, region: str, p: Principal) -> uuid.UUID:
        if may(p) and _in_scope(p, region):
            return next(w.id(pile, region))  # type: ignore[no-any-return]
        return w.id("fund_transfer", region)  # a refusal does not depend on the transfer's state

    return pick


def _decision(pile: str, action: str) -> Targeted:
    pick = _fresh(pile, _may_decide)
    return Targeted(
        Permission.FUNDS_APPROVE,
        lambda w, region, p: {"path": {"transfer_id": pick(w, region, p)}, "json": {"note": action}},
    )


def _new_transfer(w: World, region: str, p: Principal) -> dict[str, Any]:
    if _is_county(region):
        kind, debit, credit = "allocation", {"pool": region}, {"pool": region[:6] + "100000"}
    else:
        kind, debit, credit = "recovery", {"pool": region}, {"pool": _county(region)}
    return {
        "json": {
            "kind": kind,
            "debit": debit,
            "credit": credit,
            "amount": "1.00",
            "fiscal_year": 2020,
            "document_number": "SWEEP-L-新",
            "purpose": "扫描测试",
            "category": "general",
        },
        "headers": {"Idempotency-Key": f"sweep-{unique_suffix()}"},
    }


def _reverse_request(w: World, region: str, p: Principal) -> dict[str, Any]:
    return {
        "path": {"transfer_id": _fresh("fund_reverse", _may_reverse)(w, region, p)},
        "json": {"document_number": "SWEEP-L-更正", "purpose": "扫描测试"},
        "headers": {"Idempotency-Key": f"sweep-{unique_suffix()}"},
    }


def _account(w: World, region: str, p: Principal) -> dict[str, Any]:
    return {"path": {"account_id": w.id("fund_account", region)}}


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/fund-accounts"): Listing(
        Permission.FUNDS_READ, "/api/v1/fund-accounts", lambda w: w.records["fund_account_regions"]["list"]
    ),
    ("GET", ACCOUNT): Targeted(Permission.FUNDS_READ, _account),
    ("GET", ACCOUNT + "/entries"): Targeted(Permission.FUNDS_READ, _account),
    ("GET", "/api/v1/fund-transfers"): Listing(
        Permission.FUNDS_READ, "/api/v1/fund-transfers", lambda w: w.records["fund_transfer_regions"]["list"]
    ),
    ("POST", "/api/v1/fund-transfers"): Targeted(
        Permission.FUNDS_WRITE, _new_transfer, permission_first=True
    ),
    ("GET", TRANSFER): Targeted(
        Permission.FUNDS_READ, lambda w, region, p: {"path": {"transfer_id": w.id("fund_transfer", region)}}
    ),
    ("POST", TRANSFER + "/approve"): _decision("fund_approve", "同意"),
    ("POST", TRANSFER + "/reject"): _decision("fund_reject", "不同意"),
    ("POST", TRANSFER + "/reverse"): Targeted(Permission.FUNDS_WRITE, _reverse_request, allows=_may_reverse),
}
