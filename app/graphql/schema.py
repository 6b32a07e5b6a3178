"""The schema: one root ``Query`` merged from each area's ``*Query`` class, the safety extensions, and the
SDL export (``openapi/schema.graphql``).

To add an area: give its module in ``app/graphql/types/`` a ``@strawberry.type class <Area>Query`` with
its root fields, and add that class to :data:`AREA_QUERIES` (one line).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from app.domain.errors import DomainError
from app.graphql.context import GraphQLContext
from app.graphql.errors import DomainErrors
from app.graphql.limits import limit_extensions
from app.graphql.types.funds import FundQuery
from app.graphql.types.households import HouseholdQuery
from app.graphql.types.plans import PlanQuery
from app.graphql.types.projects import ProjectQuery
from app.graphql.types.regions import RegionQuery
from app.graphql.types.responsibility import ResponsibilityQuery
from app.settings import Settings

AREA_QUERIES: tuple[type, ...] = (
    RegionQuery,
    HouseholdQuery,
    ResponsibilityQuery,
    PlanQuery,
    ProjectQuery,
    FundQuery,
)

Query = merge_types("Query", AREA_QUERIES)


class FinishOperation(SchemaExtension):
    """When the operation ends: the audit rows of its unmasked personal-data reads (in the request's
    transaction), and no more statements on the session before the request commits it."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, GraphQLContext):
            await context.finish()


class FupinSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log what went wrong unexpectedly; a domain error or a faulty query is the client's answer, not
        a server problem."""
        unexpected = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, DomainError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Callable[[], SchemaExtension]] = [
        *limit_extensions(settings),
        FinishOperation,
        DomainErrors,  # last: sees every error the others raised
    ]
    return FupinSchema(
        query=Query,
        extensions=extensions,
        # Batching (several operations in one request) stays off: its default is None.
        config=StrawberryConfig(disable_field_suggestions=not settings.graphql_introspection),
    )


def schema_sdl() -> str:
    """The schema in SDL, as ``fupin graphql export`` writes it (independent of the settings)."""
    return strawberry.Schema(query=Query).as_str() + "\n"
