"""Routes whose arguments are resolved directly, without FastAPI's dependency solver.

On the hottest reads, solving dependencies (the principal, a dozen query parameters, the session) cost more
CPU than the ceiling's whole request (bench/RESULTS.md). A :class:`DirectRoute` keeps everything else: it is
declared like any route, FastAPI documents it from the endpoint's signature, and its errors go through the
same exception handlers. Only the arguments are resolved here, from a small fixed set:

* ``PrincipalDep``: the caller, through :func:`app.api.deps.authenticate` like every other route;
* a pydantic model annotated ``Query()``: the query string, validated by the model (422 as usual);
* ``DatabaseDep``: the process's database (sessions, and the reader for hot reads).

Register with ``router.add_api_route(..., route_class_override=DirectRoute)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from app.api.deps import authenticate, bearer_token
from app.db.session import Database
from app.domain.principal import Principal

Resolver = Callable[[Request], Coroutine[Any, Any, Any]]


async def _principal(request: Request) -> Principal:
    return await authenticate(request, bearer_token(request))


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _query(model: type[BaseModel]) -> Resolver:
    async def resolve(request: Request) -> BaseModel:
        try:
            return model.model_validate(request.query_params)
        except ValidationError as error:
            raise RequestValidationError(
                [{**detail, "loc": ("query", *detail["loc"])} for detail in error.errors(include_url=False)]
            ) from None

    return resolve


def _resolver(name: str, annotation: Any) -> Resolver:
    kind = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
    if kind is Principal:
        return _principal
    if kind is Database:
        return _database
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return _query(kind)
    raise TypeError(f"a direct route cannot resolve the parameter {name!r} ({annotation!r})")


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        hints = get_type_hints(endpoint, include_extras=True)
        resolvers = [(name, _resolver(name, hints[name])) for name in inspect.signature(endpoint).parameters]

        async def handle(request: Request) -> Response:
            arguments = {name: await resolve(request) for name, resolve in resolvers}
            response: Response = await endpoint(**arguments)
            return response

        return handle
