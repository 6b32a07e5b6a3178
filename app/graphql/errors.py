"""Errors as GraphQL reports them: a domain error keeps its sentence and gets its stable ``code`` (the same
as REST's problem ``code``), HTTP-like ``status`` and field errors in ``extensions``; a mistake in the
query itself (syntax, validation, limits) is reported as GraphQL reports it; anything else is masked to
"Unexpected error." with no trace of internals, and logged."""

from __future__ import annotations

from graphql.error import GraphQLError
from sqlalchemy.exc import DBAPIError
from strawberry.extensions import MaskErrors

from app.domain.errors import DomainError
from app.logging import logger

INTERNAL = "internal"
UNAVAILABLE = "service_unavailable"


def domain_error_extensions(error: DomainError) -> dict[str, object]:
    extensions: dict[str, object] = {"code": error.code, "status": error.status}
    if error.errors:
        extensions["errors"] = [
            {"loc": list(field.loc), "message": field.message, "code": field.code} for field in error.errors
        ]
    for name, value in error.extra.items():
        extensions.setdefault(name, value)
    return extensions


class DomainErrors(MaskErrors):
    """Domain errors to coded GraphQL errors, everything unexpected masked."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:  # the query's own fault: syntax, validation, a limit
            if not error.extensions or "code" not in error.extensions:
                error.extensions = {
                    **(error.extensions or {}),
                    "code": "graphql.invalid_query",
                    "status": 400,
                }
            return error
        if isinstance(original, DomainError):
            return GraphQLError(
                original.detail,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions=domain_error_extensions(original),
            )
        if isinstance(original, DBAPIError | OSError):
            code, message = UNAVAILABLE, "The database is not reachable; try again shortly."
        else:
            code, message = INTERNAL, self.error_message
        logger.error("graphql resolver failed", error=repr(original), path=error.path)
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code, "status": 503 if code == UNAVAILABLE else 500},
        )
