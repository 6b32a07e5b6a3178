"""The GraphQL scope sweep: every root field, for every principal of the REST sweep (every role at county,
township and village level), against records in every region of the test tree.

Targeted fields: out of scope → a 404 error (indistinguishable from a missing record), in scope without the
permission → 403, in scope with it → data; lists hold exactly the caller's subtree. Every region code in any
answer lies in the caller's scope. Coverage is read from the schema itself: a root field without a spec, or a
field of any type that no spec's operation selects, fails :func:`test_every_field_is_covered`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLSchema, TypeInfo, TypeInfoVisitor, Visitor, is_object_type, parse, visit

from app.db.session import Database
from app.domain.principal import Principal
from app.domain.regions import codes
from app.graphql.schema import build_schema
from app.settings import Settings
from tests.api.test_scope_sweep import build_world
from tests.graphql.conftest import GRAPHQL, graphql
from tests.graphql.sweep import Listing, Spec, Targeted
from tests.graphql.sweep import funds as fund_specs
from tests.graphql.sweep import plans as plan_specs
from tests.graphql.sweep import projects as project_specs
from tests.graphql.sweep import registry as registry_specs
from tests.graphql.sweep import responsibility as responsibility_specs

AREAS = (registry_specs, responsibility_specs, plan_specs, project_specs, fund_specs)
ROOTS: dict[str, Spec] = {name: spec for area in AREAS for name, spec in area.ROOTS.items()}


def _schema() -> GraphQLSchema:
    return build_schema(Settings(jwt_secret="x" * 32))._schema


def schema_fields(schema: GraphQLSchema) -> set[tuple[str, str]]:
    """Every field of every object type of the schema (introspection's own types apart)."""
    return {
        (name, field)
        for name, named in schema.type_map.items()
        if is_object_type(named) and not name.startswith("__")
        for field in named.fields  # type: ignore[attr-defined]
    }


def selected_fields(schema: GraphQLSchema, query: str) -> set[tuple[str, str]]:
    """The (type, field) pairs an operation selects."""
    selected: set[tuple[str, str]] = set()
    type_info = TypeInfo(schema)

    class Collect(Visitor):
        def enter_field(self, node: Any, *args: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                selected.add((parent.name, node.name.value))

    visit(parse(query), TypeInfoVisitor(type_info, Collect()))
    return selected


def uncovered(
    schema: GraphQLSchema, specs: dict[str, Spec]
) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """Root fields without a spec, specs of no root field, and fields no spec's operation selects."""
    assert schema.query_type is not None
    roots = set(schema.query_type.fields)
    covered = set().union(*(selected_fields(schema, spec.query) for spec in specs.values()))
    return roots - set(specs), set(specs) - roots, schema_fields(schema) - covered


def test_every_field_is_covered() -> None:
    undeclared, stale, unselected = uncovered(_schema(), ROOTS)
    assert not undeclared, f"declare these root fields in tests/graphql/sweep: {sorted(undeclared)}"
    assert not stale, f"the sweep declares root fields that no longer exist: {sorted(stale)}"
    assert not unselected, f"select these fields in a sweep spec's operation: {sorted(unselected)}"


@strawberry.type
class CoverageThing:
    region_code: str
    new_field: int


@strawberry.type
class CoverageRoot:
    thing: CoverageThing
    other: CoverageThing


def test_a_new_field_without_coverage_is_caught() -> None:
    """The coverage check itself: a root field or a type's field that no spec selects is reported."""
    schema = strawberry.Schema(query=CoverageRoot)._schema
    spec = Targeted(None, "{ thing { regionCode } }", lambda w, r, p: {})
    assert uncovered(schema, {"thing": spec}) == (
        {"other"},
        set(),
        {("CoverageRoot", "other"), ("CoverageThing", "newField")},
    )


def _region_codes(data: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every region code in an answer with its path (``regionCode`` of records, ``code`` of regions)."""
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("regionCode", "code") and isinstance(value, str) and codes.is_valid_code(value):
                found.append(((*path, key), value))
            else:
                found.extend(_region_codes(value, (*path, key)))
    elif isinstance(data, list):
        for item in data:
            found.extend(_region_codes(item, path))
    return found


def _assert_in_scope(
    data: Any, principal: Principal, context: Any, above_scope: tuple[str, ...] = ()
) -> None:
    """Records lie in the caller's subtree; regions too, or above it on the caller's own chain (a region's
    ancestors, the county and township of a responsibility chain), never beside it. Under the keys a spec
    names in ``above_scope``, records of that chain are allowed too."""
    above = set(codes.ancestors_of(principal.region_code))
    outside = [
        (path, code)
        for path, code in _region_codes(data)
        if not codes.is_within(code, principal.scope_prefix)
        and not (code in above and (path[-1] == "code" or set(path) & set(above_scope)))
    ]
    assert not outside, ("an answer holds records outside the scope", outside, *context)


def _statuses(body: dict[str, Any]) -> set[int]:
    return {error.get("extensions", {}).get("status") for error in body.get("errors") or []}


@pytest.mark.parametrize("root", sorted(ROOTS))
async def test_graphql_scope_sweep(
    root: str, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    spec = ROOTS[root]
    world = await build_world(db, settings)
    for principal, token in world.principals:
        who = f"{sorted(principal.roles)} at {principal.region_code}"
        allowed = spec.permission is None or principal.can(spec.permission)
        if isinstance(spec, Listing):
            await _sweep_listing(client, root, spec, world, principal, token, who, allowed)
            continue
        if spec.allows is not None:
            allowed = spec.allows(principal)
        for region in spec.targets:
            body = await graphql(client, token, spec.query, spec.variables(world, region, principal))
            context = (who, root, region, body)
            if not codes.is_within(region, principal.scope_prefix):
                assert body.get("data") is None, context
                assert _statuses(body) == {404}, context
            elif not allowed:
                assert body.get("data") is None, context
                assert _statuses(body) == {403}, context
            else:
                assert not body.get("errors"), context
                assert body["data"][root] is not None, context
                _assert_in_scope(body["data"], principal, context, spec.above_scope)
    # Without a token, nothing runs: 401 as for REST.
    response = await client.post(GRAPHQL, json={"query": spec.query})
    assert response.status_code == 401, response.text


async def _sweep_listing(
    client: httpx.AsyncClient,
    root: str,
    spec: Listing,
    world: Any,
    principal: Principal,
    token: str,
    who: str,
    allowed: bool,
) -> None:
    variables: dict[str, Any] = {**spec.variables(world, principal), "first": 2, "after": None}
    if not allowed:
        body = await graphql(client, token, spec.query, variables)
        assert body.get("data") is None, (who, body)
        assert _statuses(body) == {403}, (who, body)
        return
    seen: list[str] = []
    total = None
    while True:
        body = await graphql(client, token, spec.query, variables)
        assert not body.get("errors"), (who, body)
        connection = body["data"][root]
        _assert_in_scope(body["data"], principal, (who, root), spec.above_scope)
        seen.extend(node[spec.region_key] for node in connection["nodes"])
        total = connection.get("totalCount", total)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = connection["pageInfo"]["endCursor"]
    expected = [r for r in spec.expected_regions(world) if codes.is_within(r, principal.scope_prefix)]
    assert sorted(seen) == sorted(expected), who
    if total is not None:
        assert total == len(expected), who
