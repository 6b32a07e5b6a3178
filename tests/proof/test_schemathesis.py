"""Schemathesis against the app's own OpenAPI description, served live by `fupin serve --demo`, signed in as
each demo user: every operation the description lists (so a new endpoint is covered without touching this
file), positive and negative data, all of schemathesis' default checks, plus one of ours: no unmasked ID
number (GB 11643, checksum and birth date valid) in any response to a caller without the personal-data
permission.

Bounded and reproducible: a few derandomized examples per operation and user (no shrinking; a failure
prints the curl command that reproduces it). Reads are also aimed at real demo records (ids taken from the
lists), so the masking check sees real households, members, cadres and books, not only 404s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure

from app.domain.demo import DEMO_USERS
from app.domain.households.idnumbers import check_character
from app.domain.principal import Permission, permissions_of
from tests.proof.support import DemoServer, run_demo_server

EXAMPLES = 2  # per operation and user, over positive, negative and real-record reads
DEMO_VILLAGE = "620522100201"  # the demo `village` user's village: in scope of every county-side user
_GRANTED = {
    user.username
    for user in DEMO_USERS
    if Permission.PERSONAL_DATA_READ
    in permissions_of(user.roles, has_personal_data_grant=user.has_personal_data_grant)
}
# Expected statuses beyond schemathesis' defaults for schema-valid data, each documented in README.md: a
# body can satisfy the schema and still break a business rule (422 `rule_violation.*`, `measure.*`, ...),
# edits need `If-Match` (428) and fail on a stale one (412), and money-moving posts need an
# `Idempotency-Key` header (400 `idempotency.key_required`).
POSITIVE_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "422", "428", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}}}
)


class UnmaskedIdNumber(Failure):
    def __init__(self, *, operation: str, found: str) -> None:
        self.operation = operation
        self.title = "Unmasked ID number"
        self.message = f"a caller without the personal-data permission received an ID number ({found[:6]}…)"
        self.code = "unmasked_id_number"
        self.case_id = None
        self.severity = None

    @property
    def _unique_key(self) -> str:
        return self.code


_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{16}[0-9Xx])(?![0-9A-Za-z])")
_BIRTH = re.compile(r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")


# The example printed in GB 11643 itself, which the import template shows as its example row: nobody's data.
STANDARD_EXAMPLE = "11010519491231002X"


def unmasked_id_numbers(text: str) -> list[str]:
    """Every valid-looking ID number in the text: 18 characters, a birth date, the right check character."""
    return [
        found
        for found in _CANDIDATE.findall(text)
        if _BIRTH.fullmatch(found[6:14])
        and check_character(found[:17]) == found[17].upper()
        and found.upper() != STANDARD_EXAMPLE
    ]


def no_unmasked_id_numbers_without_grant(
    ungranted_tokens: set[str],
) -> Any:
    def no_unmasked_id_numbers(ctx: Any, response: Any, case: Any) -> bool | None:
        token = response.request.headers.get("Authorization", "")
        if token not in ungranted_tokens:
            return None
        found = unmasked_id_numbers(response.content.decode("utf-8", "replace"))
        if found:
            raise UnmaskedIdNumber(operation=case.operation.label, found=found[0])
        return None

    return no_unmasked_id_numbers


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from run_demo_server(tmp_path_factory.mktemp("proof-api"), "proof_api")


# Path parameters aimed at real demo records for reads: the list each is taken from.
_ID_SOURCES = {
    "household_id": f"/api/v1/households?region={DEMO_VILLAGE}&limit=3",
    "cadre_id": f"/api/v1/cadres?region={DEMO_VILLAGE[:9]}000&limit=3",
    "unit_id": "/api/v1/work-units?limit=3",
    "assignment_id": f"/api/v1/assignments?region={DEMO_VILLAGE}&limit=3",
    "project_id": "/api/v1/projects?limit=3",
    "account_id": f"/api/v1/fund-accounts?region={DEMO_VILLAGE}&limit=3",
    "transfer_id": f"/api/v1/fund-transfers?region={DEMO_VILLAGE}&limit=3",
    "user_id": "/api/v1/users?limit=3",
    "publication_id": "/api/v1/fund-notices/publications?limit=3",
}


def _known_ids(server: DemoServer) -> dict[str, list[str]]:
    headers = server.headers["admin"]
    known: dict[str, list[str]] = {"code": [DEMO_VILLAGE, DEMO_VILLAGE[:9] + "000", "620522000000"]}
    for name, url in _ID_SOURCES.items():
        response = httpx.get(server.base + url, headers=headers, timeout=30)
        if response.status_code == 200:
            known[name] = [str(item["id"]) for item in response.json()["items"]]
    for household in known.get("household_id", []):
        base = f"{server.base}/api/v1/households/{household}"
        members = httpx.get(f"{base}/members", headers=headers, timeout=30)
        plans = httpx.get(f"{base}/plans", headers=headers, timeout=30)
        if members.status_code == 200:
            known.setdefault("member_id", []).extend(str(m["id"]) for m in _items(members.json()))
        if plans.status_code == 200:
            known.setdefault("plan_id", []).extend(str(p["id"]) for p in _items(plans.json()))
    for plan in known.get("plan_id", [])[:3]:
        measures = httpx.get(f"{server.base}/api/v1/plans/{plan}/measures", headers=headers, timeout=30)
        if measures.status_code == 200:
            known.setdefault("measure_id", []).extend(str(m["id"]) for m in _items(measures.json()))
    return {name: values for name, values in known.items() if values}


def _items(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) else body)


def _strategies(operation: Any, known: dict[str, list[str]]) -> Any:
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    names = [p.name for p in operation.iter_parameters() if p.location == "path"]
    if operation.method.upper() == "GET" and names and all(name in known for name in names):
        strategies.append(
            st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names}).flatmap(
                lambda fixed: operation.as_strategy(
                    generation_mode=GenerationMode.POSITIVE, path_parameters=fixed
                )
            )
        )
    return st.one_of(strategies)


@pytest.mark.parametrize("username", [user.username for user in DEMO_USERS])
def test_schemathesis_as_each_demo_user(demo_server: DemoServer, username: str) -> None:
    schema = schemathesis.openapi.from_url(f"{demo_server.base}/openapi.json", config=CONFIG)
    known = _known_ids(demo_server)
    headers = demo_server.headers[username]
    ungranted = {h["Authorization"] for name, h in demo_server.headers.items() if name not in _GRANTED}
    id_check = no_unmasked_id_numbers_without_grant(ungranted)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=_strategies(operation, known))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(
                base_url=demo_server.base, headers=headers, additional_checks=[id_check], timeout=60
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation runs; failures reported together
            failures.append(f"{operation.label}:\n{exc}")
    assert operations > 50, "the OpenAPI description lost its operations"
    assert not failures, f"{len(failures)} operation(s) failed as {username}:\n\n" + "\n\n".join(failures)


def test_the_id_number_check_can_fail() -> None:
    assert unmasked_id_numbers('{"id_number": "620522199001011230"}') == ["620522199001011230"]
    assert unmasked_id_numbers('{"id_number": "620522********1230"}') == []
    assert unmasked_id_numbers(STANDARD_EXAMPLE) == []  # the template's example row
    assert unmasked_id_numbers('{"n": "110105194912310021"}') == []  # wrong check character
