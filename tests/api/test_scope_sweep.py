"""The generic scope sweep: every route of the app, every role, at county, township and village level,
against records in every region of the test tree.

Each route must be declared below (a test fails for any route that is not), saying what it needs and
how to aim it at a region. The sweep then proves, for every principal and every target:
out of scope → 404 (a record elsewhere is indistinguishable from a missing one) and nothing changes;
in scope without the permission → 403 and nothing changes; in scope with it → success.
Lists must return exactly the records of the caller's subtree.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.db.base import Base
from app.db.session import Database
from app.domain.principal import Permission, Principal, Role
from app.domain.regions import codes
from app.settings import Settings
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    TREE,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
    make_client,
    make_user,
    store_tree,
)

SWEEP_LEVELS = (COUNTY, TOWNSHIP_A, VILLAGE_A1)
TARGETS = (
    COUNTY,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
    OTHER_COUNTY,
    OTHER_VILLAGE,
)
SUCCESS = {200, 201, 204}


@dataclass
class World:
    """One user and one machine client in every target region, holding no roles (so that managing
    them needs no particular role: the sweep is about scope)."""

    users: dict[str, uuid.UUID] = field(default_factory=dict)
    clients: dict[str, uuid.UUID] = field(default_factory=dict)
    # The sweep's principals are stored users too; their regions show up in user lists.
    principals: list[tuple[Principal, str]] = field(default_factory=list)

    def user_regions(self) -> list[str]:
        return [*self.users, *(principal.region_code for principal, _ in self.principals)]


Request = dict[str, Any]


@dataclass(frozen=True)
class Public:
    """Needs no token (probes, the token endpoint itself)."""

    why: str


@dataclass(frozen=True)
class Own:
    """Acts on the caller's own account; every authenticated principal may call it."""

    request: Callable[[Principal], Request]
    expected: int


@dataclass(frozen=True)
class Targeted:
    """Reads or writes a record that lives in a region."""

    permission: Permission
    request: Callable[[World, str, Principal], Request]
    # Creating or importing checks the role before the target (there is no record to hide yet).
    permission_first: bool = False
    out_of_scope_status: int = 404


@dataclass(frozen=True)
class Listing:
    """A list whose items carry ``region_code``; it must hold exactly the caller's subtree."""

    permission: Permission
    url: str
    expected_regions: Callable[[World], list[str]]


def _csv(code: str) -> Request:
    return {"files": {"file": ("regions.csv", f"code,name\n{code},{TREE[code]}\n".encode(), "text/csv")}}


SPECS: dict[tuple[str, str], Public | Own | Targeted | Listing] = {
    ("GET", "/healthz"): Public("liveness probe"),
    ("GET", "/readyz"): Public("readiness probe"),
    ("POST", "/api/v1/auth/token"): Public("signing in"),
    ("POST", "/api/v1/auth/logout"): Public("revokes the refresh token it is given"),
    ("GET", "/api/v1/me"): Own(lambda p: {}, 200),
    ("POST", "/api/v1/me/password"): Own(
        lambda p: {"json": {"current_password": "not the password", "new_password": "n3w-password!"}}, 422
    ),
    ("GET", "/api/v1/regions"): Listing(Permission.REGIONS_READ, "/api/v1/regions", lambda w: list(TREE)),
    ("GET", "/api/v1/regions/{code}"): Targeted(
        Permission.REGIONS_READ, lambda w, region, p: {"path": region}
    ),
    ("POST", "/api/v1/regions/import"): Targeted(
        Permission.REGIONS_WRITE,
        lambda w, region, p: _csv(region),
        permission_first=True,
        out_of_scope_status=422,
    ),
    ("GET", "/api/v1/users"): Listing(Permission.USERS_READ, "/api/v1/users", lambda w: w.user_regions()),
    ("POST", "/api/v1/users"): Targeted(
        Permission.USERS_MANAGE,
        lambda w, region, p: {
            "json": {
                "username": f"sweep{uuid.uuid4().hex[:10]}",
                "display_name": "扫描用户",
                "region_code": region,
                "roles": sorted(p.roles),
                "password": "sweep-password",
            }
        },
        permission_first=True,
    ),
    ("GET", "/api/v1/users/{user_id}"): Targeted(
        Permission.USERS_READ, lambda w, region, p: {"path": w.users[region]}
    ),
    ("PATCH", "/api/v1/users/{user_id}"): Targeted(
        Permission.USERS_MANAGE,
        lambda w, region, p: {
            "path": w.users[region],
            "json": {"display_name": f"改名{uuid.uuid4().hex[:6]}"},
        },
    ),
    ("GET", "/api/v1/clients"): Listing(
        Permission.CLIENTS_MANAGE, "/api/v1/clients", lambda w: list(w.clients)
    ),
    ("POST", "/api/v1/clients"): Targeted(
        Permission.CLIENTS_MANAGE,
        lambda w, region, p: {
            "json": {"name": "扫描客户端", "region_code": region, "roles": sorted(p.roles)}
        },
        permission_first=True,
    ),
    ("GET", "/api/v1/clients/{client_id}"): Targeted(
        Permission.CLIENTS_MANAGE, lambda w, region, p: {"path": w.clients[region]}
    ),
    ("PATCH", "/api/v1/clients/{client_id}"): Targeted(
        Permission.CLIENTS_MANAGE,
        lambda w, region, p: {"path": w.clients[region], "json": {"name": "改名客户端"}},
    ),
    ("POST", "/api/v1/clients/{client_id}/secret"): Targeted(
        Permission.CLIENTS_MANAGE, lambda w, region, p: {"path": w.clients[region]}
    ),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every operation the app serves, read from its own OpenAPI description."""
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}


async def build_world(db: Database, settings: Settings) -> World:
    await store_tree(db)
    world = World()
    for region in TARGETS:
        world.users[region] = (await make_user(db, settings, region_code=region, roles=[])).user.id
        world.clients[region] = (await make_client(db, region_code=region, roles=[])).id
    for region in SWEEP_LEVELS:
        for role in Role:
            account = await make_user(db, settings, region_code=region, roles=[role])
            world.principals.append((account.principal, account.token))
    return world


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: a refused write must leave all of it as it was."""
    state = {}
    async with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "login_throttle":
                continue
            rows = (await connection.execute(select(table))).all()
            state[table.name] = sorted(tuple(map(str, row)) for row in rows)
    return state


def _url(path: str, request: Request) -> str:
    if "path" in request:
        return path.replace(path[path.index("{") : path.index("}") + 1], str(request["path"]))
    return path


async def _send(
    client: httpx.AsyncClient, method: str, url: str, token: str, request: Request
) -> httpx.Response:
    return await client.request(
        method,
        url,
        headers={"Authorization": f"Bearer {token}"},
        json=request.get("json"),
        files=request.get("files"),
    )


def test_every_route_is_declared_for_the_sweep(app: FastAPI) -> None:
    undeclared = app_routes(app) - set(SPECS)
    assert not undeclared, (
        f"declare these routes in SPECS so the scope sweep covers them: {sorted(undeclared)}"
    )
    stale = set(SPECS) - app_routes(app)
    assert not stale, f"SPECS names routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize(("method", "path"), sorted(SPECS))
async def test_scope_sweep(
    method: str, path: str, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    spec = SPECS[(method, path)]
    if isinstance(spec, Public):
        response = await client.request(method, path)
        assert response.status_code < 500, response.text
        return
    world = await build_world(db, settings)
    for principal, token in world.principals:
        who = f"{sorted(principal.roles)} at {principal.region_code}"
        if isinstance(spec, Own):
            response = await _send(client, method, path, token, spec.request(principal))
            assert response.status_code == spec.expected, (who, response.text)
        elif isinstance(spec, Listing):
            await _sweep_listing(client, spec, world, principal, token, who)
        else:
            await _sweep_targets(client, db, method, path, spec, world, principal, token, who)
    # Without a token, nothing but the public routes answers.
    response = await client.request(method, path.replace("{", "").replace("}", ""))
    assert response.status_code == 401, response.text


async def _sweep_listing(
    client: httpx.AsyncClient, spec: Listing, world: World, principal: Principal, token: str, who: str
) -> None:
    if not principal.can(spec.permission):
        response = await _send(client, "GET", spec.url, token, {})
        assert response.status_code == 403, (who, response.text)
        return
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await client.get(spec.url, params=params, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (who, response.text)
        body = response.json()
        seen.extend(item["region_code"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = [r for r in spec.expected_regions(world) if codes.is_within(r, principal.scope_prefix)]
    assert sorted(seen) == sorted(expected), who


async def _sweep_targets(
    client: httpx.AsyncClient,
    db: Database,
    method: str,
    path: str,
    spec: Targeted,
    world: World,
    principal: Principal,
    token: str,
    who: str,
) -> None:
    for region in TARGETS:
        in_scope = codes.is_within(region, principal.scope_prefix)
        allowed = principal.can(spec.permission)
        if spec.permission_first and not allowed:
            expected: int | set[int] = 403
        elif not in_scope:
            expected = spec.out_of_scope_status
        else:
            expected = SUCCESS if allowed else 403
        request = spec.request(world, region, principal)
        is_write = method != "GET"
        before = await snapshot(db) if is_write and expected != SUCCESS else None
        response = await _send(client, method, _url(path, request), token, request)
        context = (who, method, path, region, response.text)
        if expected == SUCCESS:
            assert response.status_code in SUCCESS, context
        else:
            assert response.status_code == expected, context
            assert response.headers["content-type"].startswith("application/problem+json"), context
        if before is not None:
            assert await snapshot(db) == before, ("a refused write changed data", *context)
