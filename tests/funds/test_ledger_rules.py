"""Every refusal of a transfer, with its problem code, and that a refused transfer moves nothing: roles,
scope, the direction of the chain, the project library, payees, sources, amounts and input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.db.session import Database
from app.domain.funds import rules
from app.domain.funds.rules import Side
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    assert_problem,
)
from tests.factories import make_household
from tests.funds.ledger_support import (
    TRANSFERS,
    Officers,
    assert_consistent,
    body,
    fund_county,
    make_project,
    officers,
    ok,
    pool,
    pool_account,
    send,
    source,
)


@pytest.fixture
async def people(tree: dict[str, str], account_factory) -> Officers:  # type: ignore[no-untyped-def]
    people = await officers(account_factory)
    return people


@pytest.fixture
async def funded(client: httpx.AsyncClient, people: Officers) -> Officers:
    """1,000 yuan in the county pool, 300 of it allocated to township A, 100 of that to village A1."""
    await fund_county(client, people.county, "1000.00")
    await ok(client, people.county, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "300.00"))
    await ok(client, people.township, body("allocation", pool(TOWNSHIP_A), pool(VILLAGE_A1), "100.00"))
    return people


async def _refused(
    client: httpx.AsyncClient, db: Database, who: Any, payload: dict[str, Any], status: int, code: str
) -> None:
    before = (await client.get(TRANSFERS, headers=who.headers)).json()["items"] if status != 403 else None
    assert_problem(await send(client, who, payload), status, code)
    if before is not None:
        assert (await client.get(TRANSFERS, headers=who.headers)).json()["items"] == before
    await assert_consistent(db)


# Roles ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["county_officer", "township_reviewer", "village_clerk", "inspector", "data_consumer"]
)
async def test_only_finance_officers_move_money(
    client: httpx.AsyncClient, db: Database, funded: Officers, account_factory, role: str
) -> None:  # type: ignore[no-untyped-def]
    other = await account_factory(COUNTY, role)
    await _refused(
        client, db, other, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "1.00"), 403, "auth.forbidden"
    )
    # ... but every one of them reads the ledger.
    assert (await client.get(TRANSFERS, headers=other.headers)).status_code == 200


async def test_an_admin_neither_reads_nor_moves_money(
    client: httpx.AsyncClient, db: Database, funded: Officers, account_factory
) -> None:  # type: ignore[no-untyped-def]
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(TRANSFERS, headers=admin.headers), 403, "auth.forbidden")
    await _refused(
        client, db, admin, body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "1.00"), 403, "auth.forbidden"
    )


async def test_appropriations_need_a_county_level_officer(
    client: httpx.AsyncClient, db: Database, funded: Officers, account_factory
) -> None:  # type: ignore[no-untyped-def]
    # A township officer cannot even name the county's source account (outside their scope).
    await _refused(
        client,
        db,
        funded.township,
        body("appropriation", source(), pool(COUNTY), "1.00"),
        404,
        "fund_account.not_found",
    )
    province = await account_factory("620000000000", "finance_officer")
    made = await ok(client, province, body("appropriation", source("provincial"), pool(COUNTY), "5.00"))
    assert made["sources"] == [{"source": "provincial", "amount": "5.00"}]
    # An appropriation goes into the source's own county.
    await _refused(
        client,
        db,
        province,
        body("appropriation", source("central", COUNTY), pool(OTHER_COUNTY), "1.00"),
        422,
        "transfer.not_own_county",
    )
    await _refused(
        client,
        db,
        province,
        body("appropriation", source(), pool(TOWNSHIP_A), "1.00"),
        422,
        "transfer.not_own_county",
    )
    await _refused(
        client,
        db,
        province,
        body("appropriation", source("central"), pool(COUNTY), "1.00", source="county"),
        422,
        "transfer.source_mismatch",
    )


def test_a_township_level_caller_may_not_appropriate() -> None:
    assert not rules.may_appropriate(TOWNSHIP_A)
    assert rules.may_appropriate(COUNTY)
    assert rules.may_appropriate("620000000000")


# Scope and the chain ---------------------------------------------------------------------------------


async def test_money_leaves_only_accounts_in_scope(
    client: httpx.AsyncClient, db: Database, funded: Officers
) -> None:
    await _refused(
        client,
        db,
        funded.township,
        body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "1.00"),
        404,
        "fund_account.not_found",
    )
    await _refused(
        client,
        db,
        funded.village,
        body("allocation", pool(TOWNSHIP_A), pool(VILLAGE_A1), "1.00"),
        404,
        "fund_account.not_found",
    )
    # A township cannot allocate to another township's or another county's village: as if it did not exist.
    await _refused(
        client,
        db,
        funded.township,
        body("allocation", pool(TOWNSHIP_A), pool(VILLAGE_B1), "1.00"),
        404,
        "fund_account.not_found",
    )
    await _refused(
        client,
        db,
        funded.township,
        body("allocation", pool(TOWNSHIP_A), pool(OTHER_VILLAGE), "1.00"),
        404,
        "fund_account.not_found",
    )
    # By id too: the county pool of another county.
    other_pool = await pool_account(client, funded.county, COUNTY)
    await _refused(
        client,
        db,
        funded.township,
        body("allocation", pool(TOWNSHIP_A), {"account_id": other_pool["id"]}, "1.00"),
        404,
        "fund_account.not_found",
    )


async def test_allocations_go_down_and_recoveries_up(
    client: httpx.AsyncClient, db: Database, funded: Officers
) -> None:
    # The county can see both townships, so the refusal is the rule's.
    await _refused(
        client,
        db,
        funded.county,
        body("allocation", pool(VILLAGE_A1), pool(TOWNSHIP_A), "1.00"),
        422,
        "transfer.not_down_the_chain",
    )
    await _refused(
        client,
        db,
        funded.county,
        body("allocation", pool(VILLAGE_A1), pool(VILLAGE_A2), "1.00"),
        422,
        "transfer.not_down_the_chain",
    )
    await _refused(
        client,
        db,
        funded.county,
        body("recovery", pool(TOWNSHIP_A), pool(VILLAGE_A1), "1.00"),
        422,
        "transfer.not_up_the_chain",
    )
    await _refused(
        client,
        db,
        funded.county,
        body("recovery", pool(TOWNSHIP_A), pool(TOWNSHIP_B), "1.00"),
        422,
        "transfer.not_up_the_chain",
    )
    await _refused(
        client, db, funded.county, body("allocation", pool(COUNTY), source(), "1.00"), 422, "transfer.route"
    )
    # A village returns money to its township and, past it, to the county (pools above its own scope).
    await ok(client, funded.village, body("recovery", pool(VILLAGE_A1), pool(TOWNSHIP_A), "10.00"))
    await ok(client, funded.village, body("recovery", pool(VILLAGE_A1), pool(COUNTY), "10.00"))
    # ... but not to another township's pool: off its chain, so not found.
    await _refused(
        client,
        db,
        funded.village,
        body("recovery", pool(VILLAGE_A1), pool(TOWNSHIP_B), "1.00"),
        404,
        "fund_account.not_found",
    )
    await assert_consistent(db)


async def test_money_goes_only_to_and_through_projects_in_the_library(
    client: httpx.AsyncClient, db: Database, funded: Officers
) -> None:
    planned = await make_project(db, VILLAGE_A1, status="planned")
    await _refused(
        client,
        db,
        funded.county,
        body("allocation", pool(COUNTY), {"project_id": str(planned.id)}, "1.00"),
        422,
        "transfer.project_not_in_library",
    )
    built = await make_project(db, VILLAGE_A1, status="under_construction")
    await ok(
        client, funded.township, body("allocation", pool(TOWNSHIP_A), {"project_id": str(built.id)}, "50.00")
    )
    contractor = {
        "contractor": {"region_code": COUNTY, "name": "秦安县建筑公司", "credit_code": "91620522MA7ABCDE1X"}
    }
    paid = await ok(
        client, funded.county, body("disbursement", {"project_id": str(built.id)}, contractor, "20.00")
    )
    assert paid["status"] == "posted"
    # Contractors are paid from projects only.
    await _refused(
        client,
        db,
        funded.county,
        body("disbursement", pool(COUNTY), contractor, "1.00"),
        422,
        "transfer.contractor_project",
    )
    # Money comes back from any project, in the library or not.
    await ok(
        client, funded.village, body("recovery", {"project_id": str(built.id)}, pool(VILLAGE_A1), "5.00")
    )


async def test_households_are_paid_within_the_paying_region_and_only_when_registered_or_exited(
    client: httpx.AsyncClient, db: Database, funded: Officers
) -> None:
    elsewhere = await make_household(db, VILLAGE_A2)
    await _refused(
        client,
        db,
        funded.county,
        body("disbursement", pool(VILLAGE_A1), {"household_id": str(elsewhere.id)}, "1.00"),
        422,
        "transfer.payee_out_of_region",
    )
    applicant = await make_household(db, VILLAGE_A1, status="applicant")
    await _refused(
        client,
        db,
        funded.village,
        body("disbursement", pool(VILLAGE_A1), {"household_id": str(applicant.id)}, "1.00"),
        422,
        "transfer.household_status",
    )
    exited = await make_household(db, VILLAGE_A1, status="exited")
    await ok(
        client,
        funded.village,
        body("disbursement", pool(VILLAGE_A1), {"household_id": str(exited.id)}, "1.00"),
    )
    # The township pays a household of its village directly (到户补助).
    await ok(
        client,
        funded.township,
        body("disbursement", pool(TOWNSHIP_A), {"household_id": str(exited.id)}, "2.00"),
    )


# Money ---------------------------------------------------------------------------------------------------


async def test_no_transfer_takes_more_than_is_available(
    client: httpx.AsyncClient, db: Database, funded: Officers
) -> None:
    await _refused(
        client,
        db,
        funded.village,
        body(
            "allocation",
            pool(VILLAGE_A1),
            {"project_id": str((await make_project(db, VILLAGE_A1)).id)},
            "100.01",
        ),
        409,
        "transfer.insufficient_funds",
    )
    village = await pool_account(client, funded.village, VILLAGE_A1)
    assert village["balance"] == "100.00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"fiscal_year": 1999}, "fiscal_year"),
        ({"document_number": ""}, "document_number"),
        ({"purpose": ""}, "purpose"),
        ({"category": "bribes"}, "category"),
        ({"source": "lottery"}, "source"),
        ({"kind": "reversal"}, "kind"),
        ({"credit": {"pool": COUNTY, "project_id": "00000000-0000-0000-0000-000000000000"}}, "credit"),
        ({"debit": {"source": "central"}}, "debit"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_invalid_input_is_refused(
    client: httpx.AsyncClient, db: Database, funded: Officers, change: dict[str, Any], field: str
) -> None:
    payload = {**body("allocation", pool(COUNTY), pool(TOWNSHIP_A), "1.00"), **change}
    problem = assert_problem(await send(client, funded.county, payload), 422, "validation")
    assert any(field in error["loc"] for error in problem["errors"]), problem
    await assert_consistent(db)


async def test_a_pool_belongs_to_a_county_township_or_village(
    client: httpx.AsyncClient, db: Database, funded: Officers, account_factory
) -> None:  # type: ignore[no-untyped-def]
    province = await account_factory("620000000000", "finance_officer")
    await _refused(
        client,
        db,
        province,
        body("allocation", pool("620500000000"), pool(COUNTY), "1.00"),
        422,
        "fund_account.pool_level",
    )


# Pure rules ----------------------------------------------------------------------------------------------


def test_the_sources_are_spent_in_order_unless_one_is_named() -> None:
    available = {"county": 50, "central": 30, "donation": 100}
    assert rules.split_by_source(available, 60, None) == {"central": 30, "county": 30}
    assert rules.split_by_source(available, 60, "donation") == {"donation": 60}
    with pytest.raises(Exception, match=r"less than"):
        rules.split_by_source(available, 181, None)


def test_routes() -> None:
    county, township, village = Side("pool", COUNTY), Side("pool", TOWNSHIP_A), Side("pool", VILLAGE_A1)
    rules.check_route("allocation", county, village)
    rules.check_route("recovery", village, county)
    project = Side("project", TOWNSHIP_A, project_status="approved")
    rules.check_route("allocation", township, project)  # a township's own project
    rules.check_route("recovery", project, township)
    with pytest.raises(Exception, match="down the chain"):
        rules.check_route("allocation", township, township)
    assert rules.deeper_region(COUNTY, VILLAGE_A1) == VILLAGE_A1
