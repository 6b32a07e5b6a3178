"""Direct routes (app/api/direct.py) resolve only the arguments they know, and say so at start-up."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from app.api.deps import DatabaseDep, PrincipalDep
from app.api.direct import DirectRoute


class Filters(BaseModel):
    q: str | None = None


async def documented(
    principal: PrincipalDep, query: Annotated[Filters, Query()], database: DatabaseDep
) -> Response:
    return Response()


async def unsupported(principal: PrincipalDep, page: int = 1) -> Response:
    return Response()


def test_a_direct_route_takes_the_principal_a_query_model_and_the_database() -> None:
    router = APIRouter()
    router.add_api_route("/ok", documented, methods=["GET"], route_class_override=DirectRoute)
    route = router.routes[-1]
    assert isinstance(route, DirectRoute)


def test_a_direct_route_refuses_any_other_parameter_when_it_is_declared() -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match="'page'"):
        router.add_api_route("/bad", unsupported, methods=["GET"], route_class_override=DirectRoute)
