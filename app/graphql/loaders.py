"""Batch functions of the registry's DataLoaders (regions, households and their rows): each turns the keys
one request asked for into one scoped domain read. Use them as ``info.context.loader(fn).load(key)``.

A batch function takes the context and the keys and returns one value per key, in the keys' order; a
record the caller may not see comes back as ``None`` (one object) or ``[]`` (a list of rows), exactly as
a missing one would."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from app.domain.households import batches as households
from app.domain.regions import batches as regions
from app.graphql.context import GraphQLContext


async def region_by_code(context: GraphQLContext, keys: Sequence[str]) -> list[Row[Any] | None]:
    found = await regions.regions_by_code(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def region_children(context: GraphQLContext, keys: Sequence[str]) -> list[list[Row[Any]]]:
    found = await regions.children_by_parent(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def region_ancestors(context: GraphQLContext, keys: Sequence[str]) -> list[list[Row[Any]]]:
    found = await regions.ancestor_rows(context.session, keys)
    return [found[key] for key in keys]


async def household_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await households.households_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def household_members(
    context: GraphQLContext, keys: Sequence[tuple[uuid.UUID, bool]]
) -> list[list[Row[Any]]]:
    """Keyed by (household id, include members who left)."""
    result: dict[tuple[uuid.UUID, bool], list[Row[Any]]] = {}
    for include_left in (False, True):
        ids = [household_id for household_id, left in keys if left is include_left]
        if ids:
            found = await households.members_by_household(
                context.session, context.principal, ids, include_left=include_left
            )
            result.update({(household_id, include_left): rows for household_id, rows in found.items()})
    return [result[key] for key in keys]


async def household_incomes(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await households.incomes_by_household(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def household_indicators(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await households.indicators_by_household(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def household_events(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await households.events_by_household(context.session, context.principal, keys)
    return [found[key] for key in keys]


async def publicity_by_id(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    found = await households.publicities_by_id(context.session, context.principal, keys)
    return [found.get(key) for key in keys]


async def publicity_objections(context: GraphQLContext, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    found = await households.objections_by_publicity(context.session, context.principal, keys)
    return [found[key] for key in keys]
