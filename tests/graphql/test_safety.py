"""What /graphql refuses: no token, GET queries, batches, deep / long / aliased / costly operations,
introspection and GraphiQL unless enabled; and what it never shows: internals of an unexpected error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.domain.principal import Role
from app.graphql import loaders
from app.main import create_app
from app.settings import Settings
from tests.conftest import COUNTY, assert_problem
from tests.graphql.conftest import GRAPHQL, error_codes

INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.fixture
async def open_client(settings: Settings, database: object) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with GraphiQL and introspection enabled (as `fupin serve --demo` runs)."""
    application: FastAPI = create_app(
        settings.model_copy(update={"graphql_graphiql": True, "graphql_introspection": True})
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_no_token_is_401_as_for_rest(client: httpx.AsyncClient, tree: object) -> None:
    response = await client.post(GRAPHQL, json={"query": "{ regions { totalCount } }"})
    assert_problem(response, 401, "auth.missing_token")
    response = await client.post(
        GRAPHQL, json={"query": "{ regions { totalCount } }"}, headers={"Authorization": "Bearer nonsense"}
    )
    assert_problem(response, 401)


async def test_get_never_runs_a_query(client: httpx.AsyncClient, account_factory, tree: object) -> None:  # type: ignore[no-untyped-def]
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    response = await client.get(
        GRAPHQL, params={"query": "{ regions { totalCount } }"}, headers=account.headers
    )
    assert response.status_code in (400, 404, 405), response.text
    assert "totalCount" not in response.text


async def test_graphiql_only_when_enabled(client: httpx.AsyncClient, open_client: httpx.AsyncClient) -> None:
    html = {"Accept": "text/html"}
    assert (await client.get(GRAPHQL, headers=html)).status_code == 404
    response = await open_client.get(GRAPHQL, headers=html)
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_introspection_only_when_enabled(
    gql, open_client: httpx.AsyncClient, account_factory, tree: object
) -> None:  # type: ignore[no-untyped-def]
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    body = await gql(account.token, INTROSPECTION)
    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()
    response = await open_client.post(GRAPHQL, json={"query": INTROSPECTION}, headers=account.headers)
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_no_field_suggestions_without_introspection(gql, account_factory, tree: object) -> None:  # type: ignore[no-untyped-def]
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    body = await gql(account.token, "{ househols { totalCount } }")
    assert error_codes(body) == ["graphql.invalid_query"]
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_batches_are_refused(client: httpx.AsyncClient, account_factory, tree: object) -> None:  # type: ignore[no-untyped-def]
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    operation = {"query": "{ regions { totalCount } }"}
    response = await client.post(GRAPHQL, json=[operation, operation], headers=account.headers)
    assert response.status_code == 400, response.text
    assert "totalCount" not in response.text


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        # depth 12 > 10
        (
            '{ region(code: "620522000000") ' + "{ children " * 11 + "{ code }" + " }" * 12,
            "exceeds maximum operation depth",
        ),
        ("{ " + " ".join(f"a{n}: regions {{ totalCount }}" for n in range(21)) + " }", "aliases"),
        ("{ regions { totalCount " + "pageInfo { hasNextPage } " * 700 + "} }", "token"),
        # 100 households × (1 + 20 members + 20 incomes + 20 indicators + 20 history ...) and the regions
        (
            "{ households(first: 100) { nodes { members { name } incomes { year } indicators { holds } "
            "history { at } region { children { children { code } } } } } }",
            "more than the limit",
        ),
    ],
)
async def test_limits(gql, account_factory, tree: object, query: str, phrase: str) -> None:  # type: ignore[no-untyped-def]
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    body = await gql(account.token, query)
    assert body.get("data") is None, body
    assert phrase in body["errors"][0]["message"], body


async def test_cost_counts_variables(gql, account_factory, tree: object) -> None:  # type: ignore[no-untyped-def]
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    query = "query($n: Int!) { regions(first: $n) { nodes { children { children { children { code } } } } } }"
    assert "errors" not in await gql(account.token, query, {"n": 2})
    body = await gql(account.token, query, {"n": 100})
    assert error_codes(body) == ["graphql.too_costly"]
    # regions × (the connection's nodes + children × (1 + children × (1 + children)))
    assert body["errors"][0]["extensions"]["cost"] == 100 * (1 + 1 + 20 * (1 + 20 * (1 + 20)))


async def test_unexpected_errors_are_masked(gql, account_factory, tree: object, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def broken(context: object, keys: object) -> list[object]:
        raise RuntimeError("connection to 10.0.0.7 failed: password for fupin_admin")

    monkeypatch.setattr(loaders.regions, "children_by_parent", broken)
    account = await account_factory(COUNTY, Role.COUNTY_OFFICER)
    body = await gql(account.token, '{ region(code: "620522000000") { name children { code } } }')
    assert body["errors"][0]["message"] == "Unexpected error."
    assert body["errors"][0]["extensions"] == {"code": "internal", "status": 500}
    assert "10.0.0.7" not in str(body)
    assert "fupin_admin" not in str(body)


async def test_domain_errors_carry_their_code(gql, account_factory, tree: object) -> None:  # type: ignore[no-untyped-def]
    admin = await account_factory(COUNTY, Role.ADMIN)  # may read regions, not households
    body = await gql(admin.token, "{ households { totalCount } }")
    assert error_codes(body) == ["auth.forbidden"]
    assert body["errors"][0]["extensions"]["status"] == 403
    body = await gql(admin.token, '{ region(code: "110000000000") { name } }')
    assert error_codes(body) == ["region.not_found"]
