"""The `fupin` command, run in-process on a fresh SQLite file of its own (so on every CI database run)."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner, Result

from app.cli import cli
from app.domain.auth.passwords import verify_password

COUNTY = "620522000000"
DEMO_USERS = {
    "admin",
    "county",
    "finance",
    "inspector",
    "township",
    "township2",
    "village",
    "village2",
    "province",
}
REGION_FILE = """code,name
620000000000,甘肃省
620500000000,天水市
620522000000,秦安县
620522100000,兴国镇
620522100201,王家庄村
"""

runner = CliRunner()


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Commands that build the app (`openapi export`) configure logging onto the runner's stderr, which is
    closed once the command returns: give the rest of the test run its logging back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """FUPIN_DATABASE_URL names a SQLite file that does not exist yet; the working directory is tmp_path."""
    path = tmp_path / "data" / "fupin.db"
    monkeypatch.setenv("FUPIN_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.delenv("FUPIN_JWT_SECRET", raising=False)
    monkeypatch.delenv("FUPIN_NEW_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture
def migrated(database: Path) -> Path:
    ok("db", "upgrade")
    return database


def invoke(*args: str) -> Result:
    return runner.invoke(cli, list(args))


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def rows(database: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_db_upgrade_creates_the_schema(database: Path) -> None:
    result = ok("db", "upgrade")

    assert "database at head" in result.output
    tables = {name for (name,) in rows(database, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "alembic_version",
        "regions",
        "users",
        "api_clients",
        "refresh_tokens",
        "login_throttle",
    } <= tables
    assert rows(database, "SELECT code, level FROM regions") == [("000000000000", "national")]
    assert rows(database, "SELECT count(*) FROM alembic_version") == [(1,)]
    ok("db", "upgrade")  # a second run is a no-op


def test_demo_load_stores_qinan_county_with_17_townships_and_the_demo_users(migrated: Path) -> None:
    result = ok("demo", "load")

    assert "9 users created" in result.output
    assert rows(migrated, "SELECT name, level FROM regions WHERE code = ?", COUNTY) == [("秦安县", "county")]
    townships = rows(migrated, "SELECT code FROM regions WHERE parent_code = ? ORDER BY code", COUNTY)
    assert [code for (code,) in townships] == [f"620522{100 + i:03d}000" for i in range(17)]
    assert rows(migrated, "SELECT count(*) FROM regions WHERE level = 'village' AND parent_code IS NULL") == [
        (0,)
    ]
    users = {str(name): region for name, region in rows(migrated, "SELECT username, region_code FROM users")}
    assert set(users) == DEMO_USERS
    assert (users["admin"], users["township"], users["village"], users["province"]) == (
        COUNTY,
        "620522100000",
        "620522100201",
        "620000000000",
    )
    (password_hash,) = rows(migrated, "SELECT password_hash FROM users WHERE username = 'admin'")[0]
    assert verify_password(str(password_hash), "demo")
    for username in sorted(DEMO_USERS):
        assert username in result.output


def test_demo_load_twice_creates_no_duplicates(migrated: Path) -> None:
    ok("demo", "load")
    regions = rows(migrated, "SELECT code, name, updated_at FROM regions ORDER BY code")
    users = rows(migrated, "SELECT id, username FROM users ORDER BY username")

    again = ok("demo", "load")

    assert "0 users created" in again.output
    assert rows(migrated, "SELECT code, name, updated_at FROM regions ORDER BY code") == regions
    assert rows(migrated, "SELECT id, username FROM users ORDER BY username") == users
    assert len(users) == len(DEMO_USERS)


def test_regions_import_reports_counts_and_is_idempotent(migrated: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "regions.csv", REGION_FILE)

    first = ok("regions", "import", str(path))
    second = ok("regions", "import", str(path))
    renamed = ok(
        "regions", "import", str(write(tmp_path, "renamed.csv", REGION_FILE.replace("兴国镇", "兴国新镇")))
    )

    assert "created 5, renamed 0, unchanged 0" in first.output
    assert "created 0, renamed 0, unchanged 5" in second.output
    assert "created 0, renamed 1, unchanged 4" in renamed.output
    assert rows(migrated, "SELECT name FROM regions WHERE code = '620522100000'") == [("兴国新镇",)]
    assert rows(migrated, "SELECT count(*) FROM regions") == [(6,)]


def test_regions_import_of_a_gb18030_file(migrated: Path, tmp_path: Path) -> None:
    path = tmp_path / "regions-gbk.csv"
    path.write_bytes(REGION_FILE.replace("\n", "\r\n").encode("gb18030"))

    result = ok("regions", "import", str(path))

    assert "created 5" in result.output
    assert rows(migrated, "SELECT name FROM regions WHERE code = ?", COUNTY) == [("秦安县",)]


def test_regions_import_of_a_bad_file_exits_1_with_line_errors_and_imports_nothing(
    migrated: Path, tmp_path: Path
) -> None:
    bad = REGION_FILE + "62052210020X,坏码村\n620522100202,\n620522100201,王家庄村\n"
    path = write(tmp_path, "bad.csv", bad)

    result = invoke("regions", "import", str(path))

    assert result.exit_code == 1, result.output
    assert "nothing was imported" in result.output
    assert "file.7.code:" in result.output
    assert "file.8.name:" in result.output
    assert "file.9.code: duplicate of line 6" in result.output
    assert rows(migrated, "SELECT count(*) FROM regions") == [(1,)]


def test_regions_import_of_an_orphan_row_exits_1(migrated: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "orphan.csv", "code,name\n620522100201,王家庄村\n")

    result = invoke("regions", "import", str(path))

    assert result.exit_code == 1, result.output
    assert "file.2.code: parent region 620522100000 does not exist" in result.output
    assert rows(migrated, "SELECT count(*) FROM regions") == [(1,)]


def test_regions_import_of_a_missing_file_is_a_usage_error(migrated: Path, tmp_path: Path) -> None:
    result = invoke("regions", "import", str(tmp_path / "missing.csv"))

    assert result.exit_code == 2, result.output


def test_users_create_then_users_list_shows_the_user(migrated: Path, tmp_path: Path) -> None:
    ok("regions", "import", str(write(tmp_path, "regions.csv", REGION_FILE)))

    created = ok(
        "users",
        "create",
        "--username",
        "wang_clerk",
        "--region",
        "620522100201",
        "--roles",
        "village_clerk",
        "--password",
        "a long password",
    )
    listed = ok("users", "list")
    elsewhere = ok("users", "list", "--region", "620500000000")
    nowhere = ok("users", "list", "--region", "620522100202")

    assert re.search(r"created user wang_clerk \([0-9a-f-]{36}\)", created.output)
    line = next(line for line in listed.output.splitlines() if "wang_clerk" in line)
    assert "620522100201" in line
    assert "active" in line
    assert "village_clerk" in line
    assert "wang_clerk" in elsewhere.output
    assert "wang_clerk" not in nowhere.output
    ((display_name, password_hash),) = rows(
        migrated, "SELECT display_name, password_hash FROM users WHERE username = 'wang_clerk'"
    )
    assert display_name == "wang_clerk"
    assert verify_password(str(password_hash), "a long password")


def test_users_set_disables_a_user(migrated: Path, tmp_path: Path) -> None:
    ok("regions", "import", str(write(tmp_path, "regions.csv", REGION_FILE)))
    created = ok(
        "users",
        "create",
        "--username",
        "li",
        "--region",
        COUNTY,
        "--roles",
        "county_officer",
        "--password",
        "x" * 12,
    )
    user_id = re.search(r"\(([0-9a-f-]{36})\)", created.output).group(1)  # type: ignore[union-attr]

    ok("users", "set", user_id, "--disabled")

    line = next(line for line in ok("users", "list").output.splitlines() if " li " in line)
    assert "disabled" in line


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--roles", "wizard"], 2, "roles are a comma-separated subset of"),
        (["--roles", "village_clerk,wizard"], 2, "roles are a comma-separated subset of"),
        (["--roles", "village_clerk", "--password", "short"], 1, "at least 8 characters"),
        (["--roles", "village_clerk", "--region", "620522199201"], 1, "does not exist"),
    ],
)
def test_users_create_refuses_bad_input_and_creates_nothing(
    migrated: Path, tmp_path: Path, args: list[str], exit_code: int, message: str
) -> None:
    ok("regions", "import", str(write(tmp_path, "regions.csv", REGION_FILE)))
    defaults = {"--username": "zhao", "--region": "620522100201", "--password": "a long password"}
    options = dict(zip(args[::2], args[1::2], strict=True))
    argv = [item for pair in ({**defaults, **options}).items() for item in pair]

    result = invoke("users", "create", *argv)

    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert rows(migrated, "SELECT count(*) FROM users") == [(0,)]


def test_users_create_with_a_taken_username_exits_1(migrated: Path, tmp_path: Path) -> None:
    ok("regions", "import", str(write(tmp_path, "regions.csv", REGION_FILE)))
    argv = [
        "users",
        "create",
        "--username",
        "zhao",
        "--region",
        COUNTY,
        "--roles",
        "admin",
        "--password",
        "x" * 8,
    ]
    ok(*argv)

    result = invoke(*argv)

    assert result.exit_code == 1, result.output
    assert "is taken" in result.output
    assert rows(migrated, "SELECT count(*) FROM users") == [(1,)]


def test_clients_create_prints_the_client_id_and_secret(migrated: Path, tmp_path: Path) -> None:
    ok("regions", "import", str(write(tmp_path, "regions.csv", REGION_FILE)))

    result = ok("clients", "create", "--name", "甘肃省扶贫系统", "--region", "620000000000")

    client_id = re.search(r"^client_id=(fpc_[0-9a-f]{16})$", result.output, re.MULTILINE)
    secret = re.search(r"^client_secret=(\S{32,})$", result.output, re.MULTILINE)
    assert client_id is not None, result.output
    assert secret is not None, result.output
    ((name, region, roles, secret_hash, is_active),) = rows(
        migrated,
        "SELECT name, region_code, roles, secret_hash, is_active FROM api_clients WHERE client_id = ?",
        client_id.group(1),
    )
    assert (name, region, json.loads(str(roles)), is_active) == (
        "甘肃省扶贫系统",
        "620000000000",
        ["data_consumer"],
        1,
    )
    assert verify_password(str(secret_hash), secret.group(1))
    assert secret.group(1) not in str(secret_hash)


def test_openapi_export_writes_valid_json_with_the_token_path(database: Path, tmp_path: Path) -> None:
    result = ok("openapi", "export", "--output", "tmp/openapi.json")

    path = tmp_path / "tmp" / "openapi.json"
    assert "wrote tmp/openapi.json" in result.output
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in document["paths"]
    assert "post" in document["paths"]["/api/v1/auth/token"]
    assert not database.exists()  # exporting needs no database
