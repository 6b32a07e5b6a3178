"""The chain of one household: who is responsible for it, at every level, masked by role."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import AuditEntry
from app.db.session import Database
from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_B1,
    assert_problem,
)
from tests.factories import make_household
from tests.responsibility.factories import make_assignment, make_cadre, make_unit


def _url(household_id: Any) -> str:
    return f"/api/v1/households/{household_id}/responsibility-chain"


@pytest.fixture
async def world(db: Database, tree: dict[str, str]) -> dict[str, Any]:
    """A household of 王家庄村 with its whole chain, and noise that must not show."""
    household = await make_household(db, VILLAGE_A1)
    neighbour = await make_household(db, VILLAGE_A1, head_name="李四")
    bureau = await make_unit(db, COUNTY, name="秦安县农业农村局", phone="0938-6511111")
    enterprise = await make_unit(db, COUNTY, name="秦安果业公司", kind="enterprise", enterprise_class=2)
    leader = await make_cadre(db, COUNTY, name="马县长", rank="county_leader", phone="13900000001")
    other_leader = await make_cadre(db, COUNTY, name="杨副县长", rank="county_leader", phone="13900000002")
    await make_cadre(db, OTHER_COUNTY, name="外县领导", rank="county_leader")
    secretary = await make_cadre(
        db, COUNTY, name="刘书记", rank="section", unit_id=bureau.id, phone="13900000003"
    )
    captain = await make_cadre(db, COUNTY, name="赵队长", rank="section", unit_id=bureau.id)
    member = await make_cadre(db, COUNTY, name="钱队员", rank="general")
    coverer = await make_cadre(db, TOWNSHIP_A, name="孙包村", rank="general")
    pair = await make_cadre(db, COUNTY, name="周帮扶", rank="general", unit_id=bureau.id, phone="13900000004")
    gone = await make_cadre(db, COUNTY, name="吴前任", rank="general")
    await make_assignment(db, "township_cover", TOWNSHIP_A, cadre_id=leader.id)
    await make_assignment(db, "township_cover", TOWNSHIP_B, cadre_id=other_leader.id)
    await make_assignment(db, "first_secretary", VILLAGE_A1, cadre_id=secretary.id)
    await make_assignment(db, "work_team", VILLAGE_A1, cadre_id=member.id)
    await make_assignment(db, "work_team", VILLAGE_A1, cadre_id=captain.id, is_team_leader=True)
    await make_assignment(db, "village_cover", VILLAGE_A1, cadre_id=coverer.id)
    await make_assignment(db, "village_cover", VILLAGE_B1, cadre_id=coverer.id)
    await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=pair.id, household_id=household.id)
    await make_assignment(db, "pairing", VILLAGE_A1, unit_id=enterprise.id, household_id=household.id)
    await make_assignment(
        db, "pairing", VILLAGE_A1, cadre_id=gone.id, household_id=household.id, ends_on=date(2021, 1, 1)
    )
    await make_assignment(db, "pairing", VILLAGE_A1, cadre_id=gone.id, household_id=neighbour.id)
    return {"household": household, "neighbour": neighbour}


async def test_the_chain_names_everyone_responsible(
    client: httpx.AsyncClient, world: dict[str, Any], account_factory: Any
) -> None:
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    response = await client.get(_url(world["household"].id), headers=clerk.headers)
    assert response.status_code == 200, response.text
    chain = response.json()
    assert chain["household"]["head_name"] == "王建国"
    assert (chain["village"]["name"], chain["township"]["name"], chain["county"]["name"]) == (
        "王家庄村",
        "兴国镇",
        "秦安县",
    )
    pairings = {(p["cadre"] or {}).get("name") or p["unit"]["name"] for p in chain["pairings"]}
    assert pairings == {"周帮扶", "秦安果业公司"}  # not the one who left, nor the neighbour's
    cadre_pairing = next(p for p in chain["pairings"] if p["cadre"])
    assert cadre_pairing["cadre_unit"]["name"] == "秦安县农业农村局"
    assert cadre_pairing["unit"] is None
    unit_pairing = next(p for p in chain["pairings"] if p["unit"])
    assert unit_pairing["unit"]["enterprise_class"] == 2
    assert chain["first_secretary"]["cadre"]["name"] == "刘书记"
    assert chain["first_secretary"]["cadre_unit"]["phone"] == "0938-6511111"  # an office number
    assert [(e["cadre"]["name"], e["is_team_leader"]) for e in chain["work_team"]] == [
        ("赵队长", True),
        ("钱队员", False),
    ]
    assert [e["cadre"]["name"] for e in chain["village_cover"]] == ["孙包村"]
    assert [e["cadre"]["name"] for e in chain["township_cover"]] == ["马县长"]
    assert {leader["name"] for leader in chain["county_leaders"]} == {"杨副县长", "马县长"}  # not 外县领导
    assert chain["has_responsible_person"] is True


@pytest.mark.parametrize(
    ("roles", "grant", "masked"),
    [
        (["village_clerk"], False, True),
        (["township_reviewer"], False, True),
        (["county_officer"], False, True),
        (["finance_officer"], False, True),
        (["data_consumer"], False, True),
        (["inspector"], False, False),
        (["village_clerk"], True, False),
    ],
)
async def test_phones_in_the_chain_are_masked_by_role(
    client: httpx.AsyncClient,
    db: Database,
    world: dict[str, Any],
    account_factory: Any,
    roles: list[str],
    grant: bool,
    masked: bool,
) -> None:
    caller = await account_factory(VILLAGE_A1, *roles, has_personal_data_grant=grant)
    response = await client.get(_url(world["household"].id), headers=caller.headers)
    assert response.status_code == 200, response.text
    chain = response.json()
    phones = [
        chain["first_secretary"]["cadre"]["phone"],
        *(leader["phone"] for leader in chain["county_leaders"]),
    ]
    if masked:
        assert "139****0003" in phones
        assert all("****" in phone for phone in phones)
    else:
        assert "13900000003" in phones
        assert not any("****" in phone for phone in phones)
    async with db.sessionmaker() as session:
        audited = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "read_personal_data"))
        ).all()
    if masked:
        assert audited == []
    else:
        # One row per cadre whose phone was shown.
        assert len(audited) == len({row.record_id for row in audited}) == 7
        assert {(row.record_type, tuple(row.fields)) for row in audited} == {("cadre", ("cadre.phone",))}
        assert {row.details["household_id"] for row in audited} == {str(world["household"].id)}


async def test_the_chain_of_a_household_out_of_scope_is_not_found(
    client: httpx.AsyncClient, db: Database, world: dict[str, Any], account_factory: Any
) -> None:
    other = await account_factory(VILLAGE_B1, "county_officer")
    assert_problem(
        await client.get(_url(world["household"].id), headers=other.headers), 404, "household.not_found"
    )
    admin = await account_factory(COUNTY, "admin")
    assert_problem(await client.get(_url(world["household"].id), headers=admin.headers), 403)


async def test_an_unpaired_household_has_no_responsible_person(
    client: httpx.AsyncClient, db: Database, tree: dict[str, str], account_factory: Any
) -> None:
    household = await make_household(db, VILLAGE_B1)
    enterprise = await make_unit(db, COUNTY, kind="enterprise", enterprise_class=4)
    await make_assignment(db, "pairing", VILLAGE_B1, unit_id=enterprise.id, household_id=household.id)
    county = await account_factory(COUNTY, "county_officer")
    chain = (await client.get(_url(household.id), headers=county.headers)).json()
    assert chain["has_responsible_person"] is False  # an enterprise is not a person
    assert chain["first_secretary"] is None
    assert chain["work_team"] == []
    assert chain["township_cover"] == []
    assert chain["county_leaders"] == []
