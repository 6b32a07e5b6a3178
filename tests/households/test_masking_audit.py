"""Personal data (ID numbers, phones, bank accounts) is masked for every role without the personal-data
grant; every unmasked read writes exactly one audit row; the audit log is append-only on PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.db.models import Household, Member
from app.db.session import Database
from tests.conftest import COUNTY, PASSWORD, TOWNSHIP_A, VILLAGE_A1, assert_problem, make_client
from tests.factories import id_number, make_household
from tests.households.registry_helpers import HOUSEHOLDS, audit_rows, member, with_etag

pytestmark = pytest.mark.usefixtures("tree")

PHONE = "13800001234"
ACCOUNT = "6228480012345678"
MASKED_ID = re.compile(r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$")


@dataclass(frozen=True)
class Caller:
    roles: tuple[str, ...]
    region: str
    grant: bool = False
    sees_personal_data: bool = False
    may_read: bool = True


CALLERS = {
    "village_clerk": Caller(("village_clerk",), VILLAGE_A1),
    "township_reviewer": Caller(("township_reviewer",), TOWNSHIP_A),
    "county_officer": Caller(("county_officer",), COUNTY),
    "finance_officer": Caller(("finance_officer",), COUNTY),
    "data_consumer": Caller(("data_consumer",), COUNTY),
    "admin": Caller(("admin",), COUNTY, may_read=False),
    "inspector": Caller(("inspector",), COUNTY, sees_personal_data=True),
    "township_reviewer_with_grant": Caller(
        ("township_reviewer",), TOWNSHIP_A, grant=True, sees_personal_data=True
    ),
    "county_officer_and_admin": Caller(("admin", "county_officer"), COUNTY),
}


@pytest.fixture
async def household(db: Database) -> Household:
    return await make_household(db, VILLAGE_A1, members=3, phone=PHONE, bank_account=ACCOUNT)


async def _caller(account_factory, name: str) -> Any:  # type: ignore[no-untyped-def]
    spec = CALLERS[name]
    return await account_factory(spec.region, *spec.roles, has_personal_data_grant=spec.grant)


async def _stored_numbers(db: Database, household: Household) -> set[str]:
    async with db.sessionmaker() as session:
        return set(
            (await session.scalars(select(Member.id_number).where(Member.household_id == household.id))).all()
        )


@pytest.mark.parametrize("name", list(CALLERS))
async def test_a_household_read_is_masked_unless_the_role_grants_personal_data(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household, name: str
) -> None:
    spec = CALLERS[name]
    caller = await _caller(account_factory, name)
    numbers = await _stored_numbers(db, household)
    response = await client.get(f"{HOUSEHOLDS}/{household.id}", headers=caller.headers)
    if not spec.may_read:
        assert_problem(response, 403, "auth.forbidden")
        assert await audit_rows(db) == []
        return
    assert response.status_code == 200, response.text
    body = response.json()
    if spec.sees_personal_data:
        assert body["phone"] == PHONE
        assert body["bank_account"] == ACCOUNT
        assert {m["id_number"] for m in body["members"]} == numbers
    else:
        assert body["phone"] == "138****1234"
        assert body["bank_account"] == "************5678"
        for shown in body["members"]:
            assert MASKED_ID.fullmatch(shown["id_number"]), shown["id_number"]
        assert {m["id_number"] for m in body["members"]} == {f"{n[:6]}********{n[-4:]}" for n in numbers}
        for number in numbers:
            assert number not in response.text
        assert PHONE not in response.text
        assert ACCOUNT not in response.text
    # Derived data stays visible either way.
    assert {m["birth_date"] for m in body["members"]} == {"1970-01-01", "1972-03-04", "2005-06-07"}

    rows = await audit_rows(db)
    if not spec.sees_personal_data:
        assert rows == []
        return
    assert len(rows) == 1
    row = rows[0]
    assert row.actor_subject == f"user:{caller.user.id}"
    assert row.actor_name == caller.user.username
    assert row.actor_scope == spec.region
    assert set(row.actor_roles) == set(spec.roles)
    assert row.action == "read_personal_data"
    assert row.record_type == "household"
    assert row.record_id == str(household.id)
    assert row.region_code == VILLAGE_A1
    assert set(row.fields) == {"household.phone", "household.bank_account", "member.id_number"}
    assert row.request_id == response.headers["X-Request-ID"]


@pytest.mark.parametrize("name", ["inspector", "township_reviewer_with_grant"])
async def test_each_unmasked_read_is_audited_once_with_its_own_request_id(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household, name: str
) -> None:
    caller = await _caller(account_factory, name)
    first = await client.get(f"{HOUSEHOLDS}/{household.id}", headers=caller.headers)
    second = await client.get(
        f"{HOUSEHOLDS}/{household.id}", headers={**caller.headers, "X-Request-ID": "case-2026-001"}
    )
    rows = await audit_rows(db)
    assert [row.request_id for row in rows] == [first.headers["X-Request-ID"], "case-2026-001"]
    assert second.headers["X-Request-ID"] == "case-2026-001"


async def test_an_unmasked_household_without_phone_or_account_audits_only_what_it_showed(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    household = await make_household(db, VILLAGE_A1, phone=None, bank_account=None)
    inspector = await _caller(account_factory, "inspector")
    response = await client.get(f"{HOUSEHOLDS}/{household.id}", headers=inspector.headers)
    assert response.json()["phone"] is None
    [row] = await audit_rows(db)
    assert row.fields == ["member.id_number"]


@pytest.mark.parametrize("name", ["inspector", "county_officer"])
async def test_the_members_list_masks_and_audits_like_the_household(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household, name: str
) -> None:
    spec = CALLERS[name]
    caller = await _caller(account_factory, name)
    numbers = await _stored_numbers(db, household)
    response = await client.get(f"{HOUSEHOLDS}/{household.id}/members", headers=caller.headers)
    shown = {m["id_number"] for m in response.json()}
    rows = await audit_rows(db)
    if spec.sees_personal_data:
        assert shown == numbers
        assert len(rows) == 1
        assert rows[0].request_id == response.headers["X-Request-ID"]
    else:
        assert shown == {f"{n[:6]}********{n[-4:]}" for n in numbers}
        assert rows == []


@pytest.mark.parametrize(("grant", "masked"), [(False, True), (True, False)])
async def test_member_responses_of_writes_mask_the_same_way(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household, grant: bool, masked: bool
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer", has_personal_data_grant=grant)
    number = id_number(date(2015, 5, 5), male=False)
    added = await client.post(
        f"{HOUSEHOLDS}/{household.id}/members",
        headers=with_etag(reviewer, "*"),
        json=member("王小妹", "grandchild", number=number),
    )
    assert added.status_code == 201, added.text
    expected = f"{number[:6]}********{number[-4:]}" if masked else number
    assert added.json()["id_number"] == expected
    changed = await client.patch(
        f"{HOUSEHOLDS}/{household.id}/members/{added.json()['id']}",
        headers=with_etag(reviewer, "*"),
        json={"name": "王小梅"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["id_number"] == expected
    rows = await audit_rows(db)
    if masked:
        assert number not in added.text + changed.text
        assert rows == []
    else:
        assert [(row.record_type, row.record_id, row.fields) for row in rows] == [
            ("member", added.json()["id"], ["member.id_number"]),
            ("member", added.json()["id"], ["member.id_number"]),
        ]
        assert [row.request_id for row in rows] == [
            added.headers["X-Request-ID"],
            changed.headers["X-Request-ID"],
        ]


@pytest.mark.parametrize(("grant", "masked"), [(False, True), (True, False)])
async def test_household_write_responses_mask_the_same_way(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household, grant: bool, masked: bool
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer", has_personal_data_grant=grant)
    response = await client.patch(
        f"{HOUSEHOLDS}/{household.id}", headers=with_etag(reviewer, "*"), json={"phone": "13987654321"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == ("139****4321" if masked else "13987654321")
    rows = await audit_rows(db)
    assert len(rows) == (0 if masked else 1)


TOKEN = "/api/v1/auth/token"


async def test_a_signed_in_reviewer_with_the_grant_reads_unmasked_and_is_audited(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer", has_personal_data_grant=True)
    signed_in = await client.post(
        TOKEN, data={"grant_type": "password", "username": reviewer.user.username, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    response = await client.get(f"{HOUSEHOLDS}/{household.id}", headers=headers)
    assert response.json()["phone"] == PHONE
    [row] = await audit_rows(db)
    assert (row.actor_subject, row.request_id) == (
        f"user:{reviewer.user.id}",
        response.headers["X-Request-ID"],
    )


async def test_a_machine_data_consumer_reads_masked_and_is_not_audited(
    client: httpx.AsyncClient, db: Database, household: Household
) -> None:
    machine = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    grant = {"grant_type": "client_credentials", "client_id": machine.client_id, "client_secret": PASSWORD}
    token = (await client.post(TOKEN, data=grant)).json()["access_token"]
    response = await client.get(f"{HOUSEHOLDS}/{household.id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "138****1234"
    assert all(MASKED_ID.fullmatch(m["id_number"]) for m in response.json()["members"])
    assert await audit_rows(db) == []


async def test_a_masked_read_of_a_list_writes_no_audit_row(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household
) -> None:
    inspector = await _caller(account_factory, "inspector")
    response = await client.get(HOUSEHOLDS, headers=inspector.headers)
    assert response.status_code == 200
    assert await audit_rows(db) == []


async def test_a_refused_read_writes_no_audit_row(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household
) -> None:
    outsider = await account_factory("620521000000", "inspector")
    assert_problem(await client.get(f"{HOUSEHOLDS}/{household.id}", headers=outsider.headers), 404)
    assert await audit_rows(db) == []


async def test_the_audit_log_refuses_update_and_delete_on_postgresql(
    client: httpx.AsyncClient, account_factory, db: Database, household: Household
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    inspector = await _caller(account_factory, "inspector")
    await client.get(f"{HOUSEHOLDS}/{household.id}", headers=inspector.headers)
    [row] = await audit_rows(db)
    for statement in (
        "UPDATE audit_log SET actor_name = 'someone else' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
    ):
        async with db.engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text(statement), {"id": row.id})
            await connection.rollback()
    [kept] = await audit_rows(db)
    assert (kept.id, kept.actor_name) == (row.id, row.actor_name)
