"""Exporting filtered household lists as CSV, XLSX and NDJSON: streamed, masked by role, audited."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
import uuid
from datetime import date
from typing import Any

import httpx
import openpyxl
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import event, insert, select

from app.db.base import utcnow
from app.db.models import AuditEntry, Household, Member
from app.db.session import Database
from app.domain.households import exports, layout, spreadsheets
from app.domain.households.queries import HouseholdFilter
from app.domain.households.spreadsheets import BOM
from app.domain.system import system_principal
from tests.conftest import (
    COUNTY,
    OTHER_VILLAGE,
    PROVINCE,
    TOWNSHIP_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    assert_problem,
)
from tests.factories import make_household
from tests.households.bulk_files import household_rows, run_import, to_csv, unique_id_number

pytestmark = pytest.mark.usefixtures("tree")

EXPORT = "/api/v1/households/export"
FULL_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9X])")


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8")
    assert text.startswith(BOM)
    reader = csv.reader(io.StringIO(text.removeprefix(BOM)))
    header = next(reader)
    assert tuple(header) == layout.KEYS
    return [dict(zip(header, row, strict=True)) for row in reader]


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in response.content.splitlines()]


async def export_audit(db: Database) -> list[AuditEntry]:
    async with db.sessionmaker() as session:
        statement = select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)
        return list((await session.scalars(statement)).all())


@pytest.fixture
async def registry(db: Database) -> list[Household]:
    """Households in three villages of the county and one elsewhere."""
    return [
        await make_household(db, VILLAGE_A1, members=3, household_number="A1-1"),
        await make_household(
            db, VILLAGE_A1, members=2, household_number="A1-2", status="exited", exited_year=2019
        ),
        await make_household(db, VILLAGE_A2, members=1, household_number="A2-1"),
        await make_household(db, VILLAGE_B1, members=2, household_number="B1-1"),
        await make_household(db, OTHER_VILLAGE, members=2, household_number="X-1"),
    ]


# Formats and masking ------------------------------------------------------------------------------------


async def test_a_csv_export_is_the_import_layout_masked_for_a_role_without_the_grant(
    client: httpx.AsyncClient, account_factory, registry: list[Household], db: Database
) -> None:
    township = await account_factory(TOWNSHIP_A, "township_reviewer")

    response = await client.get(EXPORT, headers=township.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="households-620522100-{date.today():%Y%m%d}.csv"'
    )
    rows = csv_rows(response)
    assert [(row["household_number"], row["member_relation"]) for row in rows] == [
        ("A1-1", "head"),
        ("A1-1", "spouse"),
        ("A1-1", "child"),
        ("A1-2", "head"),
        ("A1-2", "spouse"),
        ("A2-1", "head"),
    ] or sorted(row["household_number"] for row in rows) == ["A1-1"] * 3 + ["A1-2"] * 2 + ["A2-1"]
    assert not FULL_ID_NUMBER.search(response.text)
    assert all(re.fullmatch(r"620522\*{8}[0-9]{3}[0-9X]", row["member_id_number"]) for row in rows)
    assert {row["phone"] for row in rows} == {"138****1234"}
    assert {row["bank_account"] for row in rows} == {"************5678"}
    head = next(row for row in rows if row["household_number"] == "A1-1" and row["member_relation"] == "head")
    assert (head["region_code"], head["status"], head["is_relocated"], head["member_health"]) == (
        VILLAGE_A1,
        "registered",
        "false",
        "healthy",
    )
    (entry,) = await export_audit(db)
    assert (entry.actor_subject, entry.record_type, entry.region_code) == (
        township.principal.subject,
        "household",
        TOWNSHIP_A,
    )
    assert entry.fields == list(exports.PERSONAL_FIELDS)
    assert entry.details == {"format": "csv", "masked": True, "filters": {"sort": "region"}}


async def test_an_inspector_exports_ndjson_unmasked_and_one_audit_row_records_it(
    client: httpx.AsyncClient, account_factory, registry: list[Household], db: Database
) -> None:
    inspector = await account_factory(COUNTY, "inspector")

    response = await client.get(
        EXPORT, headers=inspector.headers, params={"format": "ndjson", "region": VILLAGE_A1, "sort": "number"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = ndjson(response)
    assert [line["household_number"] for line in lines] == ["A1-1", "A1-2"]
    first = lines[0]
    assert (first["id"], first["phone"], first["bank_account"]) == (
        str(registry[0].id),
        "13800001234",
        "6228480012345678",
    )
    assert [member["relation"] for member in first["members"]] == ["head", "spouse", "child"]
    assert all(FULL_ID_NUMBER.fullmatch(member["id_number"]) for member in first["members"])
    assert {"household_id", "region_code"}.isdisjoint(first["members"][0])
    (entry,) = await export_audit(db)
    assert (entry.region_code, entry.details["masked"], entry.details["format"]) == (
        VILLAGE_A1,
        False,
        "ndjson",
    )
    assert entry.details["filters"] == {"region": VILLAGE_A1, "sort": "number"}


async def test_an_xlsx_export_holds_one_row_per_member_in_the_import_layout(
    client: httpx.AsyncClient, account_factory, registry: list[Household]
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(
        EXPORT, headers=officer.headers, params={"format": "xlsx", "status": "registered"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].endswith(f'households-620522-{date.today():%Y%m%d}.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert tuple(header) == layout.KEYS
    numbers = [row[0] for row in rows]
    assert sorted(numbers) == ["A1-1", "A1-1", "A1-1", "A2-1", "B1-1", "B1-1"]  # A1-2 has exited
    assert not FULL_ID_NUMBER.search(str(rows))


async def test_an_export_takes_the_lists_filters_and_stays_in_scope(
    client: httpx.AsyncClient, account_factory, registry: list[Household]
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    exited = await client.get(
        EXPORT, headers=officer.headers, params={"format": "ndjson", "status": "exited"}
    )
    searched = await client.get(EXPORT, headers=officer.headers, params={"format": "ndjson", "q": "B1-"})
    everything = await client.get(EXPORT, headers=officer.headers, params={"format": "ndjson"})

    assert [line["household_number"] for line in ndjson(exited)] == ["A1-2"]
    assert [line["household_number"] for line in ndjson(searched)] == ["B1-1"]
    assert sorted(line["household_number"] for line in ndjson(everything)) == ["A1-1", "A1-2", "A2-1", "B1-1"]


async def test_an_export_of_a_region_outside_scope_is_404_and_without_the_permission_403(
    client: httpx.AsyncClient, account_factory, registry: list[Household], db: Database
) -> None:
    township = await account_factory(TOWNSHIP_A, "township_reviewer")
    finance = await account_factory(COUNTY, "finance_officer")

    assert_problem(await client.get(EXPORT, headers=township.headers, params={"region": VILLAGE_B1}), 404)
    assert_problem(await client.get(EXPORT, headers=township.headers, params={"region": COUNTY}), 404)
    assert_problem(await client.get(EXPORT, headers=finance.headers), 403, "auth.forbidden")
    assert await export_audit(db) == []


async def test_the_export_path_is_not_taken_for_a_household_id(
    client: httpx.AsyncClient, account_factory, registry: list[Household]
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    household = await client.get(f"/api/v1/households/{registry[0].id}", headers=officer.headers)
    export = await client.get(EXPORT, headers=officer.headers)

    assert household.status_code == export.status_code == 200
    assert household.json()["household_number"] == "A1-1"


# Round trip ---------------------------------------------------------------------------------------------


async def test_an_unmasked_export_of_an_import_imports_again_unchanged(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    officer = await account_factory(COUNTY, "county_officer", has_personal_data_grant=True)
    rows = household_rows(VILLAGE_A1, members=4) + household_rows(VILLAGE_B1, members=2, other_causes="")
    rows += household_rows(
        VILLAGE_A2, members=1, status="applicant", registered_year="", address='=1+1 "引号"'
    )
    imported = await run_import(client, officer.headers, to_csv(rows))
    assert imported["status"] == "succeeded", imported

    for fmt in ("csv", "xlsx"):
        export = await client.get(EXPORT, headers=officer.headers, params={"format": fmt})
        assert export.status_code == 200, export.text
        again = await run_import(client, officer.headers, export.content, filename=f"export.{fmt}")

        assert again["status"] == "succeeded", again
        result = again["result"]
        assert (
            result["households_unchanged"],
            result["households_created"],
            result["households_updated"],
        ) == (
            3,
            0,
            0,
        ), (fmt, result)
        assert (result["members_created"], result["members_updated"]) == (0, 0)
    export = await client.get(EXPORT, headers=officer.headers)
    exported = sorted(csv_rows(export), key=lambda row: row["member_id_number"])
    expected = sorted(rows, key=lambda row: row["member_id_number"])
    assert [row["member_id_number"] for row in exported] == [row["member_id_number"] for row in expected]
    assert {row["address"] for row in exported} == {"王家庄村一组", '=1+1 "引号"'}


async def test_a_masked_export_does_not_import_and_says_why(
    client: httpx.AsyncClient, account_factory, registry: list[Household]
) -> None:
    officer = await account_factory(COUNTY, "county_officer")
    export = await client.get(EXPORT, headers=officer.headers, params={"region": VILLAGE_A2})

    job = await run_import(client, officer.headers, export.content, dry_run=True)

    assert job["result"]["rows_with_errors"] == 1
    page = (await client.get(job["report_url"], headers=officer.headers)).json()
    codes = {(error["column"], error["code"]) for error in page["items"][0]["errors"]}
    assert {("phone", "masked"), ("bank_account", "masked"), ("member_id_number", "masked")} <= codes


# Constant memory ----------------------------------------------------------------------------------------


async def store_many(db: Database, count: int, region: str = VILLAGE_A1) -> None:
    """``count`` households with one member each, written in bulk (no ORM objects)."""
    now = utcnow()
    for start in range(0, count, 5000):
        households, members = [], []
        for index in range(start, min(start + 5000, count)):
            household_id = uuid.uuid4()
            households.append(
                {
                    "id": household_id,
                    "region_code": region,
                    "county_code": COUNTY,
                    "household_number": f"M{index:07d}",
                    "head_name": "王建国",
                    "identification_standard": "national",
                    "attribute": "general",
                    "primary_cause": "illness",
                    "other_causes": [],
                    "status": "registered",
                    "phone": "13800001234",
                    "is_relocated": False,
                    "has_returned_to_poverty": False,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            number = unique_id_number(date(1960, 1, 1), male=True)
            members.append(
                {
                    "id": uuid.uuid4(),
                    "household_id": household_id,
                    "region_code": region,
                    "name": "王建国",
                    "id_number": number,
                    "sex": "M",
                    "birth_date": date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    "relation": "head",
                    "has_medical_insurance": True,
                    "has_pension_insurance": False,
                    "is_active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with db.sessionmaker() as session, session.begin():
            await session.execute(insert(Household.__table__), households)
            await session.execute(insert(Member.__table__), members)


async def test_an_export_of_20000_households_reads_them_in_batches_with_one_member_query_each(
    client: httpx.AsyncClient, account_factory, db: Database, app: FastAPI
) -> None:
    await store_many(db, 20_000)
    officer = await account_factory(COUNTY, "county_officer")
    member_queries: list[str] = []

    def count_member_queries(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM members" in statement:
            member_queries.append(statement)

    engine = app.state.database.engine.sync_engine  # the app's own engine, not the fixtures'
    event.listen(engine, "before_cursor_execute", count_member_queries)
    try:
        response = await client.get(EXPORT, headers=officer.headers, params={"format": "ndjson"})
    finally:
        event.remove(engine, "before_cursor_execute", count_member_queries)

    assert response.status_code == 200
    assert len(response.content.splitlines()) == 20_000
    assert len(member_queries) == 20_000 // exports.BATCH


async def test_streaming_an_export_of_20000_households_does_not_hold_them_all(db: Database) -> None:
    await store_many(db, 20_000)
    plan = exports.ExportPlan(HouseholdFilter(), "csv", unmasked=True, filename="x.csv")
    total = 0
    tracemalloc.start()
    try:
        async for block in exports.stream_export(db.sessionmaker, system_principal(), plan):
            total += len(block)
        _, peak = tracemalloc.get_traced_memory()
        print(f"\nexport peak {peak / 1e6:.1f} MB for {total / 1e6:.1f} MB")
    finally:
        tracemalloc.stop()

    assert total > 2_500_000  # the export itself: 20,000 rows of about 140 bytes
    # One batch of 1,000 households in memory at a time: all 20,000 at once takes over 100 MB.
    assert peak < 15_000_000, f"peak {peak / 1e6:.1f} MB"


async def test_a_province_level_export_is_named_after_the_province(
    client: httpx.AsyncClient, account_factory, registry: list[Household]
) -> None:
    inspector = await account_factory(PROVINCE, "inspector")

    response = await client.get(EXPORT, headers=inspector.headers, params={"format": "ndjson"})

    assert f'households-62-{date.today():%Y%m%d}.ndjson"' in response.headers["content-disposition"]
    assert len(ndjson(response)) == 5


def test_an_xlsx_sheet_is_never_written_past_excels_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_ROWS", 3)
    writer = spreadsheets.XlsxWriter("households")
    writer.append([["a"], ["b"], ["c"]])

    with pytest.raises(spreadsheets.TooManyRows, match="use CSV or NDJSON"):
        writer.append([["d"]])
    writer.discard()
