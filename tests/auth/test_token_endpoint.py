"""``POST /api/v1/auth/token`` and the sessions it opens: the password, refresh-token and client-credentials
grants, throttling of failed sign-ins, logout, and every account change that must end a user's sessions.

argon2 is deliberately slow, so each test signs in only as often as the behaviour needs.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from jose import jwt
from sqlalchemy import update

from app.db.base import utcnow
from app.db.models import RefreshToken
from app.db.session import Database
from app.domain.principal import permissions_of
from app.settings import Settings
from tests.auth.support import LOGOUT, ME, TOKEN, AccountFactory, serving
from tests.conftest import (
    COUNTY,
    PASSWORD,
    TOWNSHIP_A,
    VILLAGE_A1,
    Account,
    assert_problem,
    make_client,
)

NEW_PASSWORD = "a brand new passphrase"


async def password_grant(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post(TOKEN, data={"grant_type": "password", "username": username, "password": password})


async def sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await password_grant(http, username, password)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(http: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await http.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body without what differs per request."""
    return {key: value for key, value in body.items() if key not in {"request_id", "instance"}}


def assert_refused_refresh(response: httpx.Response) -> None:
    assert_problem(response, 401, "auth.invalid_grant")


# Password grant ---------------------------------------------------------------------------------------------


async def test_password_grant_returns_bearer_access_and_refresh_tokens_marked_no_store(
    client: httpx.AsyncClient,
    settings: Settings,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    response = await password_grant(client, account.user.username)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body.keys() == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert isinstance(body["refresh_token"], str)
    assert len(body["refresh_token"]) >= 32
    assert body["refresh_token"] != body["access_token"]
    claims = jwt.decode(
        body["access_token"],
        settings.verification_key,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    assert claims["sub"] == f"user:{account.user.id}"
    assert claims["exp"] - int(claims["iat"]) == settings.access_token_ttl_seconds


async def test_access_token_from_password_grant_opens_me_with_roles_region_scope_and_permissions(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(COUNTY, "county_officer", "finance_officer")
    grant = await sign_in(client, account.user.username)

    response = await client.get(ME, headers=bearer(grant["access_token"]))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "kind": "user",
        "id": str(account.user.id),
        "name": account.user.username,
        "display_name": "测试用户",
        "region_code": COUNTY,
        "region_name": "秦安县",
        "scope_prefix": "620522",
        "roles": ["county_officer", "finance_officer"],
        "permissions": sorted(permissions_of(["county_officer", "finance_officer"])),
    }
    assert {"users:manage", "households:write", "reference:write"} <= set(response.json()["permissions"])


async def test_me_shows_the_personal_data_permission_of_a_granted_user(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(TOWNSHIP_A, "township_reviewer", has_personal_data_grant=True)
    grant = await sign_in(client, account.user.username)

    me = (await client.get(ME, headers=bearer(grant["access_token"]))).json()

    assert me["scope_prefix"] == "620522100"
    assert me["roles"] == ["township_reviewer"]
    assert me["permissions"] == sorted(permissions_of(["township_reviewer"], has_personal_data_grant=True))
    assert "personal_data:read" in me["permissions"]


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")

    wrong_password = await password_grant(client, account.user.username, "not the password")
    unknown_user = await password_grant(client, "nobody-by-this-name", PASSWORD)

    wrong = assert_problem(wrong_password, 401, "auth.invalid_grant")
    unknown = assert_problem(unknown_user, 401, "auth.invalid_grant")
    assert comparable(wrong) == comparable(unknown)
    assert wrong_password.headers["www-authenticate"] == unknown_user.headers["www-authenticate"] == "Bearer"
    assert "access_token" not in wrong
    assert "access_token" not in unknown


async def test_disabled_user_cannot_sign_in_with_the_right_password(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk", is_active=False)
    wrong = await password_grant(client, "nobody-by-this-name")

    response = await password_grant(client, account.user.username)

    body = assert_problem(response, 401, "auth.invalid_grant")
    assert comparable(body) == comparable(
        assert_problem(wrong, 401)
    )  # indistinguishable from a wrong password


async def test_username_is_matched_exactly(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk", username="wang.lei")
    assert_problem(await password_grant(client, "WANG.LEI"), 401, "auth.invalid_grant")
    assert_problem(await password_grant(client, " wang.lei"), 401, "auth.invalid_grant")
    await sign_in(client, account.user.username)


# Throttling -------------------------------------------------------------------------------------------------


async def test_username_is_locked_after_max_failures_even_for_the_right_password(
    client: httpx.AsyncClient,
    settings: Settings,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    victim = await account_factory(VILLAGE_A1, "village_clerk", username="li.na")
    bystander = await account_factory(VILLAGE_A1, "village_clerk")
    for attempt in range(settings.login_max_failures_per_username):
        response = await password_grant(client, victim.user.username, f"guess {attempt}")
        assert_problem(response, 401, "auth.invalid_grant")

    locked = await password_grant(client, victim.user.username)

    body = assert_problem(locked, 429, "auth.login_throttled")
    retry_after = int(locked.headers["retry-after"])
    assert 0 < retry_after <= settings.login_lockout_seconds
    assert str(retry_after) in body["detail"]
    # The lock is on the username, whatever its case ...
    assert_problem(await password_grant(client, "LI.NA"), 429, "auth.login_throttled")
    # ... and not on the address: another user at the same address signs in.
    await sign_in(client, bystander.user.username)


async def test_address_is_locked_after_max_failures_across_usernames(
    settings: Settings,
    db: Database,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    strict = settings.model_copy(update={"login_max_failures_per_address": 3})
    account = await account_factory(VILLAGE_A1, "village_clerk")
    async with serving(strict, address="198.51.100.66") as attacker:
        for name in ("alpha", "bravo", "charlie"):
            assert_problem(await password_grant(attacker, name, "guess"), 401, "auth.invalid_grant")

        locked = await password_grant(attacker, account.user.username)

        assert_problem(locked, 429, "auth.login_throttled")
        assert 0 < int(locked.headers["retry-after"]) <= strict.login_lockout_seconds
        async with serving(strict, address="198.51.100.67") as elsewhere:
            await sign_in(elsewhere, account.user.username)  # the same user from another address


async def test_successful_sign_in_resets_the_username_failure_count(
    settings: Settings,
    db: Database,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    strict = settings.model_copy(update={"login_max_failures_per_username": 2})
    account = await account_factory(VILLAGE_A1, "village_clerk")
    async with serving(strict) as http:
        assert_problem(await password_grant(http, account.user.username, "typo"), 401)
        await sign_in(http, account.user.username)
        assert_problem(await password_grant(http, account.user.username, "typo"), 401)
        # Two failures in all, but only one since the success: not locked.
        await sign_in(http, account.user.username)
        # The count does start again from there: two failures in a row lock.
        assert_problem(await password_grant(http, account.user.username, "typo"), 401)
        assert_problem(await password_grant(http, account.user.username, "typo"), 401)
        assert_problem(await password_grant(http, account.user.username), 429, "auth.login_throttled")


async def test_failed_client_credentials_are_throttled_per_client_id(
    settings: Settings,
    db: Database,
    tree: dict[str, str],
) -> None:
    strict = settings.model_copy(update={"login_max_failures_per_username": 2})
    api_client = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    form = {"grant_type": "client_credentials", "client_id": api_client.client_id}
    async with serving(strict) as http:
        for _ in range(2):
            response = await http.post(TOKEN, data={**form, "client_secret": "wrong"})
            assert_problem(response, 401, "auth.invalid_client")
        locked = await http.post(TOKEN, data={**form, "client_secret": PASSWORD})
        assert_problem(locked, 429, "auth.login_throttled")
        assert "retry-after" in locked.headers


# Refresh grant ----------------------------------------------------------------------------------------------


async def test_refresh_grant_rotates_and_the_new_tokens_work(
    client: httpx.AsyncClient,
    settings: Settings,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    first = await sign_in(client, account.user.username)

    response = await refresh(client, first["refresh_token"])

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["token_type"] == "bearer"
    assert second["expires_in"] == settings.access_token_ttl_seconds
    assert second["refresh_token"] not in (None, first["refresh_token"])
    assert second["access_token"] != first["access_token"]
    me = await client.get(ME, headers=bearer(second["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(account.user.id)
    third = await refresh(client, second["refresh_token"])  # the new refresh token rotates in turn
    assert third.status_code == 200, third.text


async def test_reusing_a_rotated_refresh_token_is_refused_and_revokes_the_whole_family(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    first = (await sign_in(client, account.user.username))["refresh_token"]
    other_session = (await sign_in(client, account.user.username))["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]
    newest = (await refresh(client, second)).json()["refresh_token"]

    assert_refused_refresh(await refresh(client, first))  # the rotated token: someone kept a copy

    assert_refused_refresh(await refresh(client, newest))  # so the legitimate newest token ends too
    assert_refused_refresh(await refresh(client, second))
    # Another sign-in of the same user is another family, and lives on.
    assert (await refresh(client, other_session)).status_code == 200


async def test_unknown_or_expired_refresh_token_is_refused(
    client: httpx.AsyncClient,
    db: Database,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    grant = await sign_in(client, account.user.username)
    assert_refused_refresh(await refresh(client, "not-a-refresh-token"))
    assert_refused_refresh(await refresh(client, grant["access_token"][:500]))  # an access token is not one

    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == account.user.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    assert_refused_refresh(await refresh(client, grant["refresh_token"]))


# Logout -----------------------------------------------------------------------------------------------------


async def test_logout_revokes_that_refresh_token_only(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    phone = await sign_in(client, account.user.username)
    laptop = await sign_in(client, account.user.username)

    response = await client.post(LOGOUT, json={"refresh_token": phone["refresh_token"]})

    assert response.status_code == 204, response.text
    assert_refused_refresh(await refresh(client, phone["refresh_token"]))
    assert (await refresh(client, laptop["refresh_token"])).status_code == 200


async def test_logout_with_an_unknown_token_is_accepted_silently(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(LOGOUT, json={"refresh_token": "never-issued"})
    assert response.status_code == 204, response.text


async def test_logout_without_a_token_is_a_validation_problem(
    client: httpx.AsyncClient, db: Database
) -> None:
    assert_problem(await client.post(LOGOUT, json={}), 422, "validation")
    assert_problem(await client.post(LOGOUT, json={"refresh_token": ""}), 422, "validation")


# Account changes end sessions -------------------------------------------------------------------------------


async def test_changing_ones_own_password_revokes_refresh_tokens(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    grant = await sign_in(client, account.user.username)

    response = await client.post(
        f"{ME}/password",
        headers=bearer(grant["access_token"]),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204, response.text
    assert_refused_refresh(await refresh(client, grant["refresh_token"]))
    assert_problem(await password_grant(client, account.user.username, PASSWORD), 401, "auth.invalid_grant")
    await sign_in(client, account.user.username, NEW_PASSWORD)


async def test_changing_ones_own_password_with_a_wrong_current_password_is_422_and_changes_nothing(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    grant = await sign_in(client, account.user.username)

    response = await client.post(
        f"{ME}/password",
        headers=bearer(grant["access_token"]),
        json={"current_password": "not the password", "new_password": NEW_PASSWORD},
    )

    body = assert_problem(response, 422, "users.wrong_password")
    assert body["errors"] == [
        {"loc": ["body", "current_password"], "message": "does not match", "code": "mismatch"}
    ]
    # Neither the password nor the sessions changed.
    assert (await refresh(client, grant["refresh_token"])).status_code == 200
    assert_problem(await password_grant(client, account.user.username, NEW_PASSWORD), 401)


async def test_changing_ones_own_password_to_a_short_one_is_422(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.post(
        f"{ME}/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    body = assert_problem(response, 422, "users.weak_password")
    assert body["errors"][0]["loc"] == ["body", "new_password"]


async def test_own_password_is_kept_exactly_as_typed_including_surrounding_spaces(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    """The sign-in form does not trim passwords, so the password change must not either."""
    account = await account_factory(VILLAGE_A1, "village_clerk")
    spaced = f"  {NEW_PASSWORD}  "
    response = await client.post(
        f"{ME}/password", headers=account.headers, json={"current_password": PASSWORD, "new_password": spaced}
    )
    assert response.status_code == 204, response.text
    grant = await sign_in(client, account.user.username, spaced)

    # ... and the spaced password is accepted as the current one.
    back = await client.post(
        f"{ME}/password",
        headers=bearer(grant["access_token"]),
        json={"current_password": spaced, "new_password": PASSWORD},
    )
    assert back.status_code == 204, back.text


async def test_machine_client_cannot_change_a_password(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str]
) -> None:
    api_client = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    token = (await client_token(client, api_client.client_id)).json()["access_token"]
    response = await client.post(
        f"{ME}/password",
        headers=bearer(token),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert_problem(response, 404)


@pytest.fixture
async def manager(account_factory: AccountFactory) -> Account:
    """An admin of the county who also holds the role of the users it manages."""
    account: Account = await account_factory(COUNTY, "admin", "village_clerk")
    return account


async def test_admin_disabling_a_user_revokes_their_refresh_tokens_and_sign_in(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
    manager: Account,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    grant = await sign_in(client, account.user.username)

    response = await client.patch(
        f"/api/v1/users/{account.user.id}", headers=manager.headers, json={"is_active": False}
    )

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_refused_refresh(await refresh(client, grant["refresh_token"]))
    assert_problem(await password_grant(client, account.user.username), 401, "auth.invalid_grant")


async def test_admin_resetting_a_password_revokes_refresh_tokens(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
    manager: Account,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    grant = await sign_in(client, account.user.username)

    response = await client.patch(
        f"/api/v1/users/{account.user.id}", headers=manager.headers, json={"password": NEW_PASSWORD}
    )

    assert response.status_code == 200, response.text
    assert_refused_refresh(await refresh(client, grant["refresh_token"]))
    assert_problem(await password_grant(client, account.user.username, PASSWORD), 401, "auth.invalid_grant")
    await sign_in(client, account.user.username, NEW_PASSWORD)


async def test_admin_renaming_a_user_keeps_their_sessions(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
    manager: Account,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    grant = await sign_in(client, account.user.username)

    response = await client.patch(
        f"/api/v1/users/{account.user.id}", headers=manager.headers, json={"display_name": "王磊"}
    )

    assert response.status_code == 200, response.text
    assert (await refresh(client, grant["refresh_token"])).status_code == 200


async def test_admin_changing_roles_revokes_refresh_tokens(
    client: httpx.AsyncClient,
    tree: dict[str, str],
    account_factory: AccountFactory,
) -> None:
    officer = await account_factory(COUNTY, "county_officer")
    account = await account_factory(VILLAGE_A1, "village_clerk")
    grant = await sign_in(client, account.user.username)

    response = await client.patch(
        f"/api/v1/users/{account.user.id}", headers=officer.headers, json={"roles": ["township_reviewer"]}
    )

    assert response.status_code == 200, response.text
    assert_refused_refresh(await refresh(client, grant["refresh_token"]))


# Client-credentials grant -----------------------------------------------------------------------------------


async def client_token(
    http: httpx.AsyncClient, client_id: str, secret: str = PASSWORD, *, basic: bool = False
) -> httpx.Response:
    if basic:
        credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return await http.post(
            TOKEN,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {credentials}"},
        )
    return await http.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )


@pytest.mark.parametrize("basic", [False, True], ids=["form fields", "HTTP Basic"])
async def test_client_credentials_grant_returns_an_access_token_and_no_refresh_token(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    tree: dict[str, str],
    basic: bool,
) -> None:
    api_client = await make_client(db, region_code=COUNTY, roles=["data_consumer"])

    response = await client_token(client, api_client.client_id, basic=basic)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert body.get("refresh_token") is None
    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json() == {
        "kind": "client",
        "id": str(api_client.id),
        "name": api_client.client_id,
        "display_name": "测试客户端",
        "region_code": COUNTY,
        "region_name": "秦安县",
        "scope_prefix": "620522",
        "roles": ["data_consumer"],
        "permissions": sorted(permissions_of(["data_consumer"])),
    }


async def test_client_credentials_refused_for_wrong_secret_unknown_or_disabled_client(
    client: httpx.AsyncClient,
    db: Database,
    tree: dict[str, str],
) -> None:
    active = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    disabled = await make_client(db, region_code=COUNTY, roles=["data_consumer"], is_active=False)
    attempts = {
        "wrong secret in the form": await client_token(client, active.client_id, "wrong secret"),
        "wrong secret as Basic": await client_token(client, active.client_id, "wrong secret", basic=True),
        "unknown client": await client_token(client, "fpc_0000000000000000"),
        "disabled client": await client_token(client, disabled.client_id),
        "disabled client as Basic": await client_token(client, disabled.client_id, basic=True),
    }
    bodies = {
        name: assert_problem(response, 401, "auth.invalid_client") for name, response in attempts.items()
    }
    assert len({str(comparable(body)) for body in bodies.values()}) == 1, bodies


async def test_basic_credentials_take_precedence_over_form_fields(
    client: httpx.AsyncClient,
    db: Database,
    tree: dict[str, str],
) -> None:
    api_client = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    credentials = base64.b64encode(f"{api_client.client_id}:wrong secret".encode()).decode()
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": api_client.client_id,
            "client_secret": PASSWORD,
        },
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert_problem(response, 401, "auth.invalid_client")


# Malformed requests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "missing"),
    [
        ({"grant_type": "password"}, ["username", "password"]),
        ({"grant_type": "password", "username": "someone"}, ["username", "password"]),
        ({"grant_type": "password", "password": PASSWORD}, ["username", "password"]),
        ({"grant_type": "client_credentials"}, ["client_id", "client_secret"]),
        ({"grant_type": "client_credentials", "client_id": "fpc_x"}, ["client_id", "client_secret"]),
        ({"grant_type": "client_credentials", "client_secret": "s"}, ["client_id", "client_secret"]),
        ({"grant_type": "refresh_token"}, ["refresh_token"]),
    ],
    ids=[
        "password: nothing",
        "password: no password",
        "password: no username",
        "client_credentials: nothing",
        "client_credentials: no secret",
        "client_credentials: no id",
        "refresh_token: no token",
    ],
)
async def test_grant_without_its_fields_is_400_problem_naming_them(
    client: httpx.AsyncClient, db: Database, form: dict[str, str], missing: list[str]
) -> None:
    response = await client.post(TOKEN, data=form)
    body = assert_problem(response, 400, "auth.invalid_request")
    assert [error["loc"] for error in body["errors"]] == [["body", name] for name in missing]
    assert all(error["code"] == "missing" for error in body["errors"])


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "authorization_code", "code": "abc"},
        {"grant_type": "implicit"},
        {"grant_type": "PASSWORD", "username": "u", "password": "p"},
        {"grant_type": ""},
        {"username": "u", "password": "p"},
    ],
    ids=["authorization_code", "implicit", "wrong case", "empty", "absent"],
)
async def test_unsupported_grant_type_is_a_client_error_problem(
    client: httpx.AsyncClient, db: Database, form: dict[str, str]
) -> None:
    response = await client.post(TOKEN, data=form)
    assert 400 <= response.status_code < 500, response.text
    body = assert_problem(response, response.status_code)
    assert any("grant_type" in error["loc"] for error in body["errors"]), body


async def test_token_request_as_json_is_a_client_error_problem(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(
        TOKEN, json={"grant_type": "password", "username": "someone", "password": PASSWORD}
    )
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


async def test_overlong_credentials_are_refused_before_hashing(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await password_grant(client, "someone", "p" * 10_000)
    assert_problem(response, 422, "validation")
    response = await password_grant(client, "u" * 1_000, PASSWORD)
    assert_problem(response, 422, "validation")
