"""The household lifecycle over HTTP: identification, exit, return, removal, monitoring, risk clearing,
cancel and reject, as the roles at each level take them, with publicities, objections and history."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import HouseholdEvent, Indicator
from app.db.session import Database
from tests.conftest import COUNTY, OTHER_COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_B1, assert_problem
from tests.factories import add_income, make_household, verify_indicators
from tests.households.lifecycle_support import (
    START,
    Actors,
    Clock,
    action_of,
    available,
    history,
    household,
    object_to,
    reason_codes,
    resolve,
    step,
    take,
    url,
)
from tests.households.registry_helpers import application, apply

pytestmark = pytest.mark.usefixtures("time_machine")

DOCUMENT = "秦扶贫发〔2021〕12号"


async def _at_step(db: Database, step_name: str, procedure: str = "identification", **fields: object) -> str:
    """A household stored mid-procedure (without the publicity a publicity step would have)."""
    status = fields.pop("status", "applicant" if procedure == "identification" else "registered")
    created = await make_household(
        db,
        VILLAGE_A1,
        status=str(status),
        procedure=procedure,
        procedure_step=step_name,
        procedure_started_on=START,
        **fields,
    )
    return str(created.id)


async def _event_count(db: Database, household_id: str) -> int:
    async with db.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(HouseholdEvent)
            .where(HouseholdEvent.household_id == uuid.UUID(household_id))
        )
    return int(count or 0)


async def _apply(client: httpx.AsyncClient, actors: Actors) -> str:
    created = await apply(client, actors.village, application(VILLAGE_A1))
    assert (created["status"], created["procedure"], created["procedure_step"]) == (
        "applicant",
        "identification",
        "applied",
    )
    return str(created["id"])


async def _through_village_publicity(client: httpx.AsyncClient, actors: Actors, clock: Clock) -> str:
    """An application whose village publicity has just ended."""
    household_id = await _apply(client, actors)
    await step(client, actors.village, household_id, "village_review")
    await step(client, actors.village, household_id, "start_village_publicity")
    clock.travel(7)
    return household_id


# Identification ------------------------------------------------------------------------------------------


async def test_identification_runs_from_application_to_registration_with_every_step_recorded(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _apply(client, actors)
    reviewed = await step(client, actors.village, household_id, "village_review", comment="民主评议通过")
    assert reviewed["procedure_step"] == "village_reviewed"
    publicised = await step(client, actors.village, household_id, "start_village_publicity")
    assert publicised["procedure_step"] == "village_publicity"
    time_machine.travel(7)  # 7 days: 1 to 7 March; the township reviews on the 8th
    await step(client, actors.township, household_id, "township_review")
    await step(client, actors.township, household_id, "start_township_publicity")
    time_machine.travel(7)
    await step(client, actors.county, household_id, "county_approve")
    await step(client, actors.county, household_id, "announce", document_numbers=[DOCUMENT])
    registered = await step(client, actors.township, household_id, "register")

    assert registered["status"] == "registered"
    assert registered["registered_year"] == 2021
    assert (registered["procedure"], registered["procedure_step"], registered["procedure_started_on"]) == (
        None,
        None,
        None,
    )
    events = await history(client, actors.village, household_id)
    assert [(e["action"], e["from_step"], e["to_step"]) for e in events] == [
        ("apply", None, "applied"),
        ("village_review", "applied", "village_reviewed"),
        ("start_village_publicity", "village_reviewed", "village_publicity"),
        ("township_review", "village_publicity", "township_reviewed"),
        ("start_township_publicity", "township_reviewed", "township_publicity"),
        ("county_approve", "township_publicity", "county_approved"),
        ("announce", "county_approved", "announced"),
        ("register", "announced", None),
    ]
    assert events[-1]["from_status"] == "applicant"
    assert events[-1]["to_status"] == "registered"
    assert {e["procedure"] for e in events} == {"identification"}
    assert events[1]["comment"] == "民主评议通过"
    assert events[6]["document_numbers"] == [DOCUMENT]
    assert events[4]["publicity"]["level"] == "township"
    assert (events[4]["publicity"]["starts_on"], events[4]["publicity"]["ends_on"]) == (
        "2021-03-08",
        "2021-03-14",
    )


async def test_the_publicity_lasts_the_days_set_for_the_region(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    response = await client.put(
        f"/api/v1/regions/{TOWNSHIP_A}/settings/publicity_days",
        headers=actors.county.headers,
        json={"value": 3},
    )
    assert response.status_code == 200, response.text
    household_id = await _apply(client, actors)
    await step(client, actors.village, household_id, "village_review")
    await step(client, actors.village, household_id, "start_village_publicity")
    view = await available(client, actors.township, household_id)
    assert (view["publicity"]["starts_on"], view["publicity"]["ends_on"]) == ("2021-03-01", "2021-03-03")

    time_machine.set(date(2021, 3, 3))
    refused = await take(client, actors.township, household_id, "township_review")
    assert "2021-03-03" in assert_problem(refused, 409, "household.publicity_not_ended")["detail"]
    time_machine.set(date(2021, 3, 4))
    await step(client, actors.township, household_id, "township_review")


async def test_approval_before_the_publicity_ends_is_refused_and_allowed_the_day_after(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _apply(client, actors)
    await step(client, actors.village, household_id, "village_review")
    await step(client, actors.village, household_id, "start_village_publicity")
    time_machine.travel(6)  # 7 March: the last day of the publicity
    before = await household(client, actors.village, household_id)

    refused = await take(client, actors.township, household_id, "township_review")

    problem = assert_problem(refused, 409, "household.publicity_not_ended")
    assert "2021-03-07" in problem["detail"]
    assert await household(client, actors.village, household_id) == before
    time_machine.travel(1)
    reviewed = await step(client, actors.township, household_id, "township_review")
    assert reviewed["procedure_step"] == "township_reviewed"


async def test_township_publicity_must_end_before_the_county_approves(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _through_village_publicity(client, actors, time_machine)
    await step(client, actors.township, household_id, "township_review")
    await step(client, actors.township, household_id, "start_township_publicity")
    time_machine.travel(6)
    assert_problem(
        await take(client, actors.county, household_id, "county_approve"),
        409,
        "household.publicity_not_ended",
    )
    time_machine.travel(1)
    await step(client, actors.county, household_id, "county_approve")


async def test_an_open_objection_blocks_approval_until_it_is_resolved(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _apply(client, actors)
    await step(client, actors.village, household_id, "village_review")
    await step(client, actors.village, household_id, "start_village_publicity")
    time_machine.travel(2)
    objection = await object_to(client, actors.village, household_id, START + timedelta(days=2))
    assert objection["status"] == "open"
    time_machine.travel(5)
    before = await household(client, actors.village, household_id)

    refused = await take(client, actors.township, household_id, "township_review")

    problem = assert_problem(refused, 409, "household.objection_open")
    assert objection["id"] in problem["detail"]
    assert await household(client, actors.village, household_id) == before
    assert_problem(await resolve(client, actors.village, household_id, objection["id"]), 403)
    resolved = await resolve(client, actors.township, household_id, objection["id"])
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert_problem(
        await resolve(client, actors.county, household_id, objection["id"]), 409, "objection.already_resolved"
    )
    await step(client, actors.township, household_id, "township_review")


async def test_a_publicity_step_without_a_recorded_publicity_is_not_approved(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "village_publicity")  # e.g. imported mid-procedure
    response = await take(client, actors.township, household_id, "township_review")
    assert_problem(response, 409, "household.publicity_missing")
    rejected = await step(client, actors.township, household_id, "reject", comment="公示材料缺失, 重新申请")
    assert rejected["status"] == "rejected"


async def test_objections_are_dated_within_the_publicity_and_not_in_the_future(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _apply(client, actors)
    no_publicity = await client.post(
        url(household_id, "/objections"),
        headers=actors.village.headers,
        json={"raised_on": START.isoformat(), "content": "不符合条件"},
    )
    assert_problem(no_publicity, 409, "household.no_publicity")
    await step(client, actors.village, household_id, "village_review")
    await step(client, actors.village, household_id, "start_village_publicity")
    for day in (START - timedelta(days=1), START + timedelta(days=1)):
        response = await client.post(
            url(household_id, "/objections"),
            headers=actors.village.headers,
            json={"raised_on": day.isoformat(), "content": "不符合条件"},
        )
        assert_problem(response, 422, "objection.raised_on")


async def test_county_officer_cannot_take_the_township_review(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _through_village_publicity(client, actors, time_machine)
    problem = assert_problem(
        await take(client, actors.county, household_id, "township_review"),
        403,
        "household.transition.not_allowed_here",
    )
    assert "township_reviewer at township level" in problem["detail"]


async def test_village_clerk_cannot_approve_or_review(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    approving = await _at_step(db, "township_publicity")
    reviewing = await _through_village_publicity(client, actors, time_machine)
    for household_id, action in ((approving, "county_approve"), (reviewing, "township_review")):
        response = await take(client, actors.village, household_id, action)
        assert_problem(response, 403, "household.transition.not_allowed_here")


async def test_village_steps_are_taken_by_village_and_township_accounts_not_county(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    by_village, by_township = await _at_step(db, "applied"), await _at_step(db, "applied")
    await step(client, actors.village, by_village, "village_review")
    await step(client, actors.township_clerk, by_township, "village_review")
    await step(client, actors.township, by_township, "start_village_publicity")  # reviewer implies clerk
    county_try = await _at_step(db, "applied")
    assert_problem(
        await take(client, actors.county, county_try, "village_review"),
        403,
        "household.transition.not_allowed_here",
    )


async def test_a_township_clerk_cannot_take_the_township_review(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _through_village_publicity(client, actors, time_machine)
    response = await take(client, actors.township_clerk, household_id, "township_review")
    assert_problem(response, 403, "household.transition.not_allowed_here")


async def test_roles_without_write_permission_are_forbidden(
    client: httpx.AsyncClient, actors: Actors, account_factory, db: Database
) -> None:
    household_id = await _at_step(db, "applied")
    for role, region in (("inspector", COUNTY), ("finance_officer", TOWNSHIP_A), ("data_consumer", COUNTY)):
        account = await account_factory(region, role)
        assert_problem(await take(client, account, household_id, "village_review"), 403)


async def test_households_out_of_scope_are_not_found(
    client: httpx.AsyncClient, actors: Actors, account_factory, time_machine: Clock
) -> None:
    household_id = await _through_village_publicity(client, actors, time_machine)
    other_village = await account_factory(VILLAGE_B1, "village_clerk")
    other_county = await account_factory(OTHER_COUNTY, "county_officer")
    for account in (other_village, other_county):
        assert_problem(
            await take(client, account, household_id, "township_review"), 404, "household.not_found"
        )
        for tail in ("/transitions", "/history"):
            assert_problem(await client.get(url(household_id, tail), headers=account.headers), 404)
        response = await client.post(
            url(household_id, "/objections"),
            headers=account.headers,
            json={"raised_on": START.isoformat(), "content": "x"},
        )
        assert_problem(response, 404)


async def test_a_step_that_does_not_apply_to_the_current_step_is_a_conflict(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "applied")
    response = await take(client, actors.county, household_id, "county_approve")
    problem = assert_problem(response, 409, "household.transition.wrong_step")
    assert "applied" in problem["detail"]
    registered = str((await make_household(db, VILLAGE_A1)).id)
    assert_problem(
        await take(client, actors.village, registered, "verify_exit"), 409, "household.transition.wrong_step"
    )
    exiting = await _at_step(db, "exit_proposed", "exit")
    assert_problem(
        await take(client, actors.village, exiting, "propose_removal", comment="错评"),
        409,
        "household.procedure_under_way",
    )


async def test_an_unknown_action_or_an_unexpected_field_is_invalid(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "applied")
    assert_problem(await take(client, actors.village, household_id, "approve_everything"), 422, "validation")
    assert_problem(
        await take(client, actors.village, household_id, "village_review", include=True),
        422,
        "household.transition.invalid",
    )
    assert_problem(
        await take(client, actors.village, household_id, "village_review", secret="x"), 422, "validation"
    )


async def test_announcement_needs_a_document_number(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "county_approved")
    response = await take(client, actors.county, household_id, "announce")
    assert_problem(response, 422, "household.document_number_required")
    announced = await step(client, actors.county, household_id, "announce", document_numbers=[DOCUMENT])
    assert announced["procedure_step"] == "announced"


async def test_township_rejects_an_application_at_its_review_with_a_reason(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _through_village_publicity(client, actors, time_machine)
    await step(client, actors.township, household_id, "township_review")
    assert_problem(
        await take(client, actors.township, household_id, "reject"), 422, "household.comment_required"
    )
    assert_problem(
        await take(client, actors.county, household_id, "reject", comment="收入超标"),
        403,
        "household.transition.not_allowed_here",
    )
    rejected = await step(client, actors.township, household_id, "reject", comment="家庭收入超过标准")
    assert rejected["status"] == "rejected"
    assert rejected["procedure"] is None
    last = (await history(client, actors.village, household_id))[-1]
    assert (last["action"], last["to_status"], last["comment"]) == ("reject", "rejected", "家庭收入超过标准")


async def test_county_rejects_at_its_approval_and_the_township_no_longer_can(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "county_approved")
    assert_problem(
        await take(client, actors.township, household_id, "reject", comment="x"),
        403,
        "household.transition.not_allowed_here",
    )
    rejected = await step(client, actors.county, household_id, "reject", comment="县级审定未通过")
    assert rejected["status"] == "rejected"
    fresh = await _at_step(db, "applied")
    assert_problem(
        await take(client, actors.township, fresh, "reject", comment="x"),
        409,
        "household.transition.wrong_step",
    )


async def test_a_refused_step_changes_nothing(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    household_id = await _apply(client, actors)
    await step(client, actors.village, household_id, "village_review")
    await step(client, actors.village, household_id, "start_village_publicity")
    before, events = (
        await household(client, actors.village, household_id),
        await _event_count(db, household_id),
    )
    for account, action in ((actors.township, "township_review"), (actors.village, "register")):
        response = await take(client, account, household_id, action)
        assert response.status_code in (403, 409), response.text
    assert await household(client, actors.village, household_id) == before
    assert await _event_count(db, household_id) == events


async def test_a_transition_answers_with_the_new_etag_and_honours_if_match(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "applied")
    stale = await client.post(
        url(household_id, "/transitions"),
        headers={**actors.village.headers, "If-Match": f'"{household_id}.99"'},
        json={"action": "village_review"},
    )
    assert_problem(stale, 412, "household.version_mismatch")
    response = await client.post(
        url(household_id, "/transitions"),
        headers={**actors.village.headers, "If-Match": f'"{household_id}.1"'},
        json={"action": "village_review"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{household_id}.2"'


async def test_two_concurrent_steps_on_one_household_exactly_one_succeeds(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "applied")
    responses = await asyncio.gather(
        take(client, actors.village, household_id, "village_review"),
        take(client, actors.township_clerk, household_id, "village_review"),
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert await _event_count(db, household_id) == 1
    assert (await household(client, actors.village, household_id))["version"] == 2


async def test_concurrent_different_steps_are_serialised(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _at_step(db, "township_reviewed")
    responses = await asyncio.gather(
        take(client, actors.township, household_id, "start_township_publicity"),
        take(client, actors.township, household_id, "reject", comment="收入超标"),
    )
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200, [r.text for r in responses]
    assert codes[1] in (403, 409), [r.text for r in responses]
    # Whichever came second saw the first one's result: either a wrong step, or a reject of a publicised one.
    final = await household(client, actors.village, household_id)
    assert await _event_count(db, household_id) == codes.count(200)
    assert final["procedure_step"] in ("township_publicity", None)


# Exit ---------------------------------------------------------------------------------------------------


async def _exit_ready(db: Database, *, per_capita: str = "5200", year: int = 2020) -> str:
    created = await make_household(db, VILLAGE_A1)
    await add_income(db, created, year, per_capita)
    await verify_indicators(db, created)
    return str(created.id)


async def test_exit_is_refused_naming_each_failing_condition(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    created = await make_household(db, VILLAGE_A1)
    await add_income(db, created, 2020, "3900")
    await verify_indicators(db, created, failing=("housing",))
    household_id = str(created.id)
    async with db.sessionmaker() as session, session.begin():
        water = await session.get(Indicator, (created.id, "water"))
        assert water is not None
        await session.delete(water)
    before = await household(client, actors.village, household_id)

    response = await take(client, actors.village, household_id, "propose_exit")

    problem = assert_problem(response, 422, "household.exit.conditions_unmet")
    assert sorted(error["code"] for error in problem["errors"]) == [
        "housing_not_met",
        "income_below_line",
        "water_unverified",
    ]
    assert "4000" in problem["detail"]
    assert await household(client, actors.village, household_id) == before


async def test_exit_without_income_or_poverty_line_for_the_year_is_refused(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _exit_ready(db)
    missing_income = await take(client, actors.village, household_id, "propose_exit", year=2019)
    assert [e["code"] for e in assert_problem(missing_income, 422)["errors"]] == ["income_missing"]
    missing_line = await take(client, actors.village, household_id, "propose_exit", year=2012)
    codes = [
        e["code"] for e in assert_problem(missing_line, 422, "household.exit.conditions_unmet")["errors"]
    ]
    assert codes == ["poverty_line_missing", "income_missing"]


async def test_exit_runs_to_the_announcement_and_marks_the_household_exited(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    household_id = await _exit_ready(db, year=2019, per_capita="3800")  # 2019 line: 3747
    proposed = await step(client, actors.village, household_id, "propose_exit", year=2019)
    assert (proposed["procedure"], proposed["procedure_step"]) == ("exit", "exit_proposed")
    await step(client, actors.village, household_id, "verify_exit")
    await step(client, actors.village, household_id, "record_consent")
    await step(client, actors.village, household_id, "start_village_publicity")
    time_machine.travel(6)
    assert_problem(
        await take(client, actors.township, household_id, "start_township_publicity"),
        409,
        "household.publicity_not_ended",
    )
    time_machine.travel(1)
    await step(client, actors.township, household_id, "start_township_publicity")
    time_machine.travel(7)
    assert_problem(
        await take(client, actors.county, household_id, "announce_exit"),
        422,
        "household.document_number_required",
    )
    exited = await step(client, actors.county, household_id, "announce_exit", document_numbers=[DOCUMENT])

    assert exited["status"] == "exited"
    assert exited["exited_year"] == 2019
    assert exited["procedure"] is None
    events = await history(client, actors.county, household_id)
    assert [e["action"] for e in events] == [
        "propose_exit",
        "verify_exit",
        "record_consent",
        "start_village_publicity",
        "start_township_publicity",
        "announce_exit",
    ]
    assert events[0]["details"]["year"] == 2019
    assert events[-1]["details"]["year"] == 2019
    assert (events[-1]["from_status"], events[-1]["to_status"]) == ("registered", "exited")


async def test_exit_conditions_are_checked_again_at_the_announcement(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    household_id = await _exit_ready(db)
    await step(client, actors.village, household_id, "propose_exit")
    for action in ("verify_exit", "record_consent", "start_village_publicity"):
        await step(client, actors.village, household_id, action)
    time_machine.travel(7)
    await step(client, actors.township, household_id, "start_township_publicity")
    time_machine.travel(7)
    response = await client.put(
        url(household_id, "/indicators/medical"),
        headers=actors.village.headers,
        json={"holds": False, "verified_on": time_machine.day.isoformat()},
    )
    assert response.status_code == 200, response.text

    refused = await take(client, actors.county, household_id, "announce_exit", document_numbers=[DOCUMENT])

    errors = assert_problem(refused, 422, "household.exit.conditions_unmet")["errors"]
    assert [(e["code"], e["loc"]) for e in errors] == [
        ("medical_not_met", ["household", "indicators", "medical"])
    ]


async def test_an_objection_in_the_exit_publicity_blocks_the_township_publicity(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    household_id = await _exit_ready(db)
    await step(client, actors.village, household_id, "propose_exit")
    for action in ("verify_exit", "record_consent", "start_village_publicity"):
        await step(client, actors.village, household_id, action)
    objection = await object_to(client, actors.township_clerk, household_id, START)
    time_machine.travel(7)
    assert_problem(
        await take(client, actors.township, household_id, "start_township_publicity"),
        409,
        "household.objection_open",
    )
    assert (await resolve(client, actors.county, household_id, objection["id"])).status_code == 200
    await step(client, actors.township, household_id, "start_township_publicity")


# Return, removal -------------------------------------------------------------------------------------------


async def test_an_exited_household_returns_to_poverty_with_the_reason(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    created = await make_household(
        db, VILLAGE_A1, status="exited", exited_year=2019, other_causes=["disaster"]
    )
    household_id = str(created.id)
    assert_problem(
        await take(client, actors.village, household_id, "propose_return"), 422, "household.comment_required"
    )
    proposed = await step(
        client,
        actors.village,
        household_id,
        "propose_return",
        comment="2021年洪灾, 房屋受损",
        primary_cause="disaster",
    )
    assert proposed["primary_cause"] == "illness"  # changes on approval
    await step(client, actors.village, household_id, "start_village_publicity")
    time_machine.travel(7)
    await step(client, actors.township, household_id, "township_review")
    assert_problem(
        await take(client, actors.county, household_id, "county_approve_return"),
        422,
        "household.document_number_required",
    )
    returned = await step(
        client, actors.county, household_id, "county_approve_return", document_numbers=[DOCUMENT]
    )

    assert returned["status"] == "registered"
    assert returned["has_returned_to_poverty"] is True
    assert returned["exited_year"] == 2019
    assert (returned["primary_cause"], returned["other_causes"]) == ("disaster", [])
    events = await history(client, actors.village, household_id)
    assert events[0]["comment"] == "2021年洪灾, 房屋受损"
    assert events[-1]["details"]["primary_cause"] == {"from": "illness", "to": "disaster"}


async def test_a_wrongly_included_household_is_removed_but_kept(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = str((await make_household(db, VILLAGE_A1)).id)
    assert_problem(
        await take(client, actors.village, household_id, "propose_removal"), 422, "household.comment_required"
    )
    await step(
        client, actors.township_clerk, household_id, "propose_removal", comment="家有财政供养人员, 错评"
    )
    await step(client, actors.township, household_id, "township_review")
    assert_problem(
        await take(client, actors.county, household_id, "county_approve_removal"),
        422,
        "household.document_number_required",
    )
    removed = await step(
        client, actors.county, household_id, "county_approve_removal", document_numbers=[DOCUMENT]
    )

    assert removed["status"] == "removed"
    listed = await client.get(
        "/api/v1/households", params={"status": "removed"}, headers=actors.county.headers
    )
    assert [item["id"] for item in listed.json()["items"]] == [household_id]
    view = await available(client, actors.village, household_id)
    assert view["actions"] == []


# Monitoring, risk clearing -------------------------------------------------------------------------------


async def _monitoring_to_township_check(
    client: httpx.AsyncClient, actors: Actors, household_id: str, clock: Clock
) -> None:
    await step(client, actors.village, household_id, "record_visit_consent")
    publicised = await step(client, actors.village, household_id, "start_village_publicity")
    assert publicised["procedure_step"] == "village_publicity"
    view = await available(client, actors.township, household_id)
    assert view["publicity"]["ends_on"] == (clock.day + timedelta(days=4)).isoformat()  # 5 days
    clock.travel(4)
    assert_problem(
        await take(client, actors.township, household_id, "township_check"),
        409,
        "household.publicity_not_ended",
    )
    clock.travel(1)
    await step(client, actors.township, household_id, "township_check")


async def test_monitoring_takes_a_household_in_after_a_five_day_publicity(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    household_id = str((await make_household(db, VILLAGE_A1)).id)
    lead = await step(
        client,
        actors.county,
        household_id,
        "report_lead",
        monitoring_kind="sudden_hardship",
        lead_source="department",
    )
    assert (lead["procedure"], lead["procedure_step"], lead["procedure_started_on"]) == (
        "monitoring",
        "lead_reported",
        "2021-03-01",
    )
    assert lead["monitoring_kind"] is None
    await _monitoring_to_township_check(client, actors, household_id, time_machine)
    view = await available(client, actors.county, household_id)
    assert view["decision_deadline"] == "2021-03-16"
    assert action_of(view, "county_decide")["requires"] == ["include"]
    assert_problem(
        await take(client, actors.county, household_id, "county_decide"), 422, "household.transition.invalid"
    )

    decided = await step(client, actors.county, household_id, "county_decide", include=True)

    assert (decided["monitoring_kind"], decided["monitoring_since"]) == ("sudden_hardship", "2021-03-06")
    assert decided["procedure"] is None
    last = (await history(client, actors.county, household_id))[-1]
    assert last["details"]["overdue"] is False
    assert last["details"]["deadline"] == "2021-03-16"
    first = (await history(client, actors.county, household_id))[0]
    assert (first["details"]["monitoring_kind"], first["details"]["lead_source"]) == (
        "sudden_hardship",
        "department",
    )


async def test_a_late_monitoring_decision_is_recorded_as_overdue(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    household_id = str((await make_household(db, VILLAGE_A1, status="exited", exited_year=2019)).id)
    await step(
        client,
        actors.village,
        household_id,
        "report_lead",
        monitoring_kind="unstable_exited",
        lead_source="self",
    )
    await _monitoring_to_township_check(client, actors, household_id, time_machine)
    time_machine.set(START + timedelta(days=16))

    decided = await step(client, actors.county, household_id, "county_decide", include=True)

    assert decided["monitoring_kind"] == "unstable_exited"
    last = (await history(client, actors.county, household_id))[-1]
    assert last["details"]["overdue"] is True


async def test_the_county_may_decide_not_to_monitor(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    household_id = str((await make_household(db, VILLAGE_A1)).id)
    await step(
        client, actors.township, household_id, "report_lead", monitoring_kind="edge", lead_source="cadre"
    )
    await _monitoring_to_township_check(client, actors, household_id, time_machine)
    decided = await step(client, actors.county, household_id, "county_decide", include=False)
    assert (decided["monitoring_kind"], decided["procedure"]) == (None, None)


async def test_monitoring_leads_are_checked(client: httpx.AsyncClient, actors: Actors, db: Database) -> None:
    household_id = str((await make_household(db, VILLAGE_A1)).id)
    unstable = await take(
        client,
        actors.village,
        household_id,
        "report_lead",
        monitoring_kind="unstable_exited",
        lead_source="self",
    )
    assert_problem(unstable, 422, "household.monitoring_kind_not_applicable")
    unknown = await take(
        client, actors.village, household_id, "report_lead", monitoring_kind="rich", lead_source="self"
    )
    assert_problem(unknown, 422, "household.transition.invalid")
    assert_problem(
        await take(client, actors.village, household_id, "report_lead", monitoring_kind="edge"),
        422,
        "household.transition.invalid",
    )
    monitored = str((await make_household(db, VILLAGE_A1, monitoring_kind="edge")).id)
    already = await take(
        client, actors.village, monitored, "report_lead", monitoring_kind="edge", lead_source="self"
    )
    assert_problem(already, 409, "household.transition.wrong_status")
    removed = str((await make_household(db, VILLAGE_A1, status="removed")).id)
    gone = await take(
        client, actors.village, removed, "report_lead", monitoring_kind="edge", lead_source="self"
    )
    assert_problem(gone, 409, "household.transition.wrong_status")


async def test_risk_clearing_is_refused_until_income_and_indicators_hold(
    client: httpx.AsyncClient, actors: Actors, db: Database, time_machine: Clock
) -> None:
    created = await make_household(db, VILLAGE_A1, monitoring_kind="edge", monitoring_since=date(2020, 6, 1))
    household_id = str(created.id)
    await verify_indicators(db, created, failing=("education",))
    refused = await take(client, actors.village, household_id, "propose_risk_clearing")
    codes = [
        e["code"] for e in assert_problem(refused, 422, "household.risk_clearing.conditions_unmet")["errors"]
    ]
    assert codes == ["income_missing", "education_not_met"]
    assert_problem(
        await take(
            client, actors.village, str((await make_household(db, VILLAGE_A1)).id), "propose_risk_clearing"
        ),
        409,
        "household.transition.wrong_status",
    )
    await add_income(db, created, 2020, "6000")
    response = await client.put(
        url(household_id, "/indicators/education"),
        headers=actors.village.headers,
        json={"holds": True, "verified_on": "2021-02-20"},
    )
    assert response.status_code == 200, response.text

    await step(client, actors.village, household_id, "propose_risk_clearing")
    publicised = await step(client, actors.village, household_id, "start_village_publicity")
    assert publicised["procedure_step"] == "village_publicity"
    time_machine.travel(5)
    await step(client, actors.township, household_id, "township_check")
    cleared = await step(client, actors.county, household_id, "county_decide", include=True)

    assert (cleared["monitoring_kind"], cleared["monitoring_since"], cleared["procedure"]) == (
        None,
        None,
        None,
    )
    last = (await history(client, actors.village, household_id))[-1]
    assert last["details"]["cleared_monitoring_kind"] == "edge"
    assert last["details"]["monitoring_since"] == "2020-06-01"
    assert last["procedure"] == "risk_clearing"


# Cancel --------------------------------------------------------------------------------------------------


async def test_a_procedure_under_way_is_cancelled_by_the_township_with_a_reason(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    household_id = await _exit_ready(db)
    await step(client, actors.village, household_id, "propose_exit")
    assert_problem(
        await take(client, actors.village, household_id, "cancel", comment="x"),
        403,
        "household.transition.not_allowed_here",
    )
    assert_problem(
        await take(client, actors.township, household_id, "cancel"), 422, "household.comment_required"
    )
    cancelled = await step(client, actors.township, household_id, "cancel", comment="农户不认可退出")

    assert (cancelled["status"], cancelled["procedure"], cancelled["procedure_step"]) == (
        "registered",
        None,
        None,
    )
    last = (await history(client, actors.village, household_id))[-1]
    assert (last["action"], last["procedure"], last["from_step"], last["comment"]) == (
        "cancel",
        "exit",
        "exit_proposed",
        "农户不认可退出",
    )
    await step(client, actors.village, household_id, "propose_exit")  # may start again


async def test_an_application_is_not_cancelled_but_rejected(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    for step_name in ("applied", "township_reviewed"):
        household_id = await _at_step(db, step_name)
        response = await take(client, actors.county, household_id, "cancel", comment="撤回")
        assert_problem(response, 409, "household.transition.wrong_step")


# History and the available steps --------------------------------------------------------------------------


async def test_history_shows_who_when_why_documents_publicity_and_objections(
    client: httpx.AsyncClient, actors: Actors, time_machine: Clock
) -> None:
    household_id = await _apply(client, actors)
    await step(client, actors.village, household_id, "village_review", comment="评议通过")
    await step(client, actors.village, household_id, "start_village_publicity")
    time_machine.travel(1)
    objection = await object_to(client, actors.village, household_id, START + timedelta(days=1), "有小汽车")
    time_machine.travel(6)
    await resolve(client, actors.township, household_id, objection["id"])
    await step(client, actors.township, household_id, "township_review", comment="核实无误")

    events = await history(client, actors.township, household_id)

    review = events[1]
    assert review["actor_name"] == actors.village.user.username
    assert review["actor_roles"] == ["village_clerk"]
    assert (review["from_status"], review["to_status"], review["comment"]) == (
        "applicant",
        "applicant",
        "评议通过",
    )
    assert review["at"].startswith("2021-03-01")
    publicity = events[2]["publicity"]
    assert (publicity["level"], publicity["starts_on"], publicity["ends_on"]) == (
        "village",
        "2021-03-01",
        "2021-03-07",
    )
    assert [(o["content"], o["status"], o["raised_on"]) for o in publicity["objections"]] == [
        ("有小汽车", "resolved", "2021-03-02")
    ]
    assert publicity["objections"][0]["resolution"] == "经核实, 异议不成立"
    assert events[3]["actor_name"] == actors.township.user.username
    assert events[3]["at"].startswith("2021-03-08")
    assert events[3]["publicity"] is None


async def test_available_steps_depend_on_the_callers_role_and_level(
    client: httpx.AsyncClient, actors: Actors, account_factory, time_machine: Clock
) -> None:
    household_id = await _apply(client, actors)
    await step(client, actors.village, household_id, "village_review")
    await step(client, actors.village, household_id, "start_village_publicity")

    during = action_of(await available(client, actors.township, household_id), "township_review")
    assert (during["allowed"], reason_codes(during)) == (False, ["household.publicity_not_ended"])
    assert "2021-03-07" in during["reasons"][0]["detail"]
    time_machine.travel(7)
    township = await available(client, actors.township, household_id)
    assert [(a["action"], a["allowed"]) for a in township["actions"]] == [
        ("township_review", True),
        ("reject", True),
    ]
    village = await available(client, actors.village, household_id)
    assert [(a["action"], a["allowed"]) for a in village["actions"]] == [
        ("township_review", False),
        ("reject", False),
    ]
    assert reason_codes(action_of(village, "township_review")) == ["household.transition.not_allowed_here"]
    assert action_of(village, "township_review")["taken_by"] == "township_reviewer at township level"
    county = await available(client, actors.county, household_id)
    assert not any(a["allowed"] for a in county["actions"])
    inspector = await account_factory(COUNTY, "inspector")
    assert not any(a["allowed"] for a in (await available(client, inspector, household_id))["actions"])
    await object_to(client, actors.village, household_id, START)
    blocked = action_of(await available(client, actors.township, household_id), "township_review")
    assert reason_codes(blocked) == ["household.objection_open"]
    assert action_of(await available(client, actors.township, household_id), "reject")["allowed"] is True


async def test_available_steps_of_a_registered_household_say_why_it_cannot_exit(
    client: httpx.AsyncClient, actors: Actors, db: Database
) -> None:
    created = await make_household(db, VILLAGE_A1)
    await add_income(db, created, 2020, "3000")
    view = await available(client, actors.village, str(created.id))

    assert [a["action"] for a in view["actions"]] == ["propose_exit", "propose_removal", "report_lead"]
    exit_ = action_of(view, "propose_exit")
    assert exit_["allowed"] is False
    assert reason_codes(exit_) == ["household.exit.conditions_unmet"]
    assert "4000" in exit_["reasons"][0]["detail"]
    assert action_of(view, "propose_removal")["requires"] == ["comment"]
    assert action_of(view, "report_lead")["allowed"] is True
    county = await available(client, actors.county, str(created.id))
    assert reason_codes(action_of(county, "propose_exit"))[0] == "household.transition.not_allowed_here"
    assert action_of(county, "report_lead")["allowed"] is True
