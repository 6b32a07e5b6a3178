"""GraphQL test helpers: POST an operation with a principal's token, read data and errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.db.session import Database

GRAPHQL = "/graphql"


async def graphql(
    client: httpx.AsyncClient, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body of a POSTed operation (HTTP 200 expected: GraphQL reports errors in the body)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        GRAPHQL, json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


@pytest.fixture
def gql(client: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    async def run(token: str | None, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await graphql(client, token, query, variables)

    return run


class StatementCounter:
    """Counts the SQL statements the app's engine runs while active
    (``with StatementCounter(app.state.database) as sql:``)."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine.sync_engine
        self.statements: list[str] = []

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)
