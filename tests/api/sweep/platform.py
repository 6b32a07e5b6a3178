"""Sweep declarations of the platform: probes, auth, regions, users, machine clients."""

from __future__ import annotations

from app.db.session import Database
from app.domain.principal import CLIENT_ROLES, Permission
from app.settings import Settings
from tests.api.sweep import TARGETS, Listing, Own, Public, Request, Spec, Targeted, World, unique_suffix
from tests.conftest import TREE, make_client, make_user


def _csv(code: str) -> Request:
    return {"files": {"file": ("regions.csv", f"code,name\n{code},{TREE[code]}\n".encode(), "text/csv")}}


async def build(db: Database, settings: Settings, world: World) -> None:
    """One user and one machine client in every target region, holding no roles (so that managing them
    needs no particular role: the sweep is about scope)."""
    for region in TARGETS:
        world.add("user", region, (await make_user(db, settings, region_code=region, roles=[])).user.id)
        world.add("client", region, (await make_client(db, region_code=region, roles=[])).id)


def _user_regions(world: World) -> list[str]:
    return [*world.regions("user"), *(principal.region_code for principal, _ in world.principals)]


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/healthz"): Public("liveness probe"),
    ("GET", "/readyz"): Public("readiness probe"),
    ("GET", "/metrics"): Public("Prometheus scrapes it; no personal data (README: Operations)"),
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
    ("GET", "/api/v1/users"): Listing(Permission.USERS_READ, "/api/v1/users", _user_regions),
    ("POST", "/api/v1/users"): Targeted(
        Permission.USERS_MANAGE,
        lambda w, region, p: {
            "json": {
                "username": f"sweep{unique_suffix()}",
                "display_name": "扫描用户",
                "region_code": region,
                "roles": sorted(p.roles),
                "password": "sweep-password",
            }
        },
        permission_first=True,
    ),
    ("GET", "/api/v1/users/{user_id}"): Targeted(
        Permission.USERS_READ, lambda w, region, p: {"path": w.id("user", region)}
    ),
    ("PATCH", "/api/v1/users/{user_id}"): Targeted(
        Permission.USERS_MANAGE,
        lambda w, region, p: {
            "path": w.id("user", region),
            "json": {"display_name": f"改名{unique_suffix()}"},
        },
    ),
    ("GET", "/api/v1/clients"): Listing(
        Permission.CLIENTS_MANAGE, "/api/v1/clients", lambda w: w.regions("client")
    ),
    # Clients are read-only and nobody grants a role they lack: a sweep principal holds one role, so no admin
    # here holds a role a client may have (403 wherever it points; tests/users and tests/limits succeed).
    ("POST", "/api/v1/clients"): Targeted(
        Permission.CLIENTS_MANAGE,
        lambda w, region, p: {
            "json": {
                "name": "扫描客户端",
                "region_code": region,
                "roles": sorted(set(p.roles) & CLIENT_ROLES) or ["data_consumer"],
            }
        },
        permission_first=True,
        allows=lambda p: p.can(Permission.CLIENTS_MANAGE) and bool(p.roles & CLIENT_ROLES),
    ),
    ("GET", "/api/v1/clients/{client_id}"): Targeted(
        Permission.CLIENTS_MANAGE, lambda w, region, p: {"path": w.id("client", region)}
    ),
    ("PATCH", "/api/v1/clients/{client_id}"): Targeted(
        Permission.CLIENTS_MANAGE,
        lambda w, region, p: {"path": w.id("client", region), "json": {"name": "改名客户端"}},
    ),
    ("POST", "/api/v1/clients/{client_id}/secret"): Targeted(
        Permission.CLIENTS_MANAGE, lambda w, region, p: {"path": w.id("client", region)}
    ),
}
