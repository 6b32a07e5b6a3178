"""The schema: one root ``Query`` merged from each area's ``*Query`` class, the safety extensions, and the
SDL export (``openapi/schema.graphql``).

To add an area: give its module in ``app/graphql/types/`` a ``@strawberry.type class <Area>Query`` with
its root fields, and add that class to :data:`AREA_QUERIES` (one line).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from app.graphql.context import GraphQLContext
from app.graphql.errors import DomainErrors
from app.graphql.limits import limit_extensions
from app.graphql.types.households import HouseholdQuery
from app.graphql.types.regions import RegionQuery
from app.graphql.types.responsibility import ResponsibilityQuery
from app.settings import Settings

AREA_QUERIES: tuple[type, ...] = (
    RegionQuery,
    HouseholdQuery,
    ResponsibilityQuery,
)

Query = merge_types("Query", AREA_QUERIES)


class AuditPersonalData(SchemaExtension):
    """Writes the audit rows of the operation's unmasked personal-data reads, in the request's transaction."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, GraphQLContext):
            await context.write_audit()


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Callable[[], SchemaExtension]] = [
        *limit_extensions(settings),
        AuditPersonalData,
        DomainErrors,  # last: sees every error the others raised
    ]
    return strawberry.Schema(
        query=Query,
        extensions=extensions,
        # Batching (several operations in one request) stays off: its default is None.
        config=StrawberryConfig(disable_field_suggestions=not settings.graphql_introspection),
    )


def schema_sdl() -> str:
    """The schema in SDL, as ``fupin graphql export`` writes it (independent of the settings)."""
    return strawberry.Schema(query=Query).as_str() + "\n"
