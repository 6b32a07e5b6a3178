"""`fupin serve --demo` opens GraphiQL and introspection (unless the environment says otherwise); a plain
`fupin serve` leaves them as configured (off by default); `fupin graphql export` writes the SDL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from app import cli
from app.graphql.schema import schema_sdl
from app.settings import Settings

runner = CliRunner()
SWITCHES = ("FUPIN_GRAPHQL_INTROSPECTION", "FUPIN_GRAPHQL_GRAPHIQL")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """What the environment held when the server would have started."""
    seen: dict[str, str | None] = {}
    for name in SWITCHES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "db_upgrade", lambda revision: None)
    monkeypatch.setattr(cli, "_load_demo", lambda: None)
    monkeypatch.setattr(
        uvicorn, "run", lambda *args, **kwargs: seen.update({n: os.environ.get(n) for n in SWITCHES})
    )
    yield seen
    for name in SWITCHES:  # serve --demo set them in this process
        os.environ.pop(name, None)


def test_demo_turns_graphiql_and_introspection_on(served: dict[str, str | None]) -> None:
    assert runner.invoke(cli.cli, ["serve", "--demo"]).exit_code == 0
    assert served == {"FUPIN_GRAPHQL_INTROSPECTION": "true", "FUPIN_GRAPHQL_GRAPHIQL": "true"}


def test_demo_keeps_an_explicit_setting(
    served: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUPIN_GRAPHQL_INTROSPECTION", "false")
    assert runner.invoke(cli.cli, ["serve", "--demo"]).exit_code == 0
    assert served["FUPIN_GRAPHQL_INTROSPECTION"] == "false"


def test_plain_serve_leaves_them_off(served: dict[str, str | None]) -> None:
    assert runner.invoke(cli.cli, ["serve"]).exit_code == 0
    assert served == {"FUPIN_GRAPHQL_INTROSPECTION": None, "FUPIN_GRAPHQL_GRAPHIQL": None}
    settings = Settings(jwt_secret="x" * 32)
    assert not settings.graphql_introspection
    assert not settings.graphql_graphiql


def test_graphql_export_writes_the_sdl(tmp_path: Path) -> None:
    output = tmp_path / "schema.graphql"
    result = runner.invoke(cli.cli, ["graphql", "export", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8") == schema_sdl()
