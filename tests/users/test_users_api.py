"""User management over HTTP: creation, grants, partial updates, self-lockout, scoped lists and sign-in."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    PASSWORD,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    Account,
    assert_problem,
)

USERS = "/api/v1/users"
TOKEN = "/api/v1/auth/token"
AccountFactory = Callable[..., Awaitable[Account]]
NEW_PASSWORD = "秦安 long enough"
USER_FIELDS = {
    "id",
    "username",
    "display_name",
    "region_code",
    "roles",
    "has_personal_data_grant",
    "is_active",
    "password_changed_at",
    "created_at",
    "updated_at",
}


def new_user(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": f"new_{uuid.uuid4().hex[:10]}",
        "display_name": "王家庄村录入员",
        "region_code": VILLAGE_A1,
        "roles": ["village_clerk"],
        "password": NEW_PASSWORD,
    }
    return body | overrides


async def usernames(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> set[str]:
    """Every username the caller can list (all pages)."""
    names: set[str] = set()
    cursor: str | None = None
    while True:
        query = {**params, "limit": "500", **({"cursor": cursor} if cursor else {})}
        response = await client.get(USERS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        names |= {user["username"] for user in response.json()["items"]}
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return names


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": password}
    )


@pytest.fixture
async def county_admin(tree: dict[str, str], account_factory: AccountFactory) -> Account:
    return await account_factory(COUNTY, "admin", "county_officer", username="county_admin")


@pytest.fixture
async def township_admin(tree: dict[str, str], account_factory: AccountFactory) -> Account:
    return await account_factory(TOWNSHIP_A, "admin", "township_reviewer", username="township_admin")


# Creating ------------------------------------------------------------------------------------------------


async def test_admin_creates_a_user_in_a_township_and_no_password_comes_back(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    body = new_user(region_code=TOWNSHIP_B, roles=["township_reviewer"], display_name="郭嘉镇审核员")

    response = await client.post(USERS, json=body, headers=county_admin.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == USER_FIELDS
    assert created["username"] == body["username"]
    assert created["display_name"] == "郭嘉镇审核员"
    assert created["region_code"] == TOWNSHIP_B
    assert created["roles"] == ["township_reviewer"]
    assert created["has_personal_data_grant"] is False
    assert created["is_active"] is True
    assert created["password_changed_at"] is not None
    assert NEW_PASSWORD not in response.text
    assert "argon2" not in response.text
    fetched = await client.get(f"{USERS}/{created['id']}", headers=county_admin.headers)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == created


async def test_a_created_user_can_sign_in_with_the_given_password(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    body = new_user()
    assert (await client.post(USERS, json=body, headers=county_admin.headers)).status_code == 201

    wrong = await sign_in(client, body["username"], "not the password")
    response = await sign_in(client, body["username"], NEW_PASSWORD)

    assert_problem(wrong, 401, "auth.invalid_grant")
    assert response.status_code == 200, response.text
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.status_code == 200, me.text
    assert (me.json()["kind"], me.json()["name"]) == ("user", body["username"])
    assert (me.json()["region_code"], me.json()["roles"]) == (VILLAGE_A1, ["village_clerk"])


async def test_township_admin_cannot_create_a_user_at_the_county(
    client: httpx.AsyncClient, township_admin: Account, county_admin: Account
) -> None:
    body = new_user(region_code=COUNTY)

    response = await client.post(USERS, json=body, headers=township_admin.headers)

    assert_problem(response, 404, "region.not_found")
    assert body["username"] not in await usernames(client, county_admin.headers)


async def test_township_admin_cannot_create_a_user_in_another_township(
    client: httpx.AsyncClient, township_admin: Account, county_admin: Account
) -> None:
    for region in (TOWNSHIP_B, VILLAGE_B1, OTHER_VILLAGE):
        body = new_user(region_code=region)

        response = await client.post(USERS, json=body, headers=township_admin.headers)

        assert_problem(response, 404, "region.not_found")
        assert body["username"] not in await usernames(client, county_admin.headers)


async def test_township_admin_creates_a_village_clerk_in_their_township(
    client: httpx.AsyncClient, township_admin: Account
) -> None:
    response = await client.post(USERS, json=new_user(region_code=VILLAGE_A2), headers=township_admin.headers)

    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == VILLAGE_A2


async def test_a_user_in_a_region_that_does_not_exist_is_404(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    response = await client.post(
        USERS, json=new_user(region_code="620522199201"), headers=county_admin.headers
    )

    assert_problem(response, 404, "region.not_found")


async def test_nobody_can_grant_a_role_they_do_not_hold(
    client: httpx.AsyncClient, township_admin: Account, county_admin: Account
) -> None:
    body = new_user(roles=["village_clerk", "county_officer", "finance_officer"])

    response = await client.post(USERS, json=body, headers=township_admin.headers)

    problem = assert_problem(response, 403, "users.grant_not_held")
    assert [(e["loc"], e["code"]) for e in problem["errors"]] == [
        (["body", "roles"], "role_not_held"),
        (["body", "roles"], "role_not_held"),
    ]
    messages = " ".join(e["message"] for e in problem["errors"])
    assert "county_officer" in messages
    assert "finance_officer" in messages
    assert "village_clerk" not in messages
    assert body["username"] not in await usernames(client, county_admin.headers)


@pytest.mark.parametrize("role", ["inspector", "finance_officer", "data_consumer"])
async def test_county_admin_cannot_grant_a_role_outside_their_own(
    client: httpx.AsyncClient, county_admin: Account, role: str
) -> None:
    body = new_user(roles=[role])

    response = await client.post(USERS, json=body, headers=county_admin.headers)

    problem = assert_problem(response, 403, "users.grant_not_held")
    assert [e["code"] for e in problem["errors"]] == ["role_not_held"]
    assert body["username"] not in await usernames(client, county_admin.headers)


async def test_implied_roles_count_as_held_when_granting(
    client: httpx.AsyncClient, county_admin: Account, township_admin: Account
) -> None:
    # county_officer implies township_reviewer and village_clerk; township_reviewer implies village_clerk.
    by_county = new_user(region_code=TOWNSHIP_A, roles=["township_reviewer", "village_clerk"])
    by_township = new_user(region_code=VILLAGE_A1, roles=["village_clerk"])

    county = await client.post(USERS, json=by_county, headers=county_admin.headers)
    township = await client.post(USERS, json=by_township, headers=township_admin.headers)

    assert county.status_code == 201, county.text
    assert county.json()["roles"] == ["township_reviewer", "village_clerk"]
    assert township.status_code == 201, township.text


async def test_an_admin_may_grant_the_admin_role_they_hold(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    response = await client.post(
        USERS,
        json=new_user(region_code=TOWNSHIP_A, roles=["admin", "township_reviewer"]),
        headers=county_admin.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["roles"] == ["admin", "township_reviewer"]


async def test_granting_personal_data_needs_the_granter_to_hold_personal_data_permission(
    client: httpx.AsyncClient, county_admin: Account, account_factory: AccountFactory
) -> None:
    inspector_admin = await account_factory(COUNTY, "admin", "county_officer", "inspector")
    granted_admin = await account_factory(COUNTY, "admin", "county_officer", has_personal_data_grant=True)
    refused_body = new_user(has_personal_data_grant=True)

    refused = await client.post(USERS, json=refused_body, headers=county_admin.headers)
    by_inspector = await client.post(
        USERS, json=new_user(has_personal_data_grant=True), headers=inspector_admin.headers
    )
    by_grant = await client.post(
        USERS, json=new_user(has_personal_data_grant=True), headers=granted_admin.headers
    )

    problem = assert_problem(refused, 403, "users.grant_not_held")
    assert [(e["loc"], e["code"]) for e in problem["errors"]] == [
        (["body", "has_personal_data_grant"], "grant_not_held")
    ]
    assert refused_body["username"] not in await usernames(client, county_admin.headers)
    assert by_inspector.status_code == 201, by_inspector.text
    assert by_inspector.json()["has_personal_data_grant"] is True
    assert by_grant.status_code == 201, by_grant.text
    assert by_grant.json()["has_personal_data_grant"] is True


async def test_a_duplicate_username_is_409(client: httpx.AsyncClient, county_admin: Account) -> None:
    body = new_user()
    first = await client.post(USERS, json=body, headers=county_admin.headers)

    second = await client.post(USERS, json=body | {"region_code": VILLAGE_B1}, headers=county_admin.headers)

    assert first.status_code == 201, first.text
    assert_problem(second, 409, "users.username_taken")
    listed = (await client.get(USERS, headers=county_admin.headers)).json()["items"]
    assert [u["region_code"] for u in listed if u["username"] == body["username"]] == [VILLAGE_A1]


async def test_the_conflict_does_not_spoil_the_next_request(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    body = new_user()
    await client.post(USERS, json=body, headers=county_admin.headers)
    assert_problem(await client.post(USERS, json=body, headers=county_admin.headers), 409)

    response = await client.post(USERS, json=new_user(), headers=county_admin.headers)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("extra", [{"is_superuser": True}, {"password_hash": "x"}, {"id": str(uuid.uuid4())}])
async def test_an_unknown_body_field_is_422_and_creates_nothing(
    client: httpx.AsyncClient, county_admin: Account, extra: dict[str, Any]
) -> None:
    body = new_user() | extra

    response = await client.post(USERS, json=body, headers=county_admin.headers)

    problem = assert_problem(response, 422, "validation")
    assert [e["loc"] for e in problem["errors"]] == [["body", next(iter(extra))]]
    assert body["username"] not in await usernames(client, county_admin.headers)


async def test_a_password_under_8_characters_is_422_and_creates_nothing(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    weak = new_user(password="1234567")
    just_enough = new_user(password="12345678")

    response = await client.post(USERS, json=weak, headers=county_admin.headers)

    problem = assert_problem(response, 422, "users.weak_password")
    assert problem["errors"][0]["loc"] == ["body", "password"]
    assert weak["username"] not in await usernames(client, county_admin.headers)
    assert (await client.post(USERS, json=just_enough, headers=county_admin.headers)).status_code == 201


@pytest.mark.parametrize("region_code", ["62052210020", "abc", "6205221002011", "", "62052210020x"])
async def test_a_malformed_region_code_is_422(
    client: httpx.AsyncClient, county_admin: Account, region_code: str
) -> None:
    response = await client.post(USERS, json=new_user(region_code=region_code), headers=county_admin.headers)

    problem = assert_problem(response, 422, "validation")
    assert problem["errors"][0]["loc"] == ["body", "region_code"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "a"),  # too short
        ("username", "王五"),  # outside the allowed characters
        ("display_name", ""),
        ("roles", []),
        ("roles", ["wizard"]),
    ],
)
async def test_invalid_fields_are_422(
    client: httpx.AsyncClient, county_admin: Account, field: str, value: Any
) -> None:
    response = await client.post(USERS, json=new_user(**{field: value}), headers=county_admin.headers)

    problem = assert_problem(response, 422, "validation")
    assert problem["errors"][0]["loc"][:2] == ["body", field]


# Changing ------------------------------------------------------------------------------------------------


async def create(client: httpx.AsyncClient, admin: Account, **overrides: Any) -> dict[str, Any]:
    response = await client.post(USERS, json=new_user(**overrides), headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def fetch(client: httpx.AsyncClient, admin: Account, user_id: str) -> dict[str, Any]:
    response = await client.get(f"{USERS}/{user_id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    fetched: dict[str, Any] = response.json()
    return fetched


def without(user: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k not in {"updated_at", *fields}}


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient, county_admin: Account) -> None:
    user = await create(client, county_admin)

    renamed = await client.patch(
        f"{USERS}/{user['id']}", json={"display_name": "新名字"}, headers=county_admin.headers
    )
    moved = await client.patch(
        f"{USERS}/{user['id']}",
        json={"region_code": VILLAGE_B1, "roles": ["township_reviewer"]},
        headers=county_admin.headers,
    )

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["display_name"] == "新名字"
    assert without(renamed.json(), "display_name") == without(user, "display_name")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["region_code"], moved.json()["roles"]) == (VILLAGE_B1, ["township_reviewer"])
    assert without(moved.json(), "region_code", "roles") == without(renamed.json(), "region_code", "roles")
    assert await fetch(client, county_admin, user["id"]) == moved.json()


async def test_patch_of_the_password_lets_the_user_sign_in_with_the_new_one_only(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    user = await create(client, county_admin)

    response = await client.patch(
        f"{USERS}/{user['id']}", json={"password": "another long one"}, headers=county_admin.headers
    )

    assert response.status_code == 200, response.text
    assert_problem(await sign_in(client, user["username"], NEW_PASSWORD), 401)
    assert (await sign_in(client, user["username"], "another long one")).status_code == 200


async def test_patch_with_a_weak_password_is_422_and_keeps_the_old_one(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    user = await create(client, county_admin)

    response = await client.patch(
        f"{USERS}/{user['id']}", json={"password": "short"}, headers=county_admin.headers
    )

    assert_problem(response, 422, "users.weak_password")
    assert (await sign_in(client, user["username"], NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "field", ["display_name", "region_code", "roles", "password", "has_personal_data_grant", "is_active"]
)
async def test_patch_with_an_explicit_null_is_422_and_changes_nothing(
    client: httpx.AsyncClient, county_admin: Account, field: str
) -> None:
    user = await create(client, county_admin)

    response = await client.patch(f"{USERS}/{user['id']}", json={field: None}, headers=county_admin.headers)

    problem = assert_problem(response, 422, "validation")
    assert problem["errors"][0]["loc"] == ["body", field]
    assert await fetch(client, county_admin, user["id"]) == user


async def test_patch_with_an_unknown_field_is_422_and_changes_nothing(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    user = await create(client, county_admin)

    response = await client.patch(
        f"{USERS}/{user['id']}",
        json={"display_name": "改名", "username": "renamed"},
        headers=county_admin.headers,
    )

    assert_problem(response, 422, "validation")
    assert await fetch(client, county_admin, user["id"]) == user


async def test_disabling_a_user_stops_their_sign_in_and_ends_their_sessions(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    user = await create(client, county_admin)
    signed_in = (await sign_in(client, user["username"], NEW_PASSWORD)).json()

    response = await client.patch(
        f"{USERS}/{user['id']}", json={"is_active": False}, headers=county_admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_problem(await sign_in(client, user["username"], NEW_PASSWORD), 401, "auth.invalid_grant")
    refreshed = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": signed_in["refresh_token"]}
    )
    assert_problem(refreshed, 401, "auth.invalid_grant")


@pytest.mark.parametrize(
    "changes",
    [
        {"is_active": False},
        {"roles": ["village_clerk"]},
        {"display_name": "改名"},
        {"password": "a new long password"},
    ],
)
async def test_managing_a_user_with_roles_you_do_not_hold_is_forbidden_and_changes_nothing(
    client: httpx.AsyncClient, county_admin: Account, account_factory: AccountFactory, changes: dict[str, Any]
) -> None:
    target = await account_factory(TOWNSHIP_A, "finance_officer")
    before = await fetch(client, county_admin, str(target.user.id))

    response = await client.patch(f"{USERS}/{target.user.id}", json=changes, headers=county_admin.headers)

    problem = assert_problem(response, 403, "users.grant_not_held")
    assert "finance_officer" in problem["errors"][0]["message"]
    assert await fetch(client, county_admin, str(target.user.id)) == before
    assert (await sign_in(client, target.user.username, PASSWORD)).status_code == 200


async def test_managing_a_user_with_the_personal_data_grant_needs_the_grant(
    client: httpx.AsyncClient, county_admin: Account, account_factory: AccountFactory
) -> None:
    target = await account_factory(VILLAGE_A1, "village_clerk", has_personal_data_grant=True)

    response = await client.patch(
        f"{USERS}/{target.user.id}", json={"is_active": False}, headers=county_admin.headers
    )

    assert_problem(response, 403, "users.grant_not_held")
    assert (await fetch(client, county_admin, str(target.user.id)))["is_active"] is True


async def test_patch_cannot_grant_roles_or_the_personal_data_grant_the_caller_lacks(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    user = await create(client, county_admin)

    roles = await client.patch(
        f"{USERS}/{user['id']}", json={"roles": ["village_clerk", "inspector"]}, headers=county_admin.headers
    )
    grant = await client.patch(
        f"{USERS}/{user['id']}", json={"has_personal_data_grant": True}, headers=county_admin.headers
    )

    assert_problem(roles, 403, "users.grant_not_held")
    assert_problem(grant, 403, "users.grant_not_held")
    assert await fetch(client, county_admin, user["id"]) == user


async def test_patch_cannot_move_a_user_out_of_scope(
    client: httpx.AsyncClient, township_admin: Account, county_admin: Account
) -> None:
    user = await create(client, township_admin)

    for region in (TOWNSHIP_B, COUNTY, OTHER_VILLAGE):
        response = await client.patch(
            f"{USERS}/{user['id']}", json={"region_code": region}, headers=township_admin.headers
        )
        assert_problem(response, 404, "region.not_found")
    assert (await fetch(client, county_admin, user["id"]))["region_code"] == VILLAGE_A1


async def test_an_admin_cannot_disable_themselves(client: httpx.AsyncClient, county_admin: Account) -> None:
    response = await client.patch(
        f"{USERS}/{county_admin.user.id}", json={"is_active": False}, headers=county_admin.headers
    )

    assert_problem(response, 422, "users.self_lockout")
    assert (await fetch(client, county_admin, str(county_admin.user.id)))["is_active"] is True


async def test_an_admin_cannot_drop_their_own_admin_role(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    response = await client.patch(
        f"{USERS}/{county_admin.user.id}", json={"roles": ["county_officer"]}, headers=county_admin.headers
    )

    assert_problem(response, 422, "users.self_lockout")
    assert (await fetch(client, county_admin, str(county_admin.user.id)))["roles"] == [
        "admin",
        "county_officer",
    ]


async def test_an_admin_may_still_change_their_own_display_name(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    response = await client.patch(
        f"{USERS}/{county_admin.user.id}", json={"display_name": "县管理员"}, headers=county_admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "县管理员"


async def test_another_admin_can_disable_an_admin(
    client: httpx.AsyncClient, county_admin: Account, township_admin: Account
) -> None:
    response = await client.patch(
        f"{USERS}/{township_admin.user.id}", json={"is_active": False}, headers=county_admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False


async def test_unknown_and_malformed_user_ids(client: httpx.AsyncClient, county_admin: Account) -> None:
    assert_problem(
        await client.get(f"{USERS}/{uuid.uuid4()}", headers=county_admin.headers), 404, "user.not_found"
    )
    patched = await client.patch(
        f"{USERS}/{uuid.uuid4()}", json={"display_name": "x"}, headers=county_admin.headers
    )
    assert_problem(patched, 404, "user.not_found")
    assert_problem(await client.get(f"{USERS}/not-a-uuid", headers=county_admin.headers), 422, "validation")


# Listing -------------------------------------------------------------------------------------------------


@pytest.fixture
async def people(
    tree: dict[str, str], account_factory: AccountFactory, county_admin: Account, township_admin: Account
) -> dict[str, Account]:
    """One user in each corner of the tree, besides the two admins."""
    return {
        "a1": await account_factory(VILLAGE_A1, "village_clerk", username="clerk_a1"),
        "a": await account_factory(TOWNSHIP_A, "township_reviewer", username="reviewer_a"),
        "b1": await account_factory(VILLAGE_B1, "village_clerk", username="clerk_b1"),
        "b": await account_factory(TOWNSHIP_B, "township_reviewer", username="reviewer_b"),
        "other": await account_factory(OTHER_VILLAGE, "village_clerk", username="clerk_other"),
        "other_admin": await account_factory(OTHER_COUNTY, "admin", "county_officer", username="other_admin"),
    }


async def test_user_list_holds_only_users_in_scope(
    client: httpx.AsyncClient, people: dict[str, Account], county_admin: Account, township_admin: Account
) -> None:
    county = await usernames(client, county_admin.headers)
    township = await usernames(client, township_admin.headers)
    other = await usernames(client, people["other_admin"].headers)

    assert county == {"county_admin", "township_admin", "clerk_a1", "reviewer_a", "clerk_b1", "reviewer_b"}
    assert township == {"township_admin", "clerk_a1", "reviewer_a"}
    assert other == {"clerk_other", "other_admin"}


async def test_region_filter_narrows_the_user_list_within_scope(
    client: httpx.AsyncClient, people: dict[str, Account], county_admin: Account, township_admin: Account
) -> None:
    assert await usernames(client, county_admin.headers, region=TOWNSHIP_B) == {"clerk_b1", "reviewer_b"}
    assert await usernames(client, county_admin.headers, region=VILLAGE_A1) == {"clerk_a1"}
    assert await usernames(client, county_admin.headers, region=OTHER_COUNTY) == set()
    assert await usernames(client, township_admin.headers, region=TOWNSHIP_B) == set()
    assert await usernames(client, township_admin.headers, region=COUNTY) == {
        "township_admin",
        "clerk_a1",
        "reviewer_a",
    }


async def test_a_malformed_region_filter_is_422(client: httpx.AsyncClient, county_admin: Account) -> None:
    response = await client.get(USERS, params={"region": "6205"}, headers=county_admin.headers)

    problem = assert_problem(response, 422, "validation")
    assert problem["errors"][0]["loc"] == ["query", "region"]


async def test_user_list_pages_walk_every_user_once_in_region_order(
    client: httpx.AsyncClient, people: dict[str, Account], county_admin: Account
) -> None:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get(USERS, params=params, headers=county_admin.headers)
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) <= 2
        seen += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        assert len(seen) < 100, "the cursor never ends"

    names = [user["username"] for user in seen]
    assert len(names) == len(set(names)) == 6
    assert set(names) == await usernames(client, county_admin.headers)
    keys = [(user["region_code"], user["id"]) for user in seen]
    assert [code for code, _ in keys] == sorted(code for code, _ in keys)


async def test_an_invalid_user_list_cursor_is_422(client: httpx.AsyncClient, county_admin: Account) -> None:
    response = await client.get(USERS, params={"cursor": "bogus"}, headers=county_admin.headers)

    assert_problem(response, 422, "pagination.invalid_cursor")


async def test_a_village_clerk_may_not_read_users(
    client: httpx.AsyncClient, people: dict[str, Account], account_factory: AccountFactory
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")

    listed = await client.get(USERS, headers=clerk.headers)
    in_scope = await client.get(f"{USERS}/{people['a1'].user.id}", headers=clerk.headers)
    outside = await client.get(f"{USERS}/{people['b1'].user.id}", headers=clerk.headers)
    created = await client.post(USERS, json=new_user(), headers=clerk.headers)
    patched = await client.patch(
        f"{USERS}/{people['a1'].user.id}", json={"display_name": "x"}, headers=clerk.headers
    )

    assert_problem(listed, 403, "auth.forbidden")
    assert_problem(in_scope, 403, "auth.forbidden")
    assert_problem(outside, 404, "user.not_found")
    assert_problem(created, 403, "auth.forbidden")
    assert_problem(patched, 403, "auth.forbidden")


async def test_users_outside_scope_are_not_found(
    client: httpx.AsyncClient, people: dict[str, Account], township_admin: Account
) -> None:
    for key in ("b1", "b", "other"):
        user_id = people[key].user.id
        assert_problem(
            await client.get(f"{USERS}/{user_id}", headers=township_admin.headers), 404, "user.not_found"
        )
        patched = await client.patch(
            f"{USERS}/{user_id}", json={"is_active": False}, headers=township_admin.headers
        )
        assert_problem(patched, 404, "user.not_found")


async def test_inspector_reads_users_but_cannot_manage_them(
    client: httpx.AsyncClient, people: dict[str, Account], account_factory: AccountFactory
) -> None:
    inspector = await account_factory(COUNTY, "inspector")

    listed = await client.get(USERS, headers=inspector.headers)
    created = await client.post(USERS, json=new_user(), headers=inspector.headers)
    patched = await client.patch(
        f"{USERS}/{people['a1'].user.id}", json={"display_name": "x"}, headers=inspector.headers
    )

    assert listed.status_code == 200, listed.text
    assert_problem(created, 403, "auth.forbidden")
    assert_problem(patched, 403, "auth.forbidden")


async def test_county_officer_without_admin_manages_users_in_scope_but_not_machine_clients(
    client: httpx.AsyncClient, people: dict[str, Account], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    created = await client.post(
        USERS, json=new_user(region_code=TOWNSHIP_B, roles=["township_reviewer"]), headers=officer.headers
    )
    patched = await client.patch(
        f"{USERS}/{people['a1'].user.id}", json={"is_active": False}, headers=officer.headers
    )
    listed = await usernames(client, officer.headers)
    outside = await client.post(USERS, json=new_user(region_code=OTHER_VILLAGE), headers=officer.headers)
    clients = await client.get("/api/v1/clients", headers=officer.headers)
    new_client = await client.post(
        "/api/v1/clients",
        json={"name": "看板", "region_code": COUNTY, "roles": ["county_officer"]},
        headers=officer.headers,
    )

    assert created.status_code == 201, created.text
    assert patched.status_code == 200, patched.text
    assert patched.json()["is_active"] is False
    assert created.json()["username"] in listed
    assert "clerk_b1" in listed
    assert "clerk_other" not in listed
    assert_problem(outside, 404, "region.not_found")
    assert_problem(clients, 403, "auth.forbidden")
    assert_problem(new_client, 403, "auth.forbidden")


async def test_users_need_a_token(client: httpx.AsyncClient, tree: dict[str, str]) -> None:
    assert_problem(await client.get(USERS), 401, "auth.missing_token")
    assert_problem(await client.post(USERS, json=new_user()), 401, "auth.missing_token")


async def test_a_password_is_kept_exactly_as_sent_spaces_included(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    user = await create(client, county_admin, password="  spaced pass  ")

    assert (await sign_in(client, user["username"], "  spaced pass  ")).status_code == 200
    assert_problem(await sign_in(client, user["username"], "spaced pass"), 401)
