"""openapi/openapi.json is what `fupin openapi export` writes: a change to the API must update it."""

from __future__ import annotations

from pathlib import Path

from app.cli import openapi_document

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_openapi_file_is_current() -> None:
    assert OPENAPI_FILE.read_text(encoding="utf-8") == openapi_document(), (
        "openapi/openapi.json is out of date: run `fupin openapi export`"
    )


def test_every_operation_is_documented() -> None:
    import json

    document = json.loads(openapi_document())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
    assert "OAuth2PasswordBearer" in document["components"]["securitySchemes"]
