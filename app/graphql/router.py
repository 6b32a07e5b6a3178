"""``/graphql``: POST only (GET serves GraphiQL when enabled, never a query), no subscriptions, the
context from :func:`app.graphql.context.get_context` (same auth and session as REST)."""

from __future__ import annotations

from strawberry.fastapi import GraphQLRouter

from app.graphql.context import GraphQLContext, get_context
from app.graphql.schema import build_schema
from app.settings import Settings

PATH = "/graphql"


def graphql_router(settings: Settings) -> GraphQLRouter[GraphQLContext, None]:
    return GraphQLRouter(
        build_schema(settings),
        path=PATH,
        graphql_ide="graphiql" if settings.graphql_graphiql else None,
        allow_queries_via_get=False,
        context_getter=get_context,
        subscription_protocols=(),
        include_in_schema=False,  # described by openapi/schema.graphql, not by the OpenAPI document
    )
