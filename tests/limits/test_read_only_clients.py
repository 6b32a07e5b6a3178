"""Machine clients read and export; a client that holds, or claims, a role that writes cannot write."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import ApiClient, CodeEntry, Region, User
from app.db.session import Database
from app.domain.auth.tokens import issue_access_token
from app.domain.principal import CLIENT_PERMISSIONS, CLIENT_ROLES, Permission, Principal, Role
from app.settings import Settings
from tests.conftest import COUNTY, PASSWORD, Account, assert_problem, make_client
from tests.limits.support import ME, client_headers

CLIENTS = "/api/v1/clients"
AccountFactory = Callable[..., Awaitable[Account]]
WRITES = frozenset(Permission) - CLIENT_PERMISSIONS


@pytest.fixture
async def admin(tree: dict[str, str], account_factory: AccountFactory) -> Account:
    return await account_factory(COUNTY, "admin", "county_officer", "data_consumer", "inspector")


def test_only_roles_that_write_nothing_may_be_a_clients_roles() -> None:
    assert {Role.DATA_CONSUMER, Role.INSPECTOR} == CLIENT_ROLES
    writing = (":write", ":manage", ":import", ":approve")
    assert not [permission for permission in CLIENT_PERMISSIONS if permission.value.endswith(writing)]
    assert {Permission.HOUSEHOLDS_WRITE, Permission.FUNDS_WRITE, Permission.USERS_MANAGE} <= WRITES


def test_a_client_principal_keeps_no_role_that_writes_whatever_it_is_given() -> None:
    principal = Principal.build(
        kind="client", id=uuid.uuid4(), name="fpc_x", region_code=COUNTY, roles=list(Role)
    )

    assert principal.roles == CLIENT_ROLES
    assert principal.permissions <= CLIENT_PERMISSIONS
    assert not principal.permissions & WRITES
    assert not principal.holds(Role.VILLAGE_CLERK)
    assert not principal.holds(Role.COUNTY_OFFICER)
    user = Principal.build(kind="user", id=uuid.uuid4(), name="u", region_code=COUNTY, roles=list(Role))
    assert user.permissions >= WRITES  # users are untouched


@pytest.mark.parametrize("roles", [["county_officer"], ["data_consumer", "village_clerk"], ["admin"]])
async def test_registering_a_client_with_a_role_that_writes_is_422_and_registers_nothing(
    client: httpx.AsyncClient, db: Database, admin: Account, roles: list[str]
) -> None:
    response = await client.post(
        CLIENTS, json={"name": "省级系统", "region_code": COUNTY, "roles": roles}, headers=admin.headers
    )

    problem = assert_problem(response, 422, "clients.read_only")
    assert {error["code"] for error in problem["errors"]} == {"write_role"}
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ApiClient)) == 0


async def test_giving_a_client_a_role_that_writes_is_422_and_changes_nothing(
    client: httpx.AsyncClient, admin: Account
) -> None:
    created = await client.post(CLIENTS, json={"name": "看板", "region_code": COUNTY}, headers=admin.headers)
    path = f"{CLIENTS}/{created.json()['id']}"

    refused = await client.patch(path, json={"roles": ["township_reviewer"]}, headers=admin.headers)
    allowed = await client.patch(path, json={"roles": ["inspector"]}, headers=admin.headers)

    assert_problem(refused, 422, "clients.read_only")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["roles"] == ["inspector"]


async def test_a_stored_client_with_roles_that_write_is_refused_every_write(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str]
) -> None:
    # Stored before clients were read-only, or by hand: its token carries only the roles that read.
    stored = await make_client(
        db, region_code=COUNTY, roles=["admin", "county_officer", "finance_officer", "data_consumer"]
    )
    headers = await client_headers(client, stored.client_id, PASSWORD)

    me = await client.get(ME, headers=headers)
    writes = [
        await client.post(
            "/api/v1/users",
            json={
                "username": "intruder",
                "display_name": "x",
                "region_code": COUNTY,
                "roles": ["data_consumer"],
                "password": "long enough password",
            },
            headers=headers,
        ),
        await client.post(CLIENTS, json={"name": "x", "region_code": COUNTY}, headers=headers),
        await client.post(
            "/api/v1/code-lists",
            json={"list_name": "cause", "code": "drought", "label": "旱灾", "region_code": COUNTY},
            headers=headers,
        ),
        await client.post(
            "/api/v1/regions/import",
            files={"file": ("r.csv", "code,name\n620522100203,新村\n".encode(), "text/csv")},
            headers=headers,
        ),
    ]

    assert me.json()["roles"] == ["data_consumer"]
    assert not set(me.json()["permissions"]) & {str(p) for p in WRITES}
    for response in writes:
        assert_problem(response, 403, "auth.forbidden")
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
        assert await session.scalar(select(func.count()).where(CodeEntry.code == "drought")) == 0
        assert await session.scalar(select(func.count()).where(Region.code == "620522100203")) == 0


async def test_a_client_token_claiming_roles_that_write_is_refused_writes(
    client: httpx.AsyncClient, db: Database, settings: Settings, tree: dict[str, str]
) -> None:
    stored = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    # A token signed by the server for a client but listing writing roles (a bug or an old token).
    forged = Principal(
        kind="client",
        id=stored.id,
        name=stored.client_id,
        region_code=COUNTY,
        roles=frozenset({Role.COUNTY_OFFICER, Role.ADMIN}),
        permissions=frozenset(Permission),
    )
    headers = {"Authorization": f"Bearer {issue_access_token(settings, forged, personal_data=False).token}"}

    me = await client.get(ME, headers=headers)
    created = await client.post(CLIENTS, json={"name": "x", "region_code": COUNTY}, headers=headers)

    assert me.json()["roles"] == []
    assert_problem(created, 403, "auth.forbidden")
