"""Machine clients over HTTP: registration, client-credentials tokens, secret rotation, scope, grants."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.db.session import Database
from app.domain.principal import permissions_of
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    PASSWORD,
    TOWNSHIP_A,
    TOWNSHIP_B,
    TREE,
    VILLAGE_A1,
    Account,
    assert_problem,
    make_client,
)

CLIENTS = "/api/v1/clients"
TOKEN = "/api/v1/auth/token"
AccountFactory = Callable[..., Awaitable[Account]]
CLIENT_FIELDS = {
    "id",
    "client_id",
    "name",
    "region_code",
    "roles",
    "is_active",
    "rate_limit_per_minute",
    "export_quota_per_day",
    "created_at",
    "updated_at",
}


async def client_token(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def register(http: httpx.AsyncClient, admin: Account, **body: Any) -> dict[str, Any]:
    response = await http.post(
        CLIENTS, json={"name": "省级扶贫系统", "region_code": COUNTY} | body, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
async def admin(tree: dict[str, str], account_factory: AccountFactory) -> Account:
    return await account_factory(COUNTY, "admin", "county_officer", "data_consumer")


@pytest.fixture
async def township_admin(tree: dict[str, str], account_factory: AccountFactory) -> Account:
    return await account_factory(TOWNSHIP_A, "admin", "township_reviewer", "data_consumer")


async def test_admin_registers_a_client_and_sees_its_secret_only_once(
    client: httpx.AsyncClient, admin: Account
) -> None:
    response = await client.post(
        CLIENTS, json={"name": "省级扶贫系统", "region_code": COUNTY}, headers=admin.headers
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == CLIENT_FIELDS | {"client_secret"}
    assert created["client_id"].startswith("fpc_")
    assert len(created["client_secret"]) >= 32
    assert (created["name"], created["region_code"]) == ("省级扶贫系统", COUNTY)
    assert created["roles"] == ["data_consumer"]  # the default
    assert created["is_active"] is True
    fetched = await client.get(f"{CLIENTS}/{created['id']}", headers=admin.headers)
    listed = await client.get(CLIENTS, headers=admin.headers)
    assert fetched.status_code == 200, fetched.text
    assert set(fetched.json()) == CLIENT_FIELDS
    assert fetched.json() == {k: v for k, v in created.items() if k != "client_secret"}
    assert [c["id"] for c in listed.json()["items"]] == [created["id"]]
    for text in (fetched.text, listed.text):
        assert created["client_secret"] not in text
        assert "secret" not in text


async def test_each_registration_gets_its_own_id_and_secret(
    client: httpx.AsyncClient, admin: Account
) -> None:
    first = await register(client, admin)
    second = await register(client, admin)

    assert first["client_id"] != second["client_id"]
    assert first["client_secret"] != second["client_secret"]


async def test_a_client_gets_a_token_and_me_shows_a_client_in_its_region(
    client: httpx.AsyncClient, admin: Account
) -> None:
    created = await register(client, admin, name="兴国镇看板", region_code=TOWNSHIP_A)

    response = await client_token(client, created["client_id"], created["client_secret"])

    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    assert response.json()["refresh_token"] is None
    me = await client.get("/api/v1/me", headers=bearer(response))
    assert me.status_code == 200, me.text
    assert me.json()["kind"] == "client"
    assert me.json()["id"] == created["id"]
    assert me.json()["name"] == created["client_id"]
    assert me.json()["display_name"] == "兴国镇看板"
    assert (me.json()["region_code"], me.json()["region_name"]) == (TOWNSHIP_A, TREE[TOWNSHIP_A])
    assert me.json()["scope_prefix"] == "620522100"
    assert me.json()["roles"] == ["data_consumer"]
    assert me.json()["permissions"] == sorted(permissions_of(["data_consumer"]))


async def test_a_client_token_reads_only_its_scope(client: httpx.AsyncClient, admin: Account) -> None:
    created = await register(client, admin, region_code=TOWNSHIP_A)
    headers = bearer(await client_token(client, created["client_id"], created["client_secret"]))

    regions = await client.get("/api/v1/regions", headers=headers)
    users = await client.get("/api/v1/users", headers=headers)

    assert [r["code"] for r in regions.json()["items"]] == sorted(
        c for c in TREE if c.startswith("620522100")
    )
    assert_problem(await client.get(f"/api/v1/regions/{TOWNSHIP_B}", headers=headers), 404)
    assert_problem(users, 403, "auth.forbidden")


async def test_client_credentials_may_come_as_http_basic(client: httpx.AsyncClient, admin: Account) -> None:
    created = await register(client, admin)
    basic = base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()

    response = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )

    assert response.status_code == 200, response.text


async def test_a_wrong_secret_or_unknown_client_is_401(client: httpx.AsyncClient, admin: Account) -> None:
    created = await register(client, admin)

    wrong = await client_token(client, created["client_id"], "not the secret")
    unknown = await client_token(client, "fpc_0000000000000000", created["client_secret"])

    assert_problem(wrong, 401, "auth.invalid_client")
    assert_problem(unknown, 401, "auth.invalid_client")


async def test_rotating_the_secret_stops_the_old_one_and_the_new_one_works(
    client: httpx.AsyncClient, admin: Account
) -> None:
    created = await register(client, admin)
    assert (await client_token(client, created["client_id"], created["client_secret"])).status_code == 200

    rotated = await client.post(f"{CLIENTS}/{created['id']}/secret", headers=admin.headers)

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["client_id"] == created["client_id"]
    new_secret = rotated.json()["client_secret"]
    assert new_secret != created["client_secret"]
    assert_problem(await client_token(client, created["client_id"], created["client_secret"]), 401)
    assert (await client_token(client, created["client_id"], new_secret)).status_code == 200


async def test_a_disabled_client_can_no_longer_get_tokens(client: httpx.AsyncClient, admin: Account) -> None:
    created = await register(client, admin)

    disabled = await client.patch(
        f"{CLIENTS}/{created['id']}", json={"is_active": False}, headers=admin.headers
    )

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False
    refused = await client_token(client, created["client_id"], created["client_secret"])
    assert_problem(refused, 401, "auth.invalid_client")
    enabled = await client.patch(
        f"{CLIENTS}/{created['id']}", json={"is_active": True}, headers=admin.headers
    )
    assert enabled.json()["is_active"] is True
    assert (await client_token(client, created["client_id"], created["client_secret"])).status_code == 200


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient, admin: Account) -> None:
    created = await register(client, admin)
    before = {k: v for k, v in created.items() if k not in {"client_secret", "updated_at"}}

    renamed = await client.patch(f"{CLIENTS}/{created['id']}", json={"name": "新名字"}, headers=admin.headers)
    moved = await client.patch(
        f"{CLIENTS}/{created['id']}",
        json={"region_code": TOWNSHIP_B, "rate_limit_per_minute": 30},
        headers=admin.headers,
    )

    assert renamed.status_code == 200, renamed.text
    assert {k: v for k, v in renamed.json().items() if k != "updated_at"} == before | {"name": "新名字"}
    assert moved.status_code == 200, moved.text
    assert {k: v for k, v in moved.json().items() if k != "updated_at"} == before | {
        "name": "新名字",
        "region_code": TOWNSHIP_B,
        "rate_limit_per_minute": 30,
    }


@pytest.mark.parametrize("field", ["name", "region_code", "roles", "is_active"])
async def test_patch_with_an_explicit_null_is_422_and_changes_nothing(
    client: httpx.AsyncClient, admin: Account, field: str
) -> None:
    created = await register(client, admin)
    before = (await client.get(f"{CLIENTS}/{created['id']}", headers=admin.headers)).json()

    response = await client.patch(f"{CLIENTS}/{created['id']}", json={field: None}, headers=admin.headers)

    assert_problem(response, 422, "validation")
    assert (await client.get(f"{CLIENTS}/{created['id']}", headers=admin.headers)).json() == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "region_code": COUNTY, "client_secret": "chosen"},  # unknown field
        {"region_code": COUNTY},  # no name
        {"name": "x", "region_code": "6205"},
        {"name": "x", "region_code": COUNTY, "roles": []},
        {"name": "x", "region_code": COUNTY, "roles": ["wizard"]},
    ],
)
async def test_an_invalid_registration_is_422_and_registers_nothing(
    client: httpx.AsyncClient, admin: Account, body: dict[str, Any]
) -> None:
    response = await client.post(CLIENTS, json=body, headers=admin.headers)

    assert_problem(response, 422, "validation")
    assert (await client.get(CLIENTS, headers=admin.headers)).json()["items"] == []


async def test_clients_outside_scope_are_not_found(
    client: httpx.AsyncClient, db: Database, township_admin: Account
) -> None:
    sibling = await make_client(db, region_code=TOWNSHIP_B, roles=["data_consumer"])
    above = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    elsewhere = await make_client(db, region_code=OTHER_COUNTY, roles=["data_consumer"])
    own = await make_client(db, region_code=VILLAGE_A1, roles=["data_consumer"])

    listed = await client.get(CLIENTS, headers=township_admin.headers)

    assert [c["id"] for c in listed.json()["items"]] == [str(own.id)]
    for stored in (sibling, above, elsewhere):
        path = f"{CLIENTS}/{stored.id}"
        assert_problem(await client.get(path, headers=township_admin.headers), 404, "client.not_found")
        patched = await client.patch(path, json={"is_active": False}, headers=township_admin.headers)
        assert_problem(patched, 404, "client.not_found")
        assert_problem(
            await client.post(f"{path}/secret", headers=township_admin.headers), 404, "client.not_found"
        )
        assert (await client_token(client, stored.client_id, PASSWORD)).status_code == 200


async def test_a_client_cannot_be_registered_or_moved_outside_scope(
    client: httpx.AsyncClient, township_admin: Account
) -> None:
    for region in (COUNTY, TOWNSHIP_B, OTHER_COUNTY):
        response = await client.post(
            CLIENTS, json={"name": "x", "region_code": region}, headers=township_admin.headers
        )
        assert_problem(response, 404, "region.not_found")
    created = await register(client, township_admin, region_code=TOWNSHIP_A)

    moved = await client.patch(
        f"{CLIENTS}/{created['id']}", json={"region_code": COUNTY}, headers=township_admin.headers
    )

    assert_problem(moved, 404, "region.not_found")
    listed = (await client.get(CLIENTS, headers=township_admin.headers)).json()["items"]
    assert [(c["id"], c["region_code"]) for c in listed] == [(created["id"], TOWNSHIP_A)]


async def test_county_admin_lists_clients_of_the_whole_county_only(
    client: httpx.AsyncClient, db: Database, admin: Account
) -> None:
    in_county = [
        await make_client(db, region_code=code, roles=["data_consumer"])
        for code in (COUNTY, TOWNSHIP_A, VILLAGE_A1)
    ]
    await make_client(db, region_code=OTHER_COUNTY, roles=["data_consumer"])
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(CLIENTS, params=params, headers=admin.headers)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(str(c.id) for c in in_county)
    assert len(seen) == len(set(seen))


async def test_nobody_can_grant_a_client_roles_they_do_not_hold(
    client: httpx.AsyncClient, admin: Account
) -> None:
    response = await client.post(
        CLIENTS,
        json={"name": "督查系统", "region_code": COUNTY, "roles": ["inspector", "data_consumer"]},
        headers=admin.headers,
    )

    problem = assert_problem(response, 403, "users.grant_not_held")
    assert [(e["loc"], e["code"]) for e in problem["errors"]] == [(["body", "roles"], "role_not_held")]
    assert "inspector" in problem["errors"][0]["message"]
    assert (await client.get(CLIENTS, headers=admin.headers)).json()["items"] == []


async def test_an_admin_without_data_consumer_cannot_register_a_default_client(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    admin = await account_factory(COUNTY, "admin", "county_officer")

    default = await client.post(CLIENTS, json={"name": "看板", "region_code": COUNTY}, headers=admin.headers)
    explicit = await client.post(
        CLIENTS,
        json={"name": "看板", "region_code": COUNTY, "roles": ["township_reviewer"]},
        headers=admin.headers,
    )

    assert_problem(default, 403, "users.grant_not_held")
    # Implied by county_officer, so it may be granted, but a client is read-only (tests/limits/).
    assert_problem(explicit, 422, "clients.read_only")


async def test_roles_of_a_client_cannot_be_raised_beyond_the_callers(
    client: httpx.AsyncClient, admin: Account
) -> None:
    created = await register(client, admin)

    response = await client.patch(
        f"{CLIENTS}/{created['id']}", json={"roles": ["finance_officer"]}, headers=admin.headers
    )

    assert_problem(response, 403, "users.grant_not_held")
    assert (await client.get(f"{CLIENTS}/{created['id']}", headers=admin.headers)).json()["roles"] == [
        "data_consumer"
    ]


async def test_a_client_holding_roles_the_admin_lacks_cannot_be_changed_or_rotated(
    client: httpx.AsyncClient, db: Database, admin: Account
) -> None:
    stored = await make_client(db, region_code=COUNTY, roles=["inspector"])

    patched = await client.patch(f"{CLIENTS}/{stored.id}", json={"is_active": False}, headers=admin.headers)
    rotated = await client.post(f"{CLIENTS}/{stored.id}/secret", headers=admin.headers)

    assert_problem(patched, 403, "users.grant_not_held")
    assert_problem(rotated, 403, "users.grant_not_held")
    assert (await client.get(f"{CLIENTS}/{stored.id}", headers=admin.headers)).json()["is_active"] is True
    assert (await client_token(client, stored.client_id, PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("region", "roles"),
    [
        (COUNTY, ["county_officer"]),
        (VILLAGE_A1, ["village_clerk"]),
        (COUNTY, ["data_consumer"]),
        (COUNTY, ["inspector"]),
        (COUNTY, ["finance_officer"]),
        (TOWNSHIP_A, ["township_reviewer"]),
        (COUNTY, ["county_officer", "finance_officer", "inspector", "data_consumer"]),
    ],
)
async def test_non_admins_cannot_manage_clients(
    client: httpx.AsyncClient,
    db: Database,
    tree: dict[str, str],
    account_factory: AccountFactory,
    region: str,
    roles: list[str],
) -> None:
    caller = await account_factory(region, *roles)
    stored = await make_client(db, region_code=region, roles=["data_consumer"])
    path = f"{CLIENTS}/{stored.id}"

    responses = [
        await client.get(CLIENTS, headers=caller.headers),
        await client.post(CLIENTS, json={"name": "x", "region_code": region}, headers=caller.headers),
        await client.get(path, headers=caller.headers),
        await client.patch(path, json={"is_active": False}, headers=caller.headers),
        await client.post(f"{path}/secret", headers=caller.headers),
    ]

    for response in responses:
        assert_problem(response, 403, "auth.forbidden")
    assert (await client_token(client, stored.client_id, PASSWORD)).status_code == 200


async def test_unknown_and_malformed_client_ids(client: httpx.AsyncClient, admin: Account) -> None:
    assert_problem(
        await client.get(f"{CLIENTS}/{uuid.uuid4()}", headers=admin.headers), 404, "client.not_found"
    )
    assert_problem(await client.post(f"{CLIENTS}/{uuid.uuid4()}/secret", headers=admin.headers), 404)
    assert_problem(await client.get(f"{CLIENTS}/fpc_123", headers=admin.headers), 422, "validation")


async def test_clients_need_a_token(client: httpx.AsyncClient, tree: dict[str, str]) -> None:
    assert_problem(await client.get(CLIENTS), 401, "auth.missing_token")
    assert_problem(await client.post(CLIENTS, json={"name": "x", "region_code": COUNTY}), 401)
