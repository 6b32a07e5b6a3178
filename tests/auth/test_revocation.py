"""Access tokens stop working as soon as their account changes: disabled, password or roles changed,
a client's secret rotated. Tokens are verified without the database; the account gate is what ends them."""

from __future__ import annotations

import httpx

from app.db.session import Database
from app.settings import Settings
from tests.auth.support import ME, TOKEN, AccountFactory, serving
from tests.conftest import COUNTY, PASSWORD, TOWNSHIP_A, make_client


async def _sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_disabling_a_user_ends_their_access_token_at_once(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    admin = await account_factory(COUNTY, "admin", "county_officer")
    clerk = await account_factory(TOWNSHIP_A, "village_clerk")
    headers = await _sign_in(client, clerk.user.username)
    assert (await client.get(ME, headers=headers)).status_code == 200
    response = await client.patch(
        f"/api/v1/users/{clerk.user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200, response.text
    assert (await client.get(ME, headers=headers)).status_code == 401
    # Enabling the account again does not bring the old token back.
    await client.patch(f"/api/v1/users/{clerk.user.id}", headers=admin.headers, json={"is_active": True})
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_a_role_change_ends_old_tokens_and_the_new_sign_in_carries_the_new_roles(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    admin = await account_factory(COUNTY, "admin", "county_officer")
    user = await account_factory(TOWNSHIP_A, "village_clerk")
    old = await _sign_in(client, user.user.username)
    response = await client.patch(
        f"/api/v1/users/{user.user.id}", headers=admin.headers, json={"roles": ["township_reviewer"]}
    )
    assert response.status_code == 200, response.text
    assert (await client.get(ME, headers=old)).status_code == 401
    # A token issued in the same second as the change must not be refused: wait for the next second.
    fresh = await _sign_in(client, user.user.username)
    me = await client.get(ME, headers=fresh)
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["township_reviewer"]


async def test_changing_ones_password_ends_the_access_token(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    user = await account_factory(TOWNSHIP_A, "village_clerk")
    headers = await _sign_in(client, user.user.username)
    response = await client.post(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
    )
    assert response.status_code == 204, response.text
    assert (await client.get(ME, headers=headers)).status_code == 401
    assert (
        await client.get(ME, headers=await _sign_in(client, user.user.username, "a brand new password"))
    ).is_success


async def test_rotating_or_disabling_a_client_ends_its_access_tokens(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    admin = await account_factory(COUNTY, "admin", "data_consumer")
    machine = await make_client(db, region_code=COUNTY, roles=["data_consumer"])
    grant = {"grant_type": "client_credentials", "client_id": machine.client_id, "client_secret": PASSWORD}
    token = (await client.post(TOKEN, data=grant)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get(ME, headers=headers)).status_code == 200
    rotated = await client.post(f"/api/v1/clients/{machine.id}/secret", headers=admin.headers)
    assert rotated.status_code == 200, rotated.text
    assert (await client.get(ME, headers=headers)).status_code == 401

    grant["client_secret"] = rotated.json()["client_secret"]
    headers = {"Authorization": f"Bearer {(await client.post(TOKEN, data=grant)).json()['access_token']}"}
    assert (await client.get(ME, headers=headers)).status_code == 200
    await client.patch(f"/api/v1/clients/{machine.id}", headers=admin.headers, json={"is_active": False})
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_a_token_of_a_deleted_or_unknown_account_is_refused(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory, db: Database
) -> None:
    user = await account_factory(TOWNSHIP_A, "village_clerk")
    async with db.sessionmaker() as session, session.begin():
        await session.delete(await session.merge(user.user))
    assert (await client.get(ME, headers=user.headers)).status_code == 401


async def test_with_a_cache_the_change_takes_effect_within_its_period(
    settings: Settings, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    """FUPIN_ACCOUNT_CHECK_SECONDS trades a bounded delay for one lookup per account per period."""
    cached = settings.model_copy(update={"account_check_seconds": 3600})
    admin = await account_factory(COUNTY, "admin", "county_officer")
    clerk = await account_factory(TOWNSHIP_A, "village_clerk")
    async with serving(cached) as http:
        assert (await http.get(ME, headers=clerk.headers)).status_code == 200
        await http.patch(f"/api/v1/users/{clerk.user.id}", headers=admin.headers, json={"is_active": False})
        # Still inside the period on this process: accepted; a process that has not cached it refuses.
        assert (await http.get(ME, headers=clerk.headers)).status_code == 200
    async with serving(cached) as other_process:
        assert (await other_process.get(ME, headers=clerk.headers)).status_code == 401
