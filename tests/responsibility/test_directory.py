"""Work units and cadres: created by county officers in scope, read by everyone with the read permission,
phones masked by role, every write audited, a cadre with active assignments not deactivated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import AuditEntry, Cadre, WorkUnit
from app.db.session import Database
from tests.conftest import COUNTY, OTHER_COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, assert_problem
from tests.responsibility.factories import make_assignment, make_cadre, make_unit

UNITS = "/api/v1/work-units"
CADRES = "/api/v1/cadres"


async def _audit(db: Database, record_type: str) -> list[tuple[str, str | None, list[str]]]:
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(AuditEntry).where(AuditEntry.record_type == record_type))).all()
    return [(row.action, row.record_id, row.fields) for row in rows]


async def test_a_county_officer_registers_units_and_cadres(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    response = await client.post(
        UNITS,
        headers=county.headers,
        json={"region_code": COUNTY, "name": "甘肃秦安果业集团", "kind": "enterprise", "enterprise_class": 1},
    )
    assert response.status_code == 201, response.text
    unit = response.json()
    assert unit["enterprise_class"] == 1
    response = await client.post(
        CADRES,
        headers=county.headers,
        json={
            "region_code": TOWNSHIP_A,
            "name": "李卫东",
            "rank": "section",
            "unit_id": unit["id"],
            "phone": "13993812345",
        },
    )
    assert response.status_code == 201, response.text
    cadre = response.json()
    assert cadre["phone"] == "139****2345"  # a county officer may not read personal data
    assert cadre["is_active"] is True
    assert await _audit(db, "work_unit") == [
        ("create", unit["id"], ["enterprise_class", "kind", "name", "phone", "region_code"])
    ]
    assert [(action, record) for action, record, _ in await _audit(db, "cadre")] == [("create", cadre["id"])]

    changed = await client.patch(
        f"{UNITS}/{unit['id']}", headers=county.headers, json={"enterprise_class": 2}
    )
    assert changed.status_code == 200
    assert changed.json()["enterprise_class"] == 2
    changed = await client.patch(f"{CADRES}/{cadre['id']}", headers=county.headers, json={"rank": "general"})
    assert changed.status_code == 200
    assert changed.json()["rank"] == "general"
    assert [action for action, _, _ in await _audit(db, "cadre")] == ["create", "update"]


async def test_only_enterprises_have_a_class(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    problem = assert_problem(
        await client.post(
            UNITS,
            headers=county.headers,
            json={"region_code": COUNTY, "name": "县卫健局", "kind": "department", "enterprise_class": 2},
        ),
        422,
        "work_unit.class_not_enterprise",
    )
    assert problem["errors"][0]["loc"] == ["body", "enterprise_class"]
    department = await make_unit(db, COUNTY)
    assert_problem(
        await client.patch(f"{UNITS}/{department.id}", headers=county.headers, json={"enterprise_class": 3}),
        422,
        "work_unit.class_not_enterprise",
    )
    async with db.sessionmaker() as session:
        assert (await session.get(WorkUnit, department.id)).enterprise_class is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("roles", "grant", "masked"),
    [
        (["village_clerk"], False, True),
        (["township_reviewer"], False, True),
        (["county_officer"], False, True),
        (["finance_officer"], False, True),
        (["data_consumer"], False, True),
        (["inspector"], False, False),
        (["county_officer"], True, False),
    ],
)
async def test_a_cadres_phone_is_masked_by_role(
    client: httpx.AsyncClient,
    db: Database,
    tree: dict[str, str],
    account_factory: Any,
    roles: list[str],
    grant: bool,
    masked: bool,
) -> None:
    caller = await account_factory(COUNTY, *roles, has_personal_data_grant=grant)
    cadre = await make_cadre(db, VILLAGE_A1, phone="13909381234")
    response = await client.get(f"{CADRES}/{cadre.id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == ("139****1234" if masked else "13909381234")
    audited = await _audit(db, "cadre")
    assert audited == ([] if masked else [("read_personal_data", str(cadre.id), ["cadre.phone"])])
    listed = (await client.get(CADRES, headers=caller.headers)).json()["items"]
    assert [item["id"] for item in listed] == [str(cadre.id)]
    assert "phone" not in listed[0]


async def test_admins_do_not_read_the_responsibility_chain(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    admin = await account_factory(COUNTY, "admin")
    cadre = await make_cadre(db, COUNTY)
    assert_problem(await client.get(f"{CADRES}/{cadre.id}", headers=admin.headers), 403, "auth.forbidden")
    assert_problem(await client.get(CADRES, headers=admin.headers), 403)
    assert_problem(await client.get(UNITS, headers=admin.headers), 403)


@pytest.mark.parametrize(
    "roles", [["village_clerk"], ["township_reviewer"], ["inspector"], ["data_consumer"]]
)
async def test_only_county_officers_write_units_and_cadres(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any, roles: list[str]
) -> None:
    caller = await account_factory(COUNTY, *roles)
    unit = await make_unit(db, COUNTY)
    cadre = await make_cadre(db, COUNTY)
    for method, url, json in (
        ("POST", UNITS, {"region_code": COUNTY, "name": "县教育局", "kind": "department"}),
        ("PATCH", f"{UNITS}/{unit.id}", {"name": "县教育局"}),
        ("POST", CADRES, {"region_code": COUNTY, "name": "王芳", "rank": "general"}),
        ("PATCH", f"{CADRES}/{cadre.id}", {"name": "王芳"}),
    ):
        assert_problem(
            await client.request(method, url, headers=caller.headers, json=json), 403, "auth.forbidden"
        )


async def test_units_and_cadres_outside_the_scope_are_not_found(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    township = await account_factory(TOWNSHIP_A, "county_officer")
    unit_b = await make_unit(db, TOWNSHIP_B)
    cadre_b = await make_cadre(db, TOWNSHIP_B)
    own = await make_cadre(db, VILLAGE_A1)
    assert_problem(
        await client.get(f"{UNITS}/{unit_b.id}", headers=township.headers), 404, "work_unit.not_found"
    )
    assert_problem(
        await client.get(f"{CADRES}/{cadre_b.id}", headers=township.headers), 404, "cadre.not_found"
    )
    assert_problem(
        await client.post(
            CADRES,
            headers=township.headers,
            json={"region_code": OTHER_COUNTY, "name": "王芳", "rank": "general"},
        ),
        404,
    )
    # A unit the caller cannot see cannot be given to a cadre either.
    assert_problem(
        await client.patch(f"{CADRES}/{own.id}", headers=township.headers, json={"unit_id": str(unit_b.id)}),
        404,
        "work_unit.not_found",
    )
    listed = (await client.get(CADRES, headers=township.headers)).json()["items"]
    assert [item["id"] for item in listed] == [str(own.id)]


async def test_a_cadre_with_active_assignments_is_not_deactivated(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    cadre = await make_cadre(db, COUNTY)
    assignment = await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=cadre.id)
    problem = assert_problem(
        await client.patch(f"{CADRES}/{cadre.id}", headers=county.headers, json={"is_active": False}),
        422,
        "rule_violation.cadre_has_active_assignments",
    )
    assert problem["errors"][0]["loc"] == ["body", "is_active"]
    ended = await client.post(
        f"/api/v1/assignments/{assignment.id}/end", headers=county.headers, json={"reason": "退休"}
    )
    assert ended.status_code == 200, ended.text
    response = await client.patch(f"{CADRES}/{cadre.id}", headers=county.headers, json={"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    async with db.sessionmaker() as session:
        assert (await session.get(Cadre, cadre.id)).is_active is False  # type: ignore[union-attr]


async def test_lists_filter_and_page(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    county = await account_factory(COUNTY, "county_officer")
    enterprise = await make_unit(db, TOWNSHIP_A, kind="enterprise", enterprise_class=3, name="兴国苹果公司")
    await make_unit(db, TOWNSHIP_B)
    for n in range(5):
        await make_cadre(db, TOWNSHIP_A, rank="village" if n % 2 else "general", unit_id=enterprise.id)
    await make_cadre(db, TOWNSHIP_B, is_active=False)
    units = (await client.get(UNITS, headers=county.headers, params={"kind": "enterprise"})).json()["items"]
    assert [unit["name"] for unit in units] == ["兴国苹果公司"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "region": TOWNSHIP_A, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(CADRES, headers=county.headers, params=params)).json()
        seen += [item["id"] for item in body["items"]]
        assert all(item["unit_name"] == "兴国苹果公司" for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    villages = (await client.get(CADRES, headers=county.headers, params={"rank": "village"})).json()["items"]
    assert len(villages) == 2
    inactive = (await client.get(CADRES, headers=county.headers, params={"is_active": "false"})).json()[
        "items"
    ]
    assert [item["region_code"] for item in inactive] == [TOWNSHIP_B]
    assert_problem(await client.get(CADRES, headers=county.headers, params={"cursor": "nonsense"}), 422)
