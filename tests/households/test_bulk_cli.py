"""`fupin households import` and `fupin households export`, run in-process on a SQLite file of their own."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import orjson
import pytest
import structlog

from app.domain.households import layout
from tests.households.bulk_files import household_rows, to_csv, to_xlsx
from tests.test_cli import REGION_FILE, invoke, ok, rows, write

VILLAGE = "620522100201"
COUNTY = "620522000000"
FULL_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """As in tests/test_cli.py: a command may configure logging onto the runner's stream, closed after it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.fixture
def migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite file of its own (FUPIN_DATABASE_URL); the working directory is tmp_path."""
    path = tmp_path / "data" / "fupin.db"
    monkeypatch.setenv("FUPIN_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.delenv("FUPIN_JWT_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    ok("db", "upgrade")
    return path


def with_regions(migrated: Path, tmp_path: Path) -> None:
    ok("regions", "import", str(write(tmp_path, "regions.csv", REGION_FILE)))


def import_file(tmp_path: Path, data: bytes, name: str = "households.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_import_dry_run_prints_every_error_with_its_row_and_column_and_exits_1(
    migrated: Path, tmp_path: Path
) -> None:
    with_regions(migrated, tmp_path)
    bad = household_rows(VILLAGE, members=2)
    bad[1]["member_relation"] = "cousin"
    path = import_file(tmp_path, to_csv(household_rows(VILLAGE) + bad))

    result = invoke("households", "import", str(path), "--dry-run")

    assert result.exit_code == 1, result.output
    assert f"row 6 [{bad[0]['household_number']}] member_relation: 'cousin' is not in the code list" in (
        result.output
    )
    assert f"row 5 [{bad[0]['household_number']}] row: skipped with its household" in result.output
    assert "5 rows: households 1 created" in result.output
    assert "would be so); 1 rows with errors" in result.output
    assert "nothing was imported" in result.output
    assert rows(migrated, "SELECT count(*) FROM households") == [(0,)]
    assert rows(migrated, "SELECT kind, status, created_by_name FROM jobs") == [
        ("household_import", "succeeded", "system")
    ]


def test_import_writes_the_file_and_a_second_import_changes_nothing(migrated: Path, tmp_path: Path) -> None:
    with_regions(migrated, tmp_path)
    path = import_file(
        tmp_path, to_xlsx(household_rows(VILLAGE) + household_rows(VILLAGE, members=1)), "h.xlsx"
    )

    first = ok("households", "import", str(path))
    second = ok("households", "import", str(path))

    assert "4 rows: households 2 created, 0 updated, 0 unchanged; members 4 created" in first.output
    assert "households 0 created, 0 updated, 2 unchanged; members 0 created, 0 updated" in second.output
    assert rows(migrated, "SELECT count(*) FROM households") == [(2,)]
    assert rows(migrated, "SELECT count(*) FROM members") == [(4,)]
    assert rows(migrated, "SELECT action, actor_name FROM household_events") == [("import", "system")] * 2


def test_import_row_by_row_imports_the_good_households_and_exits_0(migrated: Path, tmp_path: Path) -> None:
    with_regions(migrated, tmp_path)
    outside = household_rows("620522100202")  # not in the region file: no such village
    path = import_file(tmp_path, to_csv(household_rows(VILLAGE) + outside))

    result = ok("households", "import", str(path), "--mode", "row_by_row")

    assert "row 5 [" in result.output
    assert "region_code: no region 620522100202 in your scope" in result.output
    assert "households 1 created" in result.output
    assert rows(migrated, "SELECT count(*) FROM households") == [(1,)]


def test_import_of_a_file_with_a_bad_header_exits_1_and_creates_no_job(
    migrated: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.csv", "code,name\n1,2\n")

    result = invoke("households", "import", str(path))

    assert result.exit_code == 1, result.output
    assert "does not follow the import layout" in result.output
    assert "file.1.1.code: unknown column 'code'" in result.output
    assert rows(migrated, "SELECT count(*) FROM jobs") == [(0,)]


def test_export_writes_unmasked_csv_to_standard_output_and_is_audited(migrated: Path, tmp_path: Path) -> None:
    with_regions(migrated, tmp_path)
    imported = household_rows(VILLAGE, members=2)
    ok("households", "import", str(import_file(tmp_path, to_csv(imported))))

    result = ok("households", "export", "--region", COUNTY)

    text = result.stdout_bytes.decode("utf-8")
    lines = text.removeprefix("\ufeff").splitlines()
    assert lines[0] == ",".join(layout.KEYS)
    assert len(lines) == 3
    assert imported[0]["member_id_number"] in text
    assert rows(migrated, "SELECT action, actor_name, region_code FROM audit_log") == [
        ("export", "system", COUNTY)
    ]


def test_export_writes_xlsx_and_ndjson_files(migrated: Path, tmp_path: Path) -> None:
    with_regions(migrated, tmp_path)
    ok("households", "import", str(import_file(tmp_path, to_csv(household_rows(VILLAGE, members=3)))))

    xlsx = ok("households", "export", "--region", VILLAGE, "--format", "xlsx", "--output", "out.xlsx")
    ndjson = ok("households", "export", "--region", VILLAGE, "--format", "ndjson", "--output", "out.ndjson")

    assert "wrote" in xlsx.output
    assert "out.xlsx" in xlsx.output
    sheet = openpyxl.load_workbook(
        io.BytesIO((tmp_path / "out.xlsx").read_bytes()), read_only=True
    ).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == 4
    (household,) = [orjson.loads(line) for line in (tmp_path / "out.ndjson").read_bytes().splitlines()]
    assert len(household["members"]) == 3
    assert all(FULL_ID_NUMBER.fullmatch(member["id_number"]) for member in household["members"])
    assert "wrote" in ndjson.output


def test_export_of_a_malformed_region_is_a_usage_error(migrated: Path) -> None:
    result = invoke("households", "export", "--region", "6205")

    assert result.exit_code == 2, result.output
    assert "a region code is 12 digits" in result.output
