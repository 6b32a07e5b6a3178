"""The generic scope sweep: every route of the app, every role, at county, township and village level,
against records in every region of the test tree.

Each route must be declared in a module of ``tests/api/sweep`` (a test fails for any route that is not),
saying what it needs and how to aim it at a region. The sweep then proves, for every principal and every
target: out of scope → 404 (a record elsewhere is indistinguishable from a missing one) and nothing
changes; in scope without the permission → 403 and nothing changes; in scope with it → success.
Lists must return exactly the records of the caller's subtree.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.db.base import Base
from app.db.session import Database
from app.domain.principal import Principal, Role
from app.domain.regions import codes
from app.settings import Settings
from tests.api.sweep import (
    SWEEP_LEVELS,
    Listing,
    Own,
    Permitted,
    Public,
    Request,
    Spec,
    Targeted,
    World,
)
from tests.api.sweep import bulk as bulk_specs
from tests.api.sweep import funds as fund_specs
from tests.api.sweep import households as household_specs
from tests.api.sweep import lifecycle as lifecycle_specs
from tests.api.sweep import plans as plan_specs
from tests.api.sweep import platform as platform_specs
from tests.api.sweep import projects as project_specs
from tests.api.sweep import responsibility as responsibility_specs
from tests.conftest import make_user, store_tree

DOMAINS = (
    platform_specs,
    household_specs,
    bulk_specs,
    lifecycle_specs,
    responsibility_specs,
    plan_specs,
    fund_specs,  # before the projects: their build adds its ledger records to this module's lists
    project_specs,
)
SPECS: dict[tuple[str, str], Spec] = {key: spec for domain in DOMAINS for key, spec in domain.SPECS.items()}
SUCCESS = {200, 201, 202, 204}  # 202: an import job accepted


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every operation the app serves, read from its own OpenAPI description."""
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}


async def build_world(db: Database, settings: Settings) -> World:
    await store_tree(db)
    world = World()
    for domain in DOMAINS:
        await domain.build(db, settings, world)
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
            if table.name in ("login_throttle", "audit_log"):
                continue
            rows = (await connection.execute(select(table))).all()
            state[table.name] = sorted(tuple(map(str, row)) for row in rows)
    return state


class Snapshots:
    """The state of every table as last proven: a refused write's after-snapshot is the next one's before,
    so a run of refusals reads the tables once each instead of twice per request (it was two thirds of
    the sweep's time). Anything that may have written forgets it."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: dict[str, list[tuple[Any, ...]]] | None = None

    async def current(self) -> dict[str, list[tuple[Any, ...]]]:
        if self._known is None:
            self._known = await snapshot(self._db)
        return self._known

    async def assert_unchanged(self, before: dict[str, list[tuple[Any, ...]]], context: Any) -> None:
        after = await snapshot(self._db)
        assert after == before, ("a refused write changed data", *context)
        self._known = after

    def forget(self) -> None:
        self._known = None


def _url(path: str, request: Request) -> str:
    values = request.get("path")
    if values is None:
        return path
    if not isinstance(values, dict):
        values = {re.search(r"\{(\w+)\}", path).group(1): values}  # type: ignore[union-attr]
    return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), path)


async def _send(
    client: httpx.AsyncClient, method: str, url: str, token: str, request: Request
) -> httpx.Response:
    return await client.request(
        method,
        url,
        headers={"Authorization": f"Bearer {token}", **request.get("headers", {})},
        json=request.get("json"),
        files=request.get("files"),
        params=request.get("params"),
    )


def test_every_route_is_declared_for_the_sweep(app: FastAPI) -> None:
    undeclared = app_routes(app) - set(SPECS)
    assert not undeclared, (
        f"declare these routes in tests/api/sweep so the scope sweep covers them: {sorted(undeclared)}"
    )
    stale = set(SPECS) - app_routes(app)
    assert not stale, f"the sweep declares routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize(("method", "path"), sorted(SPECS))
async def test_scope_sweep(
    method: str, path: str, client: httpx.AsyncClient, db: Database, settings: Settings, app: FastAPI
) -> None:
    spec = SPECS[(method, path)]
    if isinstance(spec, Public):
        response = await client.request(method, path)
        assert response.status_code < 500, response.text
        return
    world = await build_world(db, settings)
    snapshots = Snapshots(db)
    for principal, token in world.principals:
        who = f"{sorted(principal.roles)} at {principal.region_code}"
        if method != "GET" and not isinstance(spec, Targeted):
            snapshots.forget()
        if isinstance(spec, Own):
            response = await _send(client, method, path, token, spec.request(principal))
            assert response.status_code == spec.expected, (who, response.text)
        elif isinstance(spec, Permitted):
            response = await _send(client, method, path, token, spec.request(principal))
            assert response.status_code == (200 if principal.can(spec.permission) else 403), (
                who,
                response.text,
            )
        elif isinstance(spec, Listing):
            await _sweep_listing(client, spec, world, principal, token, who)
        else:
            await _sweep_targets(client, snapshots, method, path, spec, world, principal, token, who, app)
    # Without a token, nothing but the public routes answers.
    response = await client.request(method, re.sub(r"\{\w+\}", "x", path))
    assert response.status_code in (401, 422), response.text


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
    snapshots: Snapshots,
    method: str,
    path: str,
    spec: Targeted,
    world: World,
    principal: Principal,
    token: str,
    who: str,
    app: FastAPI,
) -> None:
    for region in spec.targets:
        in_scope = codes.is_within(region, principal.scope_prefix)
        allowed = spec.allows(principal) if spec.allows is not None else principal.can(spec.permission)
        if spec.permission_first and not allowed:
            expected: int | set[int] = 403
        elif not in_scope:
            expected = spec.out_of_scope_status
        else:
            expected = SUCCESS if allowed else 403
        request = spec.request(world, region, principal)
        await app.state.jobs.wait_idle()  # jobs an earlier request started (imports) have ended
        before = await snapshots.current() if method != "GET" and expected != SUCCESS else None
        response = await _send(client, method, _url(path, request), token, request)
        context = (who, method, path, region, response.text)
        if expected == SUCCESS:
            assert response.status_code in SUCCESS, context
        else:
            assert response.status_code == expected, context
            assert response.headers["content-type"].startswith("application/problem+json"), context
        if before is not None:
            await snapshots.assert_unchanged(before, context)
        elif method != "GET":
            snapshots.forget()
