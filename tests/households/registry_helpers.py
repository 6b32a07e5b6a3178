"""Helpers shared by the registry API tests: application bodies, members, reads with their ETag."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from app.db.models import AuditEntry
from app.db.session import Database
from app.domain.households.idnumbers import check_character
from tests.conftest import Account
from tests.factories import household_number, id_number

HOUSEHOLDS = "/api/v1/households"
_serial = itertools.count(500)


def x_id_number(birth: date = date(1980, 5, 6), region: str = "620522") -> str:
    """A valid ID number whose check character is X."""
    for order in _serial:
        first17 = f"{region}{birth:%Y%m%d}{order % 1000:03d}"
        if check_character(first17) == "X":
            return first17 + "X"
    raise AssertionError("unreachable")


def member(
    name: str = "赵大山",
    relation: str = "head",
    *,
    birth: date = date(1975, 4, 5),
    male: bool = True,
    number: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "id_number": number or id_number(birth, male=male),
        "relation": relation,
        **fields,
    }


def application(region: str, *, members: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region_code": region,
        "household_number": household_number(region),
        "identification_standard": "national",
        "attribute": "general",
        "primary_cause": "illness",
        "phone": "13912345678",
        "bank_name": "农村信用社",
        "bank_account": "6230 5200 1234 5678",
        "members": members
        if members is not None
        else [member(), member("钱桂兰", "spouse", birth=date(1977, 8, 9), male=False)],
    }
    body.update(fields)
    return body


async def apply(client: httpx.AsyncClient, account: Account, body: dict[str, Any]) -> dict[str, Any]:
    """Register an application that must succeed; the created household as returned."""
    response = await client.post(HOUSEHOLDS, headers=account.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def read(client: httpx.AsyncClient, account: Account, household_id: str) -> tuple[dict[str, Any], str]:
    """The household and its ETag."""
    response = await client.get(f"{HOUSEHOLDS}/{household_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def with_etag(account: Account, etag: str) -> dict[str, str]:
    return {**account.headers, "If-Match": etag}


def error_locs(body: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {tuple(error["loc"]) for error in body.get("errors", [])}


async def audit_rows(db: Database) -> list[AuditEntry]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())
