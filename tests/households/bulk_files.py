"""Import files for tests: rows in the import layout, as CSV or XLSX bytes, and waiting for an import job."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta
from typing import Any

import httpx

from app.domain.households import layout
from app.domain.households.idnumbers import check_character
from app.domain.households.spreadsheets import csv_bytes, xlsx_bytes

IMPORTS = "/api/v1/households/imports"
_numbers = itertools.count(1)
_people = itertools.count(1)


def unique_id_number(birth: date, *, male: bool, region: str = "620522") -> str:
    """A valid ID number no other call in this run returns (the birth date moves on every 450 people)."""
    serial = next(_people)
    # 200 days after the factories' birth dates, so that no ID number of theirs is ever one of ours.
    born = birth + timedelta(days=200 + serial // 450)
    first17 = f"{region}{born:%Y%m%d}{(serial % 450) * 2 + 100 + (1 if male else 0):03d}"
    return first17 + check_character(first17)


def household_rows(
    region: str, *, number: str | None = None, members: int = 3, **household: Any
) -> list[dict[str, str]]:
    """The rows of one household (a head, a spouse, children), every household column on every row."""
    number = number or f"{region[6:]}{next(_numbers):06d}"
    base = {
        "household_number": number,
        "region_code": region,
        "group_name": "一组",
        "address": "王家庄村一组",
        "phone": "13800001234",
        "bank_name": "农村信用社",
        "bank_account": "6228480012345678",
        "identification_standard": "national",
        "attribute": "general",
        "category": "targeted",
        "primary_cause": "illness",
        "other_causes": "lack_of_skills",
        "housing_area": "85.5",
        "housing_structure": "brick_wood",
        "housing_year_built": "1998",
        "housing_safety_grade": "B",
        "is_relocated": "否",
        "has_electricity": "是",
        "fuel": "firewood",
        "drinking_water": "tap",
        "status": "registered",
        "registered_year": "2015",
        "exited_year": "",
    }
    base.update({key: str(value) for key, value in household.items()})
    people = [
        ("王建国", "head", date(1970, 1, 1), True),
        ("李秀英", "spouse", date(1972, 3, 4), False),
        ("王小明", "child", date(2005, 6, 7), True),
        ("王小红", "child", date(2008, 9, 10), False),
        ("王老汉", "parent", date(1945, 2, 3), True),
    ]
    rows = []
    for name, relation, birth, male in people[:members]:
        rows.append(
            {
                **base,
                "member_name": name,
                "member_id_number": unique_id_number(birth, male=male, region=region[:6]),
                "member_relation": relation,
                "member_education": "junior",
                "member_schooling": "none",
                "member_health": "healthy",
                "member_labour_ability": "ordinary",
                "member_migrant_work_months": "6",
                "member_has_medical_insurance": "是",
                "member_has_pension_insurance": "否",
            }
        )
    return rows


def table(rows: list[dict[str, str]], keys: tuple[str, ...] = layout.KEYS) -> list[list[str]]:
    return [list(keys), *([row.get(key, "") for key in keys] for row in rows)]


def to_csv(rows: list[dict[str, str]], keys: tuple[str, ...] = layout.KEYS) -> bytes:
    return csv_bytes(table(rows, keys))


def to_xlsx(rows: list[dict[str, str]], keys: tuple[str, ...] = layout.KEYS) -> bytes:
    return xlsx_bytes(table(rows, keys), "households")


async def start_import(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    filename: str = "households.csv",
    dry_run: bool = False,
    mode: str = "all_or_nothing",
) -> httpx.Response:
    return await client.post(
        IMPORTS,
        headers=headers,
        files={"file": (filename, data)},
        data={"dry_run": str(dry_run).lower(), "mode": mode},
    )


async def wait_for_job(client: httpx.AsyncClient, headers: dict[str, str], url: str) -> dict[str, Any]:
    for _ in range(3000):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in ("succeeded", "failed"):
            return job
        await asyncio.sleep(0.01)
    raise AssertionError(f"the job did not end: {job}")


async def run_import(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, **options: Any
) -> dict[str, Any]:
    """Start an import, wait for its job to end, and return the job."""
    response = await start_import(client, headers, data, **options)
    assert response.status_code == 202, response.text
    return await wait_for_job(client, headers, response.headers["Location"])


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], job: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every row of a job's report, following the cursor."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        response = await client.get(job["report_url"], headers=headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
