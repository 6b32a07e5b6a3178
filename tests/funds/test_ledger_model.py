"""A hypothesis state machine drives the ledger (its Python API, each step a transaction of its own) with
random appropriations, allocations, disbursements, recoveries, approvals, rejections and reversals, and after
every step checks the database against a model: each account's balance and reservation per source, each
transfer's status, and every invariant of ``fupin funds verify``.

Examples are few by default (profile ``ci``); ``FUPIN_HYPOTHESIS_PROFILE=thorough`` runs many more.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from app.db.base import utcnow
from app.db.models import FundAccountSource, FundTransfer, RegionSetting
from app.db.models.funds import SOURCES
from app.db.session import Database
from app.domain.errors import Conflict, DomainError
from app.domain.funds import ledger
from app.domain.funds.settings import APPROVAL_THRESHOLD
from app.domain.funds.verify import verify
from app.domain.principal import Principal
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.factories import make_household
from tests.funds.ledger_support import make_project

T = TypeVar("T")

settings.register_profile(
    "ci",
    max_examples=10,
    stateful_step_count=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile(os.environ.get("FUPIN_HYPOTHESIS_PROFILE", "ci"))

THRESHOLD_YUAN = 50  # above 5,000 fen out of the county's accounts: pending
POOLS = (COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1)
CHILDREN = {
    COUNTY: (TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1),
    TOWNSHIP_A: (VILLAGE_A1, VILLAGE_A2),
    TOWNSHIP_B: (VILLAGE_B1,),
}
LEDGER_TABLES = (
    "fund_entries",
    "fund_transfer_sources",
    "fund_transfers",
    "fund_account_sources",
    "fund_accounts",
    "idempotency_keys",
)
amounts = st.integers(min_value=1, max_value=12_000)  # fen: some above the threshold of 5,000


def _principal(name: str) -> Principal:
    return Principal.build(
        kind="user", id=uuid.uuid4(), name=name, region_code=COUNTY, roles=["finance_officer"]
    )


@dataclass
class ModelTransfer:
    id: uuid.UUID
    debit: str
    credit: str
    split: dict[str, int]
    status: str
    maker: Principal
    reversible: bool = True
    reversed: bool = False


@dataclass
class Model:
    """What every account should hold, per source: (balance, reserved)."""

    balance: dict[tuple[str, str], int] = field(default_factory=dict)
    reserved: dict[tuple[str, str], int] = field(default_factory=dict)
    transfers: list[ModelTransfer] = field(default_factory=list)

    def available(self, account: str, external: bool) -> dict[str, int]:
        if external:
            return {}
        return {
            s: self.balance.get((account, s), 0) - self.reserved.get((account, s), 0)
            for s in SOURCES
            if self.balance.get((account, s), 0) - self.reserved.get((account, s), 0) > 0
        }

    def split(self, account: str, amount: int) -> dict[str, int] | None:
        available, out, left = self.available(account, False), {}, amount
        for s in SOURCES:
            take = min(left, available.get(s, 0))
            if take:
                out[s], left = take, left - take
        return out if left == 0 else None

    def move(self, debit: str, credit: str, split: dict[str, int], *, reserved: bool) -> None:
        for s, amount in split.items():
            self.balance[(debit, s)] = self.balance.get((debit, s), 0) - amount
            self.balance[(credit, s)] = self.balance.get((credit, s), 0) + amount
            if reserved:
                self.reserved[(debit, s)] -= amount


class LedgerMachine(RuleBasedStateMachine):
    db: Database
    loop: asyncio.AbstractEventLoop
    project_id: uuid.UUID
    household_id: uuid.UUID

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    @initialize()
    def start(self) -> None:
        self.model = Model()
        self.maker, self.checker = _principal("maker"), _principal("checker")
        self.accounts: dict[str, uuid.UUID] = {}
        self.run(self._reset())

    async def _reset(self) -> None:
        async with self.db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text(f"TRUNCATE {', '.join(LEDGER_TABLES)}"))
            else:
                for table in LEDGER_TABLES:
                    await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
        async with self.db.sessionmaker() as session, session.begin():
            for region in POOLS:
                self.accounts[region] = (await ledger.account_for_region(session, self.maker, region)).id
            for source in ("central", "county"):
                self.accounts[source] = (await ledger.source_account(session, self.maker, COUNTY, source)).id
            self.accounts["project"] = (
                await ledger.account_for_project(session, self.maker, self.project_id)
            ).id
            self.accounts["household"] = (
                await ledger.account_for_household(session, self.maker, self.household_id)
            ).id

    async def _attempt(self, work: Any) -> Any:
        try:
            async with self.db.sessionmaker() as session, session.begin():
                return await work(session)
        except DomainError as error:
            return error

    def _transfer(self, kind: str, debit: str, credit: str, amount: int, source: str | None = None) -> None:
        external = debit in ("central", "county")
        request = ledger.TransferRequest(
            kind=kind,
            debit_account_id=self.accounts[debit],
            credit_account_id=self.accounts[credit],
            amount_fen=amount,
            fiscal_year=2020,
            document_number=f"模型〔2020〕{len(self.model.transfers)}号",
            purpose="model",
            category="general",
            source=source,
        )
        result = self.run(self._attempt(lambda session: ledger.transfer(session, self.maker, request)))
        if external:
            split: dict[str, int] | None = {debit: amount}
        elif source is not None:
            split = {source: amount} if self.model.available(debit, False).get(source, 0) >= amount else None
        else:
            split = self.model.split(debit, amount)
        if split is None:
            assert isinstance(result, Conflict), result
            assert result.code == "transfer.insufficient_funds"
            return
        assert isinstance(result, FundTransfer), result
        pending = amount > THRESHOLD_YUAN * 100
        assert result.status == ("pending" if pending else "posted")
        record = ModelTransfer(result.id, debit, credit, split, result.status, self.maker)
        if pending:
            for s, value in split.items():
                self.model.reserved[(debit, s)] = self.model.reserved.get((debit, s), 0) + value
        else:
            self.model.move(debit, credit, split, reserved=False)
        self.model.transfers.append(record)

    # Rules ---------------------------------------------------------------------------------------------

    @rule(source=st.sampled_from(["central", "county"]), amount=amounts)
    def appropriate(self, source: str, amount: int) -> None:
        self._transfer("appropriation", source, COUNTY, amount)

    @rule(
        parent=st.sampled_from(sorted(CHILDREN)),
        data=st.data(),
        amount=amounts,
        source=st.none() | st.sampled_from(["central", "county"]),
    )
    def allocate(self, parent: str, data: st.DataObject, amount: int, source: str | None) -> None:
        child = data.draw(st.sampled_from(CHILDREN[parent]))
        self._transfer("allocation", parent, child, amount, source)

    @rule(amount=amounts)
    def fund_the_project(self, amount: int) -> None:
        self._transfer("allocation", VILLAGE_A1, "project", amount)

    @rule(payer=st.sampled_from([VILLAGE_A1, TOWNSHIP_A, "project"]), amount=amounts)
    def disburse(self, payer: str, amount: int) -> None:
        self._transfer("disbursement", payer, "household", amount)

    @rule(child=st.sampled_from([VILLAGE_A1, VILLAGE_A2, TOWNSHIP_A, VILLAGE_B1]), amount=amounts)
    def recover(self, child: str, amount: int) -> None:
        self._transfer("recovery", child, COUNTY, amount)

    def _pending(self) -> list[ModelTransfer]:
        return [t for t in self.model.transfers if t.status == "pending"]

    @precondition(lambda self: bool(self._pending()))
    @rule(data=st.data(), approve=st.booleans())
    def decide(self, data: st.DataObject, approve: bool) -> None:
        chosen = data.draw(st.sampled_from(self._pending()))
        action = ledger.approve if approve else ledger.reject
        # The maker may not approve; a second person may.
        if approve:
            refused = self.run(self._attempt(lambda session: ledger.approve(session, self.maker, chosen.id)))
            assert isinstance(refused, DomainError)
            assert refused.code == "transfer.own_approval"
        result = self.run(self._attempt(lambda session: action(session, self.checker, chosen.id)))
        assert isinstance(result, FundTransfer), result
        for s, value in chosen.split.items():
            if approve:
                self.model.move(chosen.debit, chosen.credit, {s: value}, reserved=True)
            else:
                self.model.reserved[(chosen.debit, s)] -= value
        chosen.status = "posted" if approve else "rejected"
        again = self.run(self._attempt(lambda session: action(session, self.checker, chosen.id)))
        assert isinstance(again, Conflict)
        assert again.code == "transfer.not_pending"

    @precondition(lambda self: any(t.status == "posted" and t.reversible for t in self.model.transfers))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        chosen = data.draw(
            st.sampled_from([t for t in self.model.transfers if t.status == "posted" and t.reversible])
        )
        result = self.run(
            self._attempt(
                lambda session: ledger.reverse(
                    session, self.maker, chosen.id, document_number="更正", purpose="model"
                )
            )
        )
        external = chosen.credit in ("central", "county")
        available = self.model.available(chosen.credit, external)
        if chosen.reversed:
            assert isinstance(result, Conflict), result
            assert result.code == "transfer.already_reversed"
            return
        if not external and any(available.get(s, 0) < v for s, v in chosen.split.items()):
            assert isinstance(result, Conflict), result
            assert result.code == "transfer.insufficient_funds"
            return
        assert isinstance(result, FundTransfer), result
        assert result.status == "posted"
        self.model.move(chosen.credit, chosen.debit, chosen.split, reserved=False)
        chosen.reversed = True
        self.model.transfers.append(
            ModelTransfer(
                result.id, chosen.credit, chosen.debit, dict(chosen.split), "posted", self.maker, False
            )
        )

    # Invariants ----------------------------------------------------------------------------------------

    @invariant()
    def matches_the_model_and_verifies(self) -> None:
        if not hasattr(self, "model"):
            return
        self.run(self._check())

    async def _check(self) -> None:
        names = {value: key for key, value in self.accounts.items()}
        async with self.db.sessionmaker() as session:
            rows = (await session.execute(select(FundAccountSource))).scalars().all()
            stored = {(names[r.account_id], r.source): (r.balance_fen, r.reserved_fen) for r in rows}
            statuses = dict((await session.execute(select(FundTransfer.id, FundTransfer.status))).all())
            report = await verify(session)
        assert report.ok, report.failures
        keys = set(stored) | set(self.model.balance) | set(self.model.reserved)
        for key in keys:
            expected = (self.model.balance.get(key, 0), self.model.reserved.get(key, 0))
            assert stored.get(key, (0, 0)) == expected, (key, stored.get(key), expected)
        for t in self.model.transfers:
            assert statuses[t.id] == t.status, t


async def test_the_ledger_agrees_with_a_model_after_every_step(db: Database, tree: dict[str, str]) -> None:
    async with db.sessionmaker() as session, session.begin():
        session.add(
            RegionSetting(
                region_code=COUNTY,
                key=APPROVAL_THRESHOLD,
                value=THRESHOLD_YUAN,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    LedgerMachine.db = db
    LedgerMachine.loop = asyncio.get_running_loop()
    LedgerMachine.project_id = (await make_project(db, VILLAGE_A1)).id
    LedgerMachine.household_id = (await make_household(db, VILLAGE_A1)).id
    await asyncio.to_thread(run_state_machine_as_test, LedgerMachine, settings=PROFILE)


def test_the_profile_keeps_the_suite_fast() -> None:
    if os.environ.get("FUPIN_HYPOTHESIS_PROFILE", "ci") == "ci":
        assert PROFILE.max_examples * PROFILE.stateful_step_count <= 300
    else:
        pytest.skip("a thorough run")
