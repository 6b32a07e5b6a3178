"""Scope is enforced in one place: no module of ``app/`` builds its own statement over a region-bound table.

Every read of such a table starts from ``app.domain.scope.scoped()``/``restrict()``; this test parses the
whole package and fails on any ``select``/``update``/``delete``/``session.get`` naming a region-bound model
anywhere else. A deliberate exception carries ``# scope: <why>`` on the statement's line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import app
from app.db.base import Base

APP_ROOT = Path(app.__file__).parent
SCOPE_MODULE = APP_ROOT / "domain" / "scope.py"
STATEMENT_BUILDERS = {"select", "update", "delete", "insert"}


def region_bound_models() -> set[str]:
    names = set()
    for mapper in Base.registry.mappers:
        entity = mapper.class_
        column = getattr(entity, "__scope_column__", "region_code")
        if column in mapper.columns:
            names.add(entity.__name__)
    return names


def _names_model(node: ast.expr, models: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in models
    if isinstance(node, ast.Attribute):
        return _names_model(node.value, models)
    return False


def unscoped_statements(source: str, models: set[str]) -> list[int]:
    tree = ast.parse(source)
    lines = source.splitlines()
    # A statement handed straight to restrict() is scoped there.
    restricted = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "restrict"
        and node.args
        for inner in ast.walk(node.args[0])
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args or id(node) in restricted:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        is_builder = name in STATEMENT_BUILDERS and any(_names_model(arg, models) for arg in node.args)
        is_get = name == "get" and isinstance(func, ast.Attribute) and _names_model(node.args[0], models)
        if not (is_builder or is_get):
            continue
        span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        if not any("# scope:" in line for line in span):
            found.append(node.lineno)
    return sorted(found)


def test_region_bound_models_are_known() -> None:
    assert {"Region", "User", "ApiClient"} <= region_bound_models()


def test_no_statement_over_a_region_bound_table_outside_the_scope_module() -> None:
    models = region_bound_models()
    offenders = []
    for path in sorted(APP_ROOT.rglob("*.py")):
        if path == SCOPE_MODULE:
            continue
        for line in unscoped_statements(path.read_text(encoding="utf-8"), models):
            offenders.append(f"{path.relative_to(APP_ROOT.parent)}:{line}")
    assert not offenders, (
        "statements over region-bound tables must start from app.domain.scope.scoped()/restrict(); "
        "mark a deliberate exception with `# scope: <why>`: " + ", ".join(offenders)
    )


def test_the_linter_catches_an_unscoped_select() -> None:
    source = (
        "stmt = select(User).where(User.id == 1)\n"
        "ok = select(User)  # scope: reason\n"
        "row = session.get(Region, 'x')\n"
        "inner = restrict(select(User.id).where(User.id == 1), User, principal)\n"
    )
    assert unscoped_statements(source, {"User", "Region"}) == [1, 3]
