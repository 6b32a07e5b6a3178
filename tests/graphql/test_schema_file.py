"""openapi/schema.graphql is what `fupin graphql export` writes: a change to the schema must update it."""

from __future__ import annotations

from pathlib import Path

from app.graphql.schema import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "openapi" / "schema.graphql"


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "openapi/schema.graphql is out of date: run `fupin graphql export`"
    )


def test_every_field_is_described_or_obvious() -> None:
    """Root fields are what integrators start from: each carries a description."""
    from app.graphql.schema import Query

    for field in Query.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        assert field.description, f"Query.{field.name} has no description"
