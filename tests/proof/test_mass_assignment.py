"""Mass assignment: every write operation of the OpenAPI description (so a new one cannot be missed) gets a
valid request (the scope sweep's own, from tests/api/sweep) with one server-owned field injected at a time:
`id`, `status`, `balance`, `version`, `roles`, `created_at`, … . Each is refused with 422 naming the field,
or ignored; either way nothing it names lands in the database. Where the body legitimately carries a
`region_code`, it is moved outside the caller's scope instead: refused (404 as for anything out of scope,
or 422), nothing changed.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.db.session import Database
from app.domain.principal import Role
from app.domain.regions import codes
from app.settings import Settings
from tests.api.sweep import Own, Permitted, Public, Spec, Targeted, World
from tests.api.test_scope_sweep import SPECS, _url, build_world, snapshot
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_TOWNSHIP,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    VILLAGE_A1,
    make_user,
)

SENTINEL_ID = "0b5e1e5e-0000-4000-8000-00000000a11d"
# Server-owned fields and a value for each that nothing legitimate would store.
SERVER_OWNED: dict[str, Any] = {
    "id": SENTINEL_ID,
    "status": "approved",
    "balance": "98765432.10",
    "reserved": "98765432.10",
    "available": "98765432.10",
    "amount_fen": 9876543210,
    "version": 987654,
    "roles": ["admin"],
    "permissions": ["users:write", "personal_data:read"],
    "has_personal_data_grant": True,
    "scope_prefix": "",
    "created_at": "1999-12-31T23:59:59Z",
    "updated_at": "1999-12-31T23:59:59Z",
    "created_by": SENTINEL_ID,
    "updated_by": SENTINEL_ID,
    "approved_by": SENTINEL_ID,
    "net_income": "98765432.10",
    "per_capita_net_income": "98765432.10",
    "password_hash": "$argon2id$forged",
    "secret_hash": "$argon2id$forged",
    "region_code": OTHER_VILLAGE,
}
# What would show that an injected value was stored.
TELLTALES = (SENTINEL_ID, "98765432", "9876543210", "987654", "1999-12-31", "$argon2id$forged")
OUTSIDE = {"village": OTHER_VILLAGE, "township": OTHER_TOWNSHIP, "county": OTHER_COUNTY}
PREFERRED_TARGETS = (VILLAGE_A1, TOWNSHIP_A, COUNTY)


def json_write_operations(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    """Every POST/PUT/PATCH taking a JSON body, with the properties its body schema accepts."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if method not in ("post", "put", "patch") or "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            refs = [schema] if "$ref" in schema else [s for s in schema.get("anyOf", []) if "$ref" in s]
            properties: set[str] = set()
            for ref in refs:
                properties |= set(schemas[ref["$ref"].rsplit("/", 1)[1]].get("properties", {}))
            found[(method.upper(), path)] = properties
    return found


def form_write_operations(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for media, body in operation.get("requestBody", {}).get("content", {}).items():
                if media != "application/json":
                    name = body["schema"]["$ref"].rsplit("/", 1)[1]
                    found[(method.upper(), path)] = set(schemas[name].get("properties", {}))
    return found


def test_form_bodies_take_no_server_owned_field(app: FastAPI) -> None:
    """Uploads and the token endpoint read named form fields only; none of them is server-owned."""
    operations = form_write_operations(app)
    assert operations
    for operation, properties in operations.items():
        assert not properties & (set(SERVER_OWNED) - {"status"}), operation


async def _aim(
    spec: Spec, world: World, principals: list[tuple[Any, str]]
) -> tuple[dict[str, Any], str, str] | None:
    """A request the spec says succeeds: (request, token, region) for the first able principal."""
    if isinstance(spec, Public):  # no token; an empty body, so the injected field is the one in question
        return {"json": {}}, "", ""
    for principal, token in principals:
        if isinstance(spec, Own):
            return spec.request(principal), token, principal.region_code
        if isinstance(spec, Permitted):
            if principal.can(spec.permission):
                return spec.request(principal), token, principal.region_code
            continue
        if not isinstance(spec, Targeted):
            return None
        allowed = spec.allows(principal) if spec.allows is not None else principal.can(spec.permission)
        if not allowed:
            continue
        targets = sorted(
            (t for t in spec.targets if codes.is_within(t, principal.scope_prefix)),
            key=lambda t: PREFERRED_TARGETS.index(t) if t in PREFERRED_TARGETS else len(PREFERRED_TARGETS),
        )
        if targets:
            return spec.request(world, targets[0], principal), token, targets[0]
    return None


def _changed_rows(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    changed = []
    for table, rows in after.items():
        old = set(before.get(table, []))
        changed.extend((table, row) for row in rows if row not in old)
    return changed


async def test_no_write_operation_takes_a_server_owned_field(
    client: httpx.AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    world = await build_world(db, settings)
    every_role = sorted(str(role) for role in Role)
    principals = []
    for region in (COUNTY, TOWNSHIP_A, VILLAGE_A1):
        account = await make_user(db, settings, region_code=region, roles=every_role)
        principals.append((account.principal, account.token))
    operations = json_write_operations(app)
    assert len(operations) > 30
    undeclared = set(operations) - set(SPECS)
    assert not undeclared, f"declare these routes in tests/api/sweep: {sorted(undeclared)}"
    failures: list[Any] = []
    tried = 0
    known: dict[str, list[Any]] | None = None  # the last after-snapshot is the next before-snapshot
    for (method, path), accepted in sorted(operations.items()):
        aimed = await _aim(SPECS[(method, path)], world, principals)
        assert aimed is not None, f"no principal may call {method} {path}"
        request, token, _region = aimed
        base = request.get("json")
        if not isinstance(base, dict):
            continue  # no JSON object body in the sweep's request: nothing to inject into
        injections = [(field, value) for field, value in SERVER_OWNED.items() if field not in accepted]
        if "region_code" in accepted and isinstance(base.get("region_code"), str):
            level = codes.level_of(base["region_code"])
            injections.append(("region_code", OUTSIDE.get(level, OTHER_VILLAGE)))
        for field, value in injections:
            tried += 1
            await app.state.jobs.wait_idle()
            before = known if known is not None else await snapshot(db)
            response = await client.request(
                method,
                _url(path, request),
                headers={
                    **({"Authorization": f"Bearer {token}"} if token else {}),
                    **request.get("headers", {}),
                },
                json={**base, field: value},
                params=request.get("params"),
            )
            await app.state.jobs.wait_idle()
            after = known = await snapshot(db)
            context = (method, path, field, response.status_code, response.text[:300])
            if field in accepted:  # a legitimate region_code moved out of scope
                if response.status_code not in (403, 404, 422) or after != before:
                    failures.append(("out-of-scope region accepted", *context))
                continue
            if response.status_code == 422:
                named = any(e.get("loc", [])[-1:] == [field] for e in response.json().get("errors", []))
                if not named:
                    failures.append(("422 without naming the injected field", *context))
                if after != before:
                    failures.append(("refused but changed", *context))
            elif response.status_code < 300:
                stored = [
                    (table, row)
                    for table, row in _changed_rows(before, after)
                    if any(telltale in str(row) for telltale in TELLTALES)
                ]
                if stored or (value == OTHER_VILLAGE and OTHER_VILLAGE in response.text):
                    failures.append(("injected value stored", *context, stored[:3]))
            else:
                failures.append(("neither refused with 422 nor ignored", *context))
    assert tried > 300
    assert not failures, f"{len(failures)} mass-assignment failures: {failures[:15]}"


def test_every_json_write_operation_has_a_sweep_request(app: FastAPI) -> None:
    for operation in json_write_operations(app):
        assert isinstance(SPECS.get(operation), Own | Permitted | Targeted | Public), operation
