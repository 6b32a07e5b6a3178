"""Importing households with members from CSV and XLSX, through the API, as a county officer would."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import time
import uuid
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select

from app.db.base import utcnow
from app.db.models import Household, HouseholdEvent, ImportRowReport, Job, Member
from app.db.session import Database
from app.domain import jobs
from app.domain.households import layout
from app.domain.households.spreadsheets import BOM
from app.domain.system import system_principal
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_VILLAGE,
    TOWNSHIP_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    Account,
    assert_problem,
)
from tests.factories import make_household
from tests.households.bulk_files import (
    household_rows,
    report,
    run_import,
    start_import,
    to_csv,
    to_xlsx,
    wait_for_job,
)

pytestmark = pytest.mark.usefixtures("tree")

TEMPLATE = "/api/v1/households/import-template"


@pytest.fixture
async def officer(account_factory) -> Account:  # type: ignore[no-untyped-def]
    account: Account = await account_factory(COUNTY, "county_officer")
    return account


async def count(db: Database, model: type[Any], *where: Any) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def households_by_number(db: Database) -> dict[str, Household]:
    async with db.sessionmaker() as session:
        return {h.household_number: h for h in (await session.scalars(select(Household))).all()}


def errors_by_row(rows: list[dict[str, Any]]) -> dict[int, set[tuple[str | None, str]]]:
    return {row["row"]: {(error["column"], error["code"]) for error in row["errors"]} for row in rows}


# The template -------------------------------------------------------------------------------------------


async def test_the_csv_template_is_the_layout_header_and_an_example_row_that_imports(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    response = await client.get(TEMPLATE, headers=officer.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="households-import-template.csv"' in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith(BOM)
    header, example = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert tuple(header) == layout.KEYS
    assert dict(zip(header, example, strict=True)) == layout.EXAMPLE

    job = await run_import(client, officer.headers, response.content, dry_run=True)
    assert job["status"] == "succeeded", job
    assert job["result"]["rows_with_errors"] == 0
    assert job["result"]["households_created"] == 1


async def test_the_xlsx_template_holds_the_same_header_and_example(
    client: httpx.AsyncClient, officer: Account
) -> None:
    response = await client.get(TEMPLATE, headers=officer.headers, params={"format": "xlsx"})

    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    header, example = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    assert tuple(header) == layout.KEYS
    assert [cell or "" for cell in example] == [layout.EXAMPLE[key] for key in layout.KEYS]


async def test_a_village_clerk_may_not_import_nor_download_the_template(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")

    assert_problem(await client.get(TEMPLATE, headers=clerk.headers), 403, "auth.forbidden")
    response = await start_import(client, clerk.headers, to_csv(household_rows(VILLAGE_A1)))
    assert_problem(response, 403, "auth.forbidden")
    assert await count(db, Job) == 0


# Validation and modes -----------------------------------------------------------------------------------


def file_with_problems() -> tuple[list[dict[str, str]], dict[int, set[tuple[str | None, str]]]]:
    """Three households; the second has errors on rows 5 and 6 (rows 2-4 are the first household)."""
    good = household_rows(VILLAGE_A1)
    bad = household_rows(VILLAGE_A2, members=3)
    for row in bad:  # household columns repeat on every row of the household
        row["primary_cause"] = "bad_luck"  # not in the code list
        row["other_causes"] = "illness;lack_of_land;lack_of_water"  # three: too many
    number = bad[0]["member_id_number"]
    bad[0]["member_id_number"] = number[:17] + ("0" if number[17] != "0" else "1")  # a wrong check character
    bad[1]["member_relation"] = "head"  # a second head
    bad[1]["housing_area"] = "12.345"
    other = household_rows(VILLAGE_B1)
    expected = {
        5: {("primary_cause", "code"), ("other_causes", "too_many"), ("member_id_number", "id_number")},
        6: {("housing_area", "format")},
    }
    return good + bad + other, expected


async def test_a_dry_run_writes_nothing_and_reports_every_error_with_its_column(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows, expected = file_with_problems()

    job = await run_import(client, officer.headers, to_csv(rows), dry_run=True)

    assert job["status"] == "succeeded", job
    assert job["params"] == {"filename": "households.csv", "dry_run": True, "mode": "all_or_nothing"}
    result = job["result"]
    assert (result["rows"], result["rows_with_errors"], result["households_with_errors"]) == (9, 2, 1)
    assert (result["households_created"], result["members_created"]) == (2, 6)  # what an import would do
    assert await count(db, Household) == 0
    assert await count(db, Member) == 0
    assert await count(db, HouseholdEvent) == 0
    reported = await report(client, officer.headers, job)
    assert [row["row"] for row in reported] == [5, 6, 7]
    by_row = errors_by_row(reported)
    assert expected[5] <= by_row[5]
    assert expected[6] <= by_row[6]
    assert ("member_relation", "head_count") in by_row[5]  # two heads: said on the household's first row
    assert reported[2]["outcome"] == "skipped"
    assert reported[2]["errors"][0]["code"] == "skipped"
    assert {row["household_number"] for row in reported} == {rows[3]["household_number"]}


async def test_all_or_nothing_with_one_bad_row_imports_nothing(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows, _ = file_with_problems()

    job = await run_import(client, officer.headers, to_csv(rows))

    assert job["status"] == "failed", job
    assert "nothing was imported" in job["error"]
    assert job["result"]["households_created"] == 0
    assert job["result"]["rows_with_errors"] == 2
    assert await count(db, Household) == 0
    assert await count(db, Member) == 0
    assert len(await report(client, officer.headers, job)) == 3


async def test_row_by_row_imports_the_good_households_and_reports_the_bad(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows, _ = file_with_problems()

    job = await run_import(client, officer.headers, to_csv(rows), mode="row_by_row")

    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["households_created"], result["members_created"], result["rows_with_errors"]) == (2, 6, 2)
    stored = await households_by_number(db)
    assert set(stored) == {rows[0]["household_number"], rows[6]["household_number"]}
    first = stored[rows[0]["household_number"]]
    assert (first.region_code, first.county_code, first.head_name) == (VILLAGE_A1, COUNTY, "王建国")
    assert (first.status, first.registered_year, first.procedure) == ("registered", 2015, None)
    assert first.other_causes == ["lack_of_skills"]
    assert str(first.housing_area) == "85.50"
    assert (first.is_relocated, first.has_electricity) == (False, True)
    assert await count(db, Member, Member.household_id == first.id) == 3
    assert [row["row"] for row in await report(client, officer.headers, job)] == [5, 6, 7]


async def test_an_import_records_one_import_event_per_household_written(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows = household_rows(VILLAGE_A1) + household_rows(VILLAGE_A2, status="applicant", registered_year="")

    job = await run_import(client, officer.headers, to_csv(rows))

    assert job["status"] == "succeeded", job
    async with db.sessionmaker() as session:
        events = (await session.scalars(select(HouseholdEvent).order_by(HouseholdEvent.region_code))).all()
        applicant = await session.scalar(select(Household).where(Household.region_code == VILLAGE_A2))
    assert [(e.action, e.to_status, e.actor_id) for e in events] == [
        ("import", "registered", officer.user.id),
        ("import", "applicant", officer.user.id),
    ]
    assert events[0].details["job_id"] == job["id"]
    assert events[0].details["created"] is True
    assert applicant is not None
    assert (applicant.procedure, applicant.procedure_step) == ("identification", "applied")


async def test_importing_the_same_file_again_creates_no_duplicates(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    data = to_csv(household_rows(VILLAGE_A1) + household_rows(VILLAGE_B1, members=2))
    first = await run_import(client, officer.headers, data)
    before = await households_by_number(db)

    again = await run_import(client, officer.headers, data)

    assert first["result"]["households_created"] == 2
    assert again["status"] == "succeeded", again
    result = again["result"]
    assert (result["households_created"], result["households_updated"], result["households_unchanged"]) == (
        0,
        0,
        2,
    )
    assert (result["members_created"], result["members_updated"]) == (0, 0)
    assert await count(db, Household) == 2
    assert await count(db, Member) == 5
    assert await count(db, HouseholdEvent) == 2  # nothing changed, nothing recorded
    after = await households_by_number(db)
    assert {n: h.version for n, h in after.items()} == {n: h.version for n, h in before.items()}


async def test_a_changed_file_updates_households_and_members_matched_by_number_and_id(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows = household_rows(VILLAGE_A1, members=2)
    await run_import(client, officer.headers, to_csv(rows))
    (household,) = (await households_by_number(db)).values()
    changed = [dict(row, address="新址8号", member_health="chronic") for row in rows]
    changed[0]["member_name"] = "王建军"
    newcomer = dict(
        changed[1],
        member_name="王小明",
        member_id_number=household_rows(VILLAGE_A1)[2]["member_id_number"],
        member_relation="child",
    )

    job = await run_import(client, officer.headers, to_csv([*changed, newcomer]))

    result = job["result"]
    assert job["status"] == "succeeded", job
    assert (result["households_updated"], result["members_created"], result["members_updated"]) == (1, 1, 2)
    (updated,) = (await households_by_number(db)).values()
    assert updated.id == household.id
    assert (updated.address, updated.head_name, updated.version) == (
        "新址8号",
        "王建军",
        household.version + 1,
    )
    async with db.sessionmaker() as session:
        healths = (
            await session.scalars(select(Member.health).where(Member.household_id == household.id))
        ).all()
        events = (await session.scalars(select(HouseholdEvent))).all()
    assert sorted(healths) == ["chronic", "chronic", "chronic"]
    (event,) = [event for event in events if not event.details["created"]]
    assert event.details["changed"] == ["address", "head_name"]
    assert (event.details["members_created"], event.details["members_updated"]) == (1, 2)


async def test_a_household_moves_to_another_village_of_the_county_with_its_members(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows = household_rows(VILLAGE_A1, members=2)
    await run_import(client, officer.headers, to_csv(rows))

    job = await run_import(
        client, officer.headers, to_csv([dict(row, region_code=VILLAGE_B1) for row in rows])
    )

    assert job["result"]["households_updated"] == 1, job
    (household,) = (await households_by_number(db)).values()
    assert household.region_code == VILLAGE_B1
    assert await count(db, Member, Member.region_code == VILLAGE_B1) == 2


async def test_a_stored_households_status_changes_only_through_the_lifecycle(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows = household_rows(VILLAGE_A1)
    await run_import(client, officer.headers, to_csv(rows))
    new = household_rows(VILLAGE_A2, status="removed")

    job = await run_import(
        client,
        officer.headers,
        to_csv([dict(row, status="exited", exited_year="2019") for row in rows] + new),
    )

    assert job["status"] == "failed"
    by_row = errors_by_row(await report(client, officer.headers, job))
    assert ("status", "status_change") in by_row[2]
    assert ("status", "status") in by_row[5]


# Scope and people ---------------------------------------------------------------------------------------


async def test_a_row_outside_the_callers_scope_is_refused_per_row_and_never_written(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    township_officer = await account_factory(TOWNSHIP_A, "county_officer")
    elsewhere = await make_household(db, OTHER_VILLAGE, household_number="X-1")
    rows = (
        household_rows(VILLAGE_A1)
        + household_rows(VILLAGE_B1)  # this county, another township
        + household_rows(OTHER_VILLAGE)  # another county
        + household_rows(TOWNSHIP_A)  # not a village
    )

    job = await run_import(client, township_officer.headers, to_csv(rows), mode="row_by_row")

    assert job["status"] == "succeeded", job
    by_row = errors_by_row(await report(client, township_officer.headers, job))
    assert by_row[5] == by_row[8] == {("region_code", "not_in_scope")}
    assert by_row[11] == {("region_code", "not_village")}
    stored = await households_by_number(db)
    assert set(stored) == {rows[0]["household_number"], elsewhere.household_number}
    assert job["region_code"] == TOWNSHIP_A


async def test_a_household_number_taken_outside_the_callers_scope_is_a_row_error(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    township_officer = await account_factory(TOWNSHIP_A, "county_officer")
    await make_household(db, VILLAGE_B1, household_number="N-77")

    job = await run_import(
        client, township_officer.headers, to_csv(household_rows(VILLAGE_A1, number="N-77"))
    )

    assert job["status"] == "failed"
    by_row = errors_by_row(await report(client, township_officer.headers, job))
    assert by_row[2] == {("household_number", "taken")}
    assert await count(db, Household) == 1


async def test_a_person_active_in_another_household_is_a_row_error_naming_it_only_if_visible(
    client: httpx.AsyncClient, account_factory, db: Database
) -> None:
    township_officer = await account_factory(TOWNSHIP_A, "county_officer")
    visible = await make_household(db, VILLAGE_A2, household_number="SEEN-1")
    hidden = await make_household(db, VILLAGE_B1, household_number="HIDDEN-1")
    async with db.sessionmaker() as session:
        seen_id, hidden_id = [
            await session.scalar(select(Member.id_number).where(Member.household_id == h.id).limit(1))
            for h in (visible, hidden)
        ]
    rows = household_rows(VILLAGE_A1, members=3)
    rows[1]["member_id_number"] = seen_id
    rows[2]["member_id_number"] = hidden_id

    job = await run_import(client, township_officer.headers, to_csv(rows), dry_run=True)

    reported = {row["row"]: row["errors"] for row in await report(client, township_officer.headers, job)}
    assert reported[3] == [
        {
            "column": "member_id_number",
            "message": "already an active member of household SEEN-1",
            "code": "already_registered",
        }
    ]
    assert reported[4][0]["message"] == "already an active member of another household"
    assert "HIDDEN" not in str(reported)


async def test_the_same_person_in_two_households_of_one_file_is_a_row_error(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    first = household_rows(VILLAGE_A1, members=2)
    second = household_rows(VILLAGE_A2, members=2)
    second[1]["member_id_number"] = first[1]["member_id_number"]
    split = household_rows(VILLAGE_B1, members=2)

    job = await run_import(client, officer.headers, to_csv([*first, *second, *split]))
    again = await run_import(client, officer.headers, to_csv([*first, *household_rows(VILLAGE_B1), first[0]]))

    by_row = errors_by_row(await report(client, officer.headers, job))
    assert by_row[5] == {("member_id_number", "duplicate_person")}
    assert errors_by_row(await report(client, officer.headers, again))[7] == {
        ("household_number", "not_consecutive")
    }
    assert await count(db, Household) == 0


# Formats ------------------------------------------------------------------------------------------------


async def test_an_xlsx_file_imports_like_a_csv(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows = household_rows(VILLAGE_A1) + household_rows(VILLAGE_A2, members=1)

    job = await run_import(client, officer.headers, to_xlsx(rows), filename="户.xlsx")

    assert job["status"] == "succeeded", job
    assert (job["result"]["households_created"], job["result"]["members_created"]) == (2, 4)
    stored = await households_by_number(db)
    assert stored[rows[0]["household_number"]].housing_year_built == 1998


async def test_chinese_headers_labels_and_a_gb18030_file_are_accepted(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    names = {column.key: column.aliases[0] for column in layout.COLUMNS}
    rows = household_rows(VILLAGE_A1, members=2, primary_cause="因病", attribute="一般贫困户")
    rows[0]["member_relation"] = "户主"
    keys = tuple(key for key in layout.KEYS if key != "category")  # an optional column left out
    lines = [[names[key] for key in keys], *([row[key] for key in keys] for row in rows)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)

    job = await run_import(client, officer.headers, buffer.getvalue().encode("gb18030"))

    assert job["status"] == "succeeded", job
    (household,) = (await households_by_number(db)).values()
    assert (household.primary_cause, household.attribute, household.category) == ("illness", "general", None)


async def test_a_file_whose_header_does_not_follow_the_layout_is_refused_at_once(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    data = b"household_number,region_code,colour\n1,620522100201,red\n"

    response = await start_import(client, officer.headers, data)

    body = assert_problem(response, 422, "household.import.header")
    messages = {error["message"] for error in body["errors"]}
    assert "unknown column 'colour'" in messages
    assert "the required column member_id_number is missing" in messages
    assert await count(db, Job) == 0
    assert_problem(
        await start_import(client, officer.headers, b"PK\x03\x04broken", filename="a.xlsx"),
        422,
        "household.import.unreadable",
    )


# Jobs ---------------------------------------------------------------------------------------------------


async def test_the_job_shows_progress_and_its_report_pages_in_file_order(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    rows = []
    for index in range(40):
        household = household_rows(VILLAGE_A1, members=2)
        if index % 3 == 0:
            household[1]["member_relation"] = "cousin"
        rows += household
    response = await start_import(client, officer.headers, to_csv(rows), mode="row_by_row")
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] in ("queued", "running", "succeeded")
    assert accepted["kind"] == "household_import"
    assert response.headers["Location"] == f"/api/v1/jobs/{accepted['id']}"
    assert accepted["report_url"] == f"/api/v1/jobs/{accepted['id']}/report"

    job = await wait_for_job(client, officer.headers, response.headers["Location"])

    assert (job["status"], job["total"], job["processed"]) == ("succeeded", 80, 80)
    assert job["result"]["households_created"] == 26
    assert job["started_at"] is not None
    assert job["finished_at"] is not None
    assert "runner" not in job["params"]
    page = await client.get(job["report_url"], headers=officer.headers, params={"limit": 10})
    body = page.json()
    # Households 0, 3, 6, … have an error on their second row; their first row is skipped with them.
    assert [item["row"] for item in body["items"]] == [2, 3, 8, 9, 14, 15, 20, 21, 26, 27]
    assert [item["outcome"] for item in body["items"][:2]] == ["skipped", "error"]
    assert body["next_cursor"] is not None
    everything = await report(client, officer.headers, job)
    assert len(everything) == 28  # 14 households with an error: 14 error rows, 14 rows skipped with them
    assert [row["row"] for row in everything] == sorted(row["row"] for row in everything)


async def test_a_job_is_found_only_in_scope_and_only_with_the_import_permission(
    client: httpx.AsyncClient, officer: Account, account_factory
) -> None:
    job = await run_import(client, officer.headers, to_csv(household_rows(VILLAGE_A1)), dry_run=True)
    other_county = await account_factory(OTHER_COUNTY, "county_officer")
    township = await account_factory(TOWNSHIP_A, "county_officer")
    clerk = await account_factory(COUNTY, "township_reviewer")
    url = f"/api/v1/jobs/{job['id']}"

    assert_problem(await client.get(url, headers=other_county.headers), 404, "job.not_found")
    assert_problem(await client.get(url, headers=township.headers), 404, "job.not_found")  # a county's job
    assert_problem(await client.get(url, headers=clerk.headers), 403, "auth.forbidden")
    assert_problem(await client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=officer.headers), 404)


async def test_jobs_a_dead_process_left_running_fail_as_interrupted_at_start_up(db: Database) -> None:
    here = jobs.this_process()
    dead = {**here, "pid": 2**22 + 12345}  # above the kernel's pid limit: never a live process
    alive = {**here, "pid": os.getppid()}
    elsewhere = {"host": "another-host", "pid": 1}
    async with db.sessionmaker() as session, session.begin():
        for runner, status in (
            (dead, "running"),
            (alive, "running"),
            (elsewhere, "queued"),
            (dead, "succeeded"),
        ):
            session.add(
                Job(
                    kind="household_import",
                    status=status,
                    region_code=COUNTY,
                    created_by_subject="user:x",
                    created_by_name="x",
                    params={"runner": runner},
                    processed=0,
                    result={},
                    created_at=utcnow(),
                )
            )

    assert await jobs.fail_interrupted(db.sessionmaker) == 1

    async with db.sessionmaker() as session:
        states = sorted((await session.execute(select(Job.status, Job.error))).all(), key=str)
    assert states == sorted(
        [("failed", jobs.INTERRUPTED), ("running", None), ("queued", None), ("succeeded", None)], key=str
    )


async def test_a_job_still_running_when_the_server_stops_fails_as_interrupted(db: Database) -> None:
    runner = jobs.JobRunner(db.sessionmaker)
    async with db.sessionmaker() as session, session.begin():
        job = await jobs.create_job(session, system_principal(), jobs.HOUSEHOLD_IMPORT, {})
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(3600)

    runner.start(job.id, work)
    await started.wait()
    await runner.shutdown()

    assert runner.running == 0
    async with db.sessionmaker() as session:
        stored = await session.get(Job, job.id)
    assert stored is not None
    assert (stored.status, stored.error) == ("failed", jobs.INTERRUPTED)


async def test_a_20000_row_csv_imports_in_a_few_seconds(
    client: httpx.AsyncClient, officer: Account, db: Database
) -> None:
    villages = (VILLAGE_A1, VILLAGE_A2, VILLAGE_B1)
    rows = [row for index in range(5000) for row in household_rows(villages[index % 3], members=4)]
    data = to_csv(rows)
    started = time.monotonic()

    job = await run_import(client, officer.headers, data, mode="row_by_row")

    elapsed = time.monotonic() - started
    assert job["status"] == "succeeded", job
    assert (job["result"]["rows"], job["result"]["households_created"]) == (20_000, 5_000)
    assert await count(db, Member) == 20_000
    assert await count(db, ImportRowReport) == 0
    print(
        f"\nimport: 20,000 rows ({len(data) / 1e6:.1f} MB) in {elapsed:.2f} s: {20_000 / elapsed:,.0f} rows/s"
    )
    assert elapsed < 30
