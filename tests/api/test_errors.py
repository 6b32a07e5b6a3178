"""HTTP conventions: problem+json for every error, request ids, validation paths, no internals leaked."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.api.schemas.common import InputModel
from app.domain.auth.tokens import issue_access_token
from app.domain.principal import Principal
from app.main import create_app
from app.settings import Settings
from tests.conftest import COUNTY, TEST_SECRET, assert_problem


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "http.404")


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/healthz"), 405, "http.405")


async def test_validation_errors_name_each_field(client: httpx.AsyncClient, tree, account_factory) -> None:  # type: ignore[no-untyped-def]
    admin = await account_factory(COUNTY, "admin", "county_officer")
    response = await client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"username": "x y", "display_name": "", "region_code": "62", "roles": ["king"], "surplus": 1},
    )
    body = assert_problem(response, 422, "validation")
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert ("body", "username") in locations
    assert ("body", "display_name") in locations
    assert ("body", "region_code") in locations
    assert ("body", "roles", 0) in locations
    assert ("body", "password") in locations  # missing
    assert ("body", "surplus") in locations  # unknown fields are refused, never silently stored
    assert all({"loc", "message", "code"} <= error.keys() for error in body["errors"])


async def test_malformed_json_is_a_problem(client: httpx.AsyncClient, tree, account_factory) -> None:  # type: ignore[no-untyped-def]
    admin = await account_factory(COUNTY, "admin")
    response = await client.post(
        "/api/v1/users", headers={**admin.headers, "content-type": "application/json"}, content=b"{not json"
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"limit": "many"}, {"cursor": "x" * 2000}])
async def test_bad_paging_parameters_are_refused(
    client: httpx.AsyncClient, tree, account_factory, params
) -> None:  # type: ignore[no-untyped-def]
    county = await account_factory(COUNTY, "county_officer")
    assert_problem(await client.get("/api/v1/regions", headers=county.headers, params=params), 422)


@pytest.mark.parametrize("cursor", ["not-base64!", "bm90IGpzb24", "WzFd", "WyJhIiwiYiJd", "eyJhIjoxfQ"])
async def test_forged_cursors_are_refused_not_crashed(
    client: httpx.AsyncClient, tree, account_factory, cursor
) -> None:  # type: ignore[no-untyped-def]
    county = await account_factory(COUNTY, "admin")
    for url in ("/api/v1/regions", "/api/v1/users"):
        response = await client.get(url, headers=county.headers, params={"cursor": cursor})
        assert_problem(response, 422, "pagination.invalid_cursor")


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    assert (await client.get("/healthz")).headers["x-request-id"] != generated
    # A header that could forge log lines is replaced, not echoed.
    forged = (await client.get("/healthz", headers={"X-Request-ID": "a\tb" + "c" * 200})).headers[
        "x-request-id"
    ]
    assert forged != "a\tb" + "c" * 200
    assert len(forged) == 32


async def test_problem_carries_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing", headers={"X-Request-ID": "trace-me"})
    assert response.json()["request_id"] == "trace-me"


async def test_unexpected_errors_hide_internals(settings: Settings, database) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: SELECT * FROM users")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        response = await http.get("/boom")
    body = assert_problem(response, 500, "internal")
    assert "secret" not in response.text
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_unreachable_database_is_503_not_500(kind: str, tmp_path: Path) -> None:
    # Nothing listens on port 1; a directory cannot be opened as a SQLite file.
    url = {
        "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:1/unreachable",
        "sqlite": f"sqlite+aiosqlite:///{tmp_path}",
    }[kind]
    settings = Settings(database_url=url, jwt_secret=TEST_SECRET)
    app: FastAPI = create_app(settings, check_schema=False)
    principal = Principal.build(kind="user", id=uuid.uuid4(), name="a", region_code=COUNTY, roles=["admin"])
    token = issue_access_token(settings, principal, personal_data=False).token
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        response = await http.get("/api/v1/regions", headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 503, "database.unavailable")
        assert response.headers["retry-after"]
        assert_problem(await http.get("/readyz"), 503, "readiness.database")
    assert (await _healthz(app)).status_code == 200


async def _healthz(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get("/healthz")


async def test_readiness_reports_the_schema_revision(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_input_models_forbid_unknown_fields() -> None:
    """Every request body model refuses unknown fields (so nothing is silently dropped or stored)."""
    import app.api.schemas.auth as auth_schemas
    import app.api.schemas.users as user_schemas

    for module in (auth_schemas, user_schemas):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, InputModel):
                assert value.model_config.get("extra") == "forbid", value
