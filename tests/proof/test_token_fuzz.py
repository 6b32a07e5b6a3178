"""Token fuzzing on every protected operation of the OpenAPI description (a new route is included without
touching this file): the whole claim matrix of tests/auth/test_tokens.py (no exp, expired, future nbf, wrong
aud and iss, alg none, HS/RS/ES swaps, bad signatures, tampered claims, …) against each operation, and
thousands of hypothesis-made malformed and tampered tokens spread over them. Every answer is 401
``application/problem+json`` with ``WWW-Authenticate: Bearer``: never a 500, never a success, never a
validation error that would reveal the route's input before the caller is known.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jose import jwt

from app.db.session import Database
from app.settings import Settings
from tests.auth.test_tokens import INVALID, MISSING, SUBJECT_ID, claims, foreign_ec, foreign_rsa, signed
from tests.conftest import TEST_SECRET, VILLAGE_A1, make_user

FUZZ_EXAMPLES = int(os.environ.get("FUPIN_TOKEN_FUZZ_EXAMPLES", "2000"))
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def protected_operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every operation whose description requires a bearer token, with its path placeholders filled."""
    operations = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if not operation.get("security"):
                continue
            types = {
                p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p["in"] == "path"
            }
            url = re.sub(r"\{(\w+)\}", lambda m, types=types: _value(types[m[1]]), path)
            operations.append((method.upper(), url))
    return operations


def _value(schema: dict[str, Any]) -> str:
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return "2020"
    if "enum" in schema:
        return str(schema["enum"][0])
    return VILLAGE_A1


@pytest.fixture
async def subject(tree: dict[str, str], db: Database, settings: Settings) -> None:
    """The account the tokens speak for exists and is active: only the token can be wrong."""
    await make_user(db, settings, region_code=VILLAGE_A1, roles=["village_clerk"], user_id=SUBJECT_ID)


async def _send(
    client: httpx.AsyncClient, method: str, url: str, authorization: bytes | None
) -> httpx.Response:
    headers = [] if authorization is None else [(b"authorization", authorization)]
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, url, headers=headers, json=body)


def _refused(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and response.headers.get("content-type", "").startswith("application/problem+json")
        and response.headers.get("www-authenticate", "").startswith("Bearer")
        and response.json().get("status") == 401
    )


def _raw(value: str | bytes | None) -> bytes | None:
    if value is None:
        return None
    return value if isinstance(value, bytes) else value.encode("latin-1")


async def test_the_baseline_token_is_accepted(
    client: httpx.AsyncClient, subject: None, settings: Settings
) -> None:
    """The fuzzing starts from a token that works: a refusal below is the tampering's doing."""
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {signed(settings)}"})
    assert response.status_code == 200, response.text


# The core of the claim matrix, sent to every operation; the rest of the matrix is spread over them.
CORE = (
    "no exp",
    "expired a minute ago",
    "not valid for another hour",
    "wrong aud",
    "wrong iss",
    "alg none, no signature",
    "RS256 when the server expects HS256",
    "signature middle character changed",
    "roles raised to admin",
)
SPREAD = 3  # operations each other case of the matrix is sent to


async def test_claim_matrix_on_every_protected_operation(
    client: httpx.AsyncClient, app: FastAPI, subject: None, settings: Settings
) -> None:
    operations = protected_operations(app)
    assert len(operations) > 50
    cases = {name: _raw(case.build(settings)) for name, case in INVALID.items()}
    cases |= {name: _raw(value) for name, value in MISSING.items()}
    assert set(CORE) <= set(cases)
    plan = [(operation, name) for operation in operations for name in CORE]
    others = [name for name in cases if name not in CORE]
    for index, name in enumerate(others):
        plan.extend((operations[(index * SPREAD + k) % len(operations)], name) for k in range(SPREAD))
    # Every operation and every case are in the plan.
    assert {op for op, _ in plan} == set(operations)
    assert {name for _, name in plan} == set(cases)
    failures = []
    for (method, url), name in plan:
        response = await _send(client, method, url, cases[name])
        if not _refused(response):
            failures.append((method, url, name, response.status_code, response.text[:200]))
    assert not failures, f"{len(failures)} not refused with 401: {failures[:20]}"


# Hypothesis-made tokens -------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    )


# Each breaks one thing the server must insist on; the rest of the claims stay as the server issues them.
NOW = int(time.time())
_BREAKS: dict[str, Any] = {
    "exp": lambda: st.one_of(st.just(None), st.integers(max_value=NOW - 5), _json_values()),
    "nbf": lambda: st.integers(min_value=NOW + 3600, max_value=2**40),
    "aud": lambda: _json_values().filter(lambda v: v not in ("fupin-api", ["fupin-api"])),
    "iss": lambda: _json_values().filter(lambda v: v != "fupin"),
    "sub": lambda: st.one_of(
        st.none(), st.text(max_size=40), st.just("user:7d0c5b36-4f0e-4f43-9d5e-2b8c4b9e0a11")
    ),
    "roles": lambda: st.one_of(
        st.none(), st.lists(st.text(max_size=12).filter(lambda r: r != "village_clerk"), min_size=1)
    ),
    "iat": lambda: st.one_of(st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=2)),
    "region": lambda: st.one_of(st.none(), st.text(max_size=14).filter(lambda r: r != VILLAGE_A1)),
}


@st.composite
def broken_claims_token(draw: st.DrawFn, baseline: dict[str, Any]) -> bytes:
    """Correctly signed with the server's own key, but one required claim dropped or made wrong."""
    claim = draw(st.sampled_from(sorted(_BREAKS)))
    body = dict(baseline)
    value = draw(_BREAKS[claim]())
    if value is None:
        body.pop(claim, None)
    else:
        body[claim] = value
    extra = draw(st.dictionaries(st.sampled_from(["x", "admin", "pd", "scope"]), _json_values(), max_size=2))
    body.update(extra)
    return jwt.encode(body, TEST_SECRET, algorithm="HS256").encode()


@st.composite
def mutated_token(draw: st.DrawFn, baseline: bytes) -> bytes:
    """A token the server would accept, with one to four byte-level edits."""
    data = bytearray(baseline)
    original = bytes(data)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "b64", "insert", "delete", "cut", "segment"]))
        if edit == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif edit == "b64":
            data[position] = ord(draw(st.sampled_from(B64URL)))
        elif edit == "insert":
            data.insert(position, draw(st.integers(0x21, 0x7E)))
        elif edit == "delete":
            del data[position : position + draw(st.integers(1, 40))]
        elif edit == "cut":
            del data[position:]
        else:
            segments = bytes(data).split(b".")
            data = bytearray(b".".join(draw(st.permutations(segments))[: draw(st.integers(1, 4))]))
    token = bytes(data)
    return token if token != original else token + b"A"


@st.composite
def forged_header_token(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    """Valid claims under a header and signature the server did not make: other algorithms, `none`, other
    keys (an RSA or EC key of someone else, the secret under another HMAC), random signatures."""
    choice = draw(st.sampled_from(["none", "random", "foreign_rsa", "foreign_ec", "other_hmac", "header"]))
    if choice == "foreign_rsa":
        return jwt.encode(body, foreign_rsa()[0], algorithm="RS256").encode()
    if choice == "foreign_ec":
        return jwt.encode(body, foreign_ec()[0], algorithm="ES256").encode()
    if choice == "other_hmac":
        algorithm = draw(st.sampled_from(["HS384", "HS512"]))
        return jwt.encode(body, TEST_SECRET, algorithm=algorithm).encode()
    header: Any = {"alg": draw(st.sampled_from(["none", "None", "HS256", "RS256", "ES256", "", "hs256"]))}
    if choice == "header":
        header = draw(st.one_of(_json_values(), st.dictionaries(st.text(max_size=5), _json_values())))
    signature = b"" if choice == "none" else draw(st.binary(max_size=64))
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(body).encode()), _b64(signature)]
    ).encode()


def garbage() -> st.SearchStrategy[bytes]:
    """Anything a header can carry: printable noise, dotted base64-ish segments, JSON, control bytes."""
    segment = st.text(alphabet=B64URL + "=+/", max_size=60)
    return st.one_of(
        st.binary(min_size=1, max_size=200).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
        st.lists(segment, min_size=1, max_size=5).map(lambda parts: ".".join(parts).encode()),
        _json_values().map(lambda v: json.dumps(v).encode()),
    ).filter(bool)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
async def test_hypothesis_tokens_on_the_protected_operations(
    client: httpx.AsyncClient, app: FastAPI, subject: None, settings: Settings
) -> None:
    operations = protected_operations(app)
    # Fixed once: the strategies must draw the same way on every run (no clock, no fresh jti).
    baseline_claims = claims(settings, exp=NOW + 3600)
    baseline = jwt.encode(baseline_claims, TEST_SECRET, algorithm="HS256").encode()
    assert (await _send(client, "GET", "/api/v1/me", b"Bearer " + baseline)).status_code == 200
    tokens = st.one_of(
        broken_claims_token(baseline_claims),
        mutated_token(baseline),
        forged_header_token(baseline_claims),
        garbage(),
    )
    schemes = st.sampled_from([b"Bearer ", b"bearer ", b"BEARER "])

    drawn: list[tuple[tuple[str, str], bytes]] = []

    # Hypothesis draws the examples (derandomized: the same ones every run); they are sent afterwards on the
    # test's own event loop, where the app lives. Failures are collected, not raised: no shrinking needed.
    @given(operation=st.sampled_from(operations), scheme=schemes, token=tokens)
    @hypothesis_settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def draw(operation: tuple[str, str], scheme: bytes, token: bytes) -> None:
        drawn.append((operation, scheme + token))

    draw()
    assert len(drawn) >= FUZZ_EXAMPLES * 0.9
    failures: list[tuple[str, str, bytes, int]] = []
    for (method, url), authorization in drawn:
        response = await _send(client, method, url, authorization)
        if not _refused(response):
            failures.append((method, url, authorization, response.status_code))
    assert not failures, f"{len(failures)} of {len(drawn)} tokens were not refused with 401: {failures[:10]}"
