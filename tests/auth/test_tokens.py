"""Access tokens against a protected endpoint (``GET /api/v1/me``).

Every missing, malformed, tampered, unsigned, expired, not-yet-valid, misaddressed or wrongly signed token,
and every token whose claims do not describe a principal, is answered 401 ``application/problem+json`` with
``WWW-Authenticate: Bearer``: never a 500, never a 200.
"""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
import pytest
from jose import jwt
from pydantic import SecretStr

from app.db.session import Database
from app.domain.auth.tokens import InvalidToken, decode_access_token
from app.settings import Settings
from tests.auth.support import (
    ME,
    TOKEN,
    AccountFactory,
    b64json,
    b64url,
    ec_pem_pair,
    hand_token,
    hmac_sha256_token,
    rsa_pem_pair,
    serving,
)
from tests.conftest import PASSWORD, TEST_SECRET, VILLAGE_A1, assert_problem, make_user

SUBJECT_ID = uuid.UUID("0b9c7f5e-3a52-4a8e-9d2f-7c1e5b6a4d30")
HS256_HEADER = {"alg": "HS256", "typ": "JWT"}
DROP = object()  # a claim value meaning "leave the claim out"


@pytest.fixture(autouse=True)
async def subject(tree: dict[str, str], db: Database, settings: Settings) -> None:
    """The account the hand-built tokens speak for exists and is active: only the token can be wrong."""
    await make_user(db, settings, region_code=VILLAGE_A1, roles=["village_clerk"], user_id=SUBJECT_ID)


@cache
def foreign_rsa() -> tuple[str, str]:
    return rsa_pem_pair()


@cache
def foreign_ec() -> tuple[str, str]:
    return ec_pem_pair()


def claims(settings: Settings, **changes: Any) -> dict[str, Any]:
    """The claims the server itself issues for a village clerk, with ``changes`` applied."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": f"user:{SUBJECT_ID}",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "name": "clerk",
        "region": VILLAGE_A1,
        "roles": ["village_clerk"],
        "pd": False,
    }
    base.update({name: value() if callable(value) else value for name, value in changes.items()})
    return {name: value for name, value in base.items() if value is not DROP}


def signed(settings: Settings, **changes: Any) -> str:
    """Signed with the server's own key and algorithm: only the claims can be wrong."""
    return jwt.encode(claims(settings, **changes), TEST_SECRET, algorithm="HS256")


def bearer(token: str) -> str:
    return f"Bearer {token}"


def split(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def with_payload(settings: Settings, **changes: Any) -> str:
    """A valid token whose payload segment is replaced by re-encoded, changed claims (not re-signed)."""
    original = signed(settings)
    header, payload, signature = split(original)
    decoded = json.loads(b64decode(payload))
    decoded.update(changes)
    return f"{header}.{b64json(decoded)}.{signature}"


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def with_signature(settings: Settings, change: Callable[[str], str]) -> str:
    header, payload, signature = split(signed(settings))
    return f"{header}.{payload}.{change(signature)}"


def replace_char(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by a different base64url character."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def signature_with(settings: Settings, characters: str) -> str:
    """A valid token whose signature segment contains one of ``characters`` (retried over fresh jtis)."""
    for _ in range(1000):
        token = signed(settings)
        if any(character in split(token)[2] for character in characters):
            return token
    raise AssertionError("no signature with those characters")


NOT_UTF8_HEADER = b'{"alg":"HS256","typ":"\xff\xfe"}'


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# Authorization header values that carry no bearer token at all: 401 auth.missing_token.
MISSING: dict[str, str | None] = {
    "no Authorization header": None,
    "empty Authorization header": "",
    "Basic scheme": "Basic dXNlcjpwYXNzd29yZA==",
    "Token scheme": "Token abc.def.ghi",
    "Digest scheme": 'Digest username="u", realm="fupin"',
    "bare token without scheme": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    "Bearer without token": "Bearer",
    "Bearer with one trailing space": "Bearer ",
    "Bearer with spaces only": "Bearer    ",
}


@dataclass(frozen=True)
class Case:
    build: Callable[[Settings], str | bytes]


def token_case(build: Callable[[Settings], str]) -> Case:
    return Case(lambda settings: bearer(build(settings)))


def claim_case(**changes: Any) -> Case:
    return token_case(lambda settings: signed(settings, **changes))


def far_future() -> int:
    return int(time.time()) + 10 * 365 * 86_400


def alg_none(settings: Settings, alg: str = "none", signature: bytes = b"") -> str:
    return hand_token({"alg": alg, "typ": "JWT"}, claims(settings), signature)


def hs256_by_hand(settings: Settings, payload: str | bytes, key: str = TEST_SECRET) -> str:
    return hmac_sha256_token(HS256_HEADER, payload, key.encode())


# Everything that looks like a bearer token but is not a valid one: 401 auth.invalid_token.
INVALID: dict[str, Case] = {
    # Garbage
    "garbage word": Case(lambda s: "Bearer garbage"),
    "only dots": Case(lambda s: "Bearer .."),
    "three dots": Case(lambda s: "Bearer ..."),
    "two segments": Case(lambda s: "Bearer abc.def"),
    "empty segments around dots": Case(lambda s: "Bearer a..b"),
    "four segments": token_case(lambda s: signed(s) + ".e30"),
    "five segments (JWE shape)": token_case(lambda s: signed(s) + ".e30.e30"),
    "two tokens": token_case(lambda s: f"{signed(s)} {signed(s)}"),
    "base64 noise": Case(lambda s: "Bearer " + ".".join(b64url(bytes(range(i, 256))) for i in range(3))),
    "json instead of jwt": Case(lambda s: 'Bearer {"alg":"HS256"}'),
    "the string null": Case(lambda s: "Bearer null"),
    "header not json": token_case(
        lambda s: f"{b64url(b'not json')}.{split(signed(s))[1]}.{split(signed(s))[2]}"
    ),
    "header a json list": token_case(lambda s: hand_token(["HS256"], claims(s))),
    "header a json string": token_case(lambda s: hand_token("HS256", claims(s))),
    "header json null": token_case(lambda s: hand_token(None, claims(s))),
    "header deeply nested json": token_case(lambda s: f"{b64url(nested(50_000))}.e30.c2ln"),
    "header not utf-8": token_case(lambda s: f"{b64url(NOT_UTF8_HEADER)}.e30.c2ln"),
    "header with invalid padding": token_case(lambda s: "e30=.e30.c2ln"),
    "latin-1 bytes": Case(lambda s: b"Bearer \xff\xfe\xfd.\x80\x81.\xc3\xa9"),
    "control characters": Case(lambda s: b"Bearer a\x00b.c\x01d.e\x7f"),
    "very long token": Case(lambda s: "Bearer " + "A" * 16_000 + ".B.C"),
    "padded signature": token_case(lambda s: signed(s) + "=="),
    "standard base64 alphabet in the signature": token_case(
        lambda s: signature_with(s, "-_").replace("-", "+").replace("_", "/")
    ),
    "whitespace inside the signature": token_case(
        lambda s: with_signature(s, lambda sig: f"{sig[:5]} {sig[5:]}")
    ),
    # Truncated
    "last character cut": token_case(lambda s: signed(s)[:-1]),
    "last five characters cut": token_case(lambda s: signed(s)[:-5]),
    "cut in half": token_case(lambda s: signed(s)[: len(signed(s)) // 2]),
    "signature segment missing": token_case(lambda s: signed(s).rsplit(".", 1)[0]),
    "signature segment empty": token_case(lambda s: signed(s).rsplit(".", 1)[0] + "."),
    "header only": token_case(lambda s: split(signed(s))[0]),
    # Signature bytes
    "signature first character changed": token_case(
        lambda s: with_signature(s, lambda sig: replace_char(sig, 0))
    ),
    "signature middle character changed": token_case(
        lambda s: with_signature(s, lambda sig: replace_char(sig, len(sig) // 2))
    ),
    "signature reversed": token_case(lambda s: with_signature(s, lambda sig: sig[::-1])),
    "signature of another token": token_case(
        lambda s: ".".join(split(signed(s, roles=["admin"]))[:2]) + "." + split(signed(s))[2]
    ),
    "signed with another secret": token_case(
        lambda s: jwt.encode(claims(s), "another-secret-" + "y" * 40, algorithm="HS256")
    ),
    "signed with the secret plus one byte": token_case(
        lambda s: jwt.encode(claims(s), TEST_SECRET + "x", algorithm="HS256")
    ),
    # Tampered payload, re-encoded without re-signing
    "roles raised to admin": token_case(lambda s: with_payload(s, roles=["admin"])),
    "region widened to the whole country": token_case(lambda s: with_payload(s, region="000000000000")),
    "region moved to the county": token_case(lambda s: with_payload(s, region="620522000000")),
    "subject swapped": token_case(lambda s: with_payload(s, sub=f"user:{uuid.uuid4()}")),
    "expiry pushed out": token_case(lambda s: with_payload(s, exp=far_future())),
    "personal-data grant added": token_case(lambda s: with_payload(s, pd=True)),
    # Algorithms
    "alg none, no signature": token_case(lambda s: alg_none(s)),
    "alg None, no signature": token_case(lambda s: alg_none(s, "None")),
    "alg NONE, no signature": token_case(lambda s: alg_none(s, "NONE")),
    "alg none with the original signature": token_case(
        lambda s: alg_none(s, signature=b64decode(split(signed(s))[2]))
    ),
    "header without alg": token_case(
        lambda s: hmac_sha256_token({"typ": "JWT"}, json.dumps(claims(s)), TEST_SECRET.encode())
    ),
    "alg a list": token_case(
        lambda s: hmac_sha256_token({"alg": ["HS256"]}, json.dumps(claims(s)), TEST_SECRET.encode())
    ),
    "HS384 with the server secret": token_case(
        lambda s: jwt.encode(claims(s), TEST_SECRET, algorithm="HS384")
    ),
    "HS512 with the server secret": token_case(
        lambda s: jwt.encode(claims(s), TEST_SECRET, algorithm="HS512")
    ),
    "RS256 when the server expects HS256": token_case(
        lambda s: jwt.encode(claims(s), foreign_rsa()[0], algorithm="RS256")
    ),
    "ES256 when the server expects HS256": token_case(
        lambda s: jwt.encode(claims(s), foreign_ec()[0], algorithm="ES256")
    ),
    # Required registered claims missing
    "no exp": claim_case(exp=DROP),
    "no iat": claim_case(iat=DROP),
    "no sub": claim_case(sub=DROP),
    "no aud": claim_case(aud=DROP),
    "no iss": claim_case(iss=DROP),
    # Time
    "expired a minute ago": claim_case(exp=lambda: int(time.time()) - 60),
    "expired at the epoch": claim_case(exp=0),
    "not valid for another hour": claim_case(nbf=lambda: int(time.time()) + 3600),
    "exp not a number": claim_case(exp="soon"),
    "exp a list": claim_case(exp=lambda: [far_future()]),
    "exp infinite": claim_case(exp=float("inf")),
    "exp not a number (NaN)": claim_case(exp=float("nan")),
    "iat not a number": claim_case(iat="yesterday"),
    "iat an object": claim_case(iat={"at": 1}),
    "nbf not a number": claim_case(nbf="now"),
    "nbf infinite": claim_case(nbf=float("-inf")),
    # Audience and issuer
    "wrong aud": claim_case(aud="another-api"),
    "aud list without ours": claim_case(aud=["another-api", "third-api"]),
    "aud a number": claim_case(aud=42),
    "aud empty": claim_case(aud=""),
    "wrong iss": claim_case(iss="evil"),
    "iss empty": claim_case(iss=""),
    "iss a list holding ours": claim_case(iss=["fupin"]),
    # Subject
    "sub not a uuid": claim_case(sub="user:not-a-uuid"),
    "sub of an unknown kind": claim_case(sub=f"admin:{SUBJECT_ID}"),
    "sub capitalised kind": claim_case(sub=f"User:{SUBJECT_ID}"),
    "sub without kind": claim_case(sub=str(SUBJECT_ID)),
    "sub kind only": claim_case(sub="user:"),
    "sub empty": claim_case(sub=""),
    "sub with trailing text": claim_case(sub=f"user:{SUBJECT_ID}:admin"),
    "sub with a space": claim_case(sub=f"user: {SUBJECT_ID}"),
    "sub uuid in braces": claim_case(sub=f"client:{{{SUBJECT_ID}}}"),
    "sub uuid as a urn": claim_case(sub=f"user:urn:uuid:{SUBJECT_ID}"),
    "sub uuid without hyphens": claim_case(sub=f"user:{SUBJECT_ID.hex}"),
    "sub a number": claim_case(sub=12345),
    # Roles
    "unknown role": claim_case(roles=["superuser"]),
    "a known and an unknown role": claim_case(roles=["admin", "root"]),
    "role in upper case": claim_case(roles=["ADMIN"]),
    "roles a string": claim_case(roles="admin"),
    "roles an object": claim_case(roles={"admin": True}),
    "roles numbers": claim_case(roles=[1, 2]),
    "roles nested list": claim_case(roles=[["admin"]]),
    "roles null": claim_case(roles=None),
    "no roles claim": claim_case(roles=DROP),
    # Region
    "region of 11 digits": claim_case(region=VILLAGE_A1[:-1]),
    "region of 13 digits": claim_case(region=VILLAGE_A1 + "1"),
    "region with a letter": claim_case(region=VILLAGE_A1[:-1] + "x"),
    "region in full-width digits": claim_case(region="".join(chr(ord(c) + 0xFEE0) for c in VILLAGE_A1)),
    "region with province 00": claim_case(region="000000000001"),
    "region group below an empty group": claim_case(region="620000100201"),
    "region a number": claim_case(region=620522100201),
    "region null": claim_case(region=None),
    "no region claim": claim_case(region=DROP),
    # Other claims
    "no name claim": claim_case(name=DROP),
    "jti a number": claim_case(jti=7),
    # Correctly signed payloads that are not a claims object
    "payload json null": token_case(lambda s: hs256_by_hand(s, "null")),
    "payload json list": token_case(lambda s: hs256_by_hand(s, json.dumps([claims(s)]))),
    "payload json string": token_case(lambda s: hs256_by_hand(s, '"claims"')),
    "payload not json": token_case(lambda s: hs256_by_hand(s, "claims")),
    "payload not utf-8": token_case(lambda s: hs256_by_hand(s, b"\xff\xfe{}")),
    "payload deeply nested json": token_case(lambda s: hs256_by_hand(s, nested(50_000))),
    "payload empty": token_case(lambda s: hs256_by_hand(s, b"")),
}


def headers_for(value: str | bytes | None) -> list[tuple[bytes, bytes]]:
    if value is None:
        return []
    raw = value if isinstance(value, bytes) else value.encode("latin-1")
    return [(b"authorization", raw)]


async def test_hand_built_baseline_token_is_accepted(client: httpx.AsyncClient, settings: Settings) -> None:
    """The positive control of the matrix below: each case changes one thing of these tokens."""
    for token in (signed(settings), hs256_by_hand(settings, json.dumps(claims(settings)))):
        response = await client.get(ME, headers={"Authorization": bearer(token)})
        assert response.status_code == 200, response.text
        assert response.json()["id"] == str(SUBJECT_ID)
        assert response.json()["roles"] == ["village_clerk"]


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.get(ME, headers={"Authorization": f"bearer {signed(settings)}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", list(MISSING.values()), ids=list(MISSING))
async def test_request_without_bearer_token_is_401_missing_token(
    client: httpx.AsyncClient, value: str | None
) -> None:
    response = await client.get(ME, headers=headers_for(value))
    assert_problem(response, 401, "auth.missing_token")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("case", list(INVALID.values()), ids=list(INVALID))
async def test_invalid_bearer_token_is_401_invalid_token(
    client: httpx.AsyncClient, settings: Settings, case: Case
) -> None:
    response = await client.get(ME, headers=headers_for(case.build(settings)))
    body = assert_problem(response, 401, "auth.invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert body["instance"] == ME
    assert "id" not in body  # no principal leaks into the error


def test_invalid_tokens_are_refused_by_the_decoder_itself(settings: Settings) -> None:
    """The same matrix one layer down: decode_access_token raises InvalidToken, nothing else."""
    accepted = []
    for name, case in INVALID.items():
        value = case.build(settings)
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        try:
            decode_access_token(settings, text.partition(" ")[2])
        except InvalidToken:
            continue
        accepted.append(name)
    assert not accepted


# Fuzzing ---------------------------------------------------------------------------------------------------

FUZZ_COUNT = 2_500
PRINTABLE = bytes(range(0x21, 0x7F))


def mutate(token: bytes, rng: random.Random) -> bytes:
    """One to three random mutations: byte flips, replacements, insertions, deletions, segment shuffles."""
    data = bytearray(token)
    for _ in range(rng.randint(1, 3)):
        operation = rng.randrange(9)
        if not data:
            data.extend(rng.choice(PRINTABLE) for _ in range(rng.randint(1, 8)))
            continue
        position = rng.randrange(len(data))
        if operation == 0:  # flip one bit
            data[position] ^= 1 << rng.randrange(8)
        elif operation == 1:  # replace a byte by a printable one
            data[position] = rng.choice(PRINTABLE)
        elif operation == 2:  # replace a byte by a base64url character
            data[position] = rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        elif operation == 3:  # insert
            data.insert(position, rng.choice(PRINTABLE))
        elif operation == 4:  # delete one byte
            del data[position]
        elif operation == 5:  # delete a run
            del data[position : position + rng.randint(2, 40)]
        elif operation == 6:  # duplicate a run
            end = position + rng.randint(1, 30)
            data[position:position] = data[position:end]
        elif operation == 7:  # shuffle, drop or repeat segments
            segments = bytes(data).split(b".")
            choice = rng.randrange(3)
            if choice == 0:
                rng.shuffle(segments)
            elif choice == 1 and len(segments) > 1:
                del segments[rng.randrange(len(segments))]
            else:
                segments.insert(rng.randrange(len(segments) + 1), rng.choice(segments))
            data = bytearray(b".".join(segments))
        else:  # truncate
            del data[position:]
    return bytes(data)


async def test_fuzzed_tokens_are_all_401_never_500(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    assert (await client.get(ME, headers=account.headers)).status_code == 200  # the unmutated token works
    original = account.token.encode()
    rng = random.Random(2026)
    seen: set[bytes] = set()
    failures: list[tuple[int, bytes]] = []
    while len(seen) < FUZZ_COUNT:
        mutated = mutate(original, rng)
        if mutated == original or mutated in seen:
            continue
        seen.add(mutated)
        response = await client.get(ME, headers=[(b"authorization", b"Bearer " + mutated)])
        problem_json = response.headers.get("content-type", "").startswith("application/problem+json")
        if response.status_code != 401 or not problem_json:
            failures.append((response.status_code, mutated))
    assert not failures, f"{len(failures)} of {FUZZ_COUNT} mutated tokens were not 401: {failures[:10]}"


# Asymmetric algorithms -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    algorithm: str
    private: str
    public: str
    other_private: str  # another key pair of the same type, not configured anywhere


@pytest.fixture(scope="module", params=["RS256", "ES256"])
def key_pair(request: pytest.FixtureRequest) -> KeyPair:
    make = rsa_pem_pair if request.param == "RS256" else ec_pem_pair
    private, public = make()
    return KeyPair(request.param, private, public, make()[0])


def asymmetric_settings(settings: Settings, keys: KeyPair) -> Settings:
    return Settings(
        database_url=settings.database_url,
        jwt_algorithm=keys.algorithm,
        jwt_private_key=SecretStr(keys.private),
        jwt_public_key=keys.public,
        log_level="WARNING",
        log_json=True,
        database_pool_size=2,
    )


async def sign_in(http: httpx.AsyncClient, username: str) -> dict[str, Any]:
    response = await http.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_asymmetric_server_issues_tokens_that_work_and_round_trip(
    client: httpx.AsyncClient,
    settings: Settings,
    tree: dict[str, str],
    account_factory: AccountFactory,
    key_pair: KeyPair,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk", "inspector")
    asymmetric = asymmetric_settings(settings, key_pair)
    async with serving(asymmetric) as http:
        grant = await sign_in(http, account.user.username)
        token = grant["access_token"]
        assert jwt.get_unverified_header(token)["alg"] == key_pair.algorithm

        me = await http.get(ME, headers={"Authorization": bearer(token)})
        assert me.status_code == 200, me.text
        assert me.json()["id"] == str(account.user.id)
        assert me.json()["roles"] == ["inspector", "village_clerk"]
        assert me.json()["region_code"] == VILLAGE_A1

        # Anyone with the public key can verify it, and it carries what the server put in.
        verified = jwt.decode(
            token,
            key_pair.public,
            algorithms=[key_pair.algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
        assert verified["sub"] == f"user:{account.user.id}"
        assert verified["region"] == VILLAGE_A1
        assert verified["roles"] == ["inspector", "village_clerk"]
        assert decode_access_token(asymmetric, token) == account.principal

        # The refresh grant issues asymmetric tokens too.
        refreshed = await http.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        again = refreshed.json()["access_token"]
        assert jwt.get_unverified_header(again)["alg"] == key_pair.algorithm
        assert (await http.get(ME, headers={"Authorization": bearer(again)})).status_code == 200

    # The HS256 server does not accept it.
    assert_problem(await client.get(ME, headers={"Authorization": bearer(token)}), 401, "auth.invalid_token")


async def test_asymmetric_server_refuses_hs256_token_hmac_signed_with_its_own_public_key(
    settings: Settings,
    db: Database,
    key_pair: KeyPair,
) -> None:
    """The classic algorithm confusion: the public key is public, so it must never work as an HMAC key."""
    payload = json.dumps(claims(settings))
    forged = [
        hmac_sha256_token(HS256_HEADER, payload, key_pair.public.encode()),
        hmac_sha256_token(HS256_HEADER, payload, key_pair.public.strip().encode()),
        # Same forgery, but claiming the configured algorithm in the header.
        hmac_sha256_token({"alg": key_pair.algorithm, "typ": "JWT"}, payload, key_pair.public.encode()),
    ]
    async with serving(asymmetric_settings(settings, key_pair)) as http:
        for token in forged:
            response = await http.get(ME, headers={"Authorization": bearer(token)})
            assert_problem(response, 401, "auth.invalid_token")
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_asymmetric_server_refuses_foreign_unsigned_and_tampered_tokens(
    settings: Settings,
    db: Database,
    tree: dict[str, str],
    account_factory: AccountFactory,
    key_pair: KeyPair,
) -> None:
    account = await account_factory(VILLAGE_A1, "village_clerk")
    other_algorithm = "ES256" if key_pair.algorithm == "RS256" else "RS256"
    other_key = foreign_ec()[0] if other_algorithm == "ES256" else foreign_rsa()[0]
    async with serving(asymmetric_settings(settings, key_pair)) as http:
        own = (await sign_in(http, account.user.username))["access_token"]
        header, payload, signature = split(own)
        stolen_claims = jwt.get_unverified_claims(own)
        raised = b64json({**stolen_claims, "roles": ["admin"]})
        widened = b64json({**stolen_claims, "region": "000000000000"})
        cases = {
            "HS256 with the shared test secret": account.token,
            "signed by another key pair": jwt.encode(
                claims(settings), key_pair.other_private, algorithm=key_pair.algorithm
            ),
            f"{other_algorithm} with another key": jwt.encode(
                claims(settings), other_key, algorithm=other_algorithm
            ),
            "alg none": alg_none(settings),
            "alg none keeping the real signature": f"{b64json({'alg': 'none'})}.{payload}.{signature}",
            "roles raised, not re-signed": f"{header}.{raised}.{signature}",
            "region widened, not re-signed": f"{header}.{widened}.{signature}",
            "signature changed": f"{header}.{payload}.{replace_char(signature, len(signature) // 2)}",
            "signature cut": own[:-3],
            "expired but signed by the server key": jwt.encode(
                claims(settings, exp=int(time.time()) - 1), key_pair.private, algorithm=key_pair.algorithm
            ),
        }
        for name, token in cases.items():
            response = await http.get(ME, headers={"Authorization": bearer(token)})
            assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
            assert_problem(response, 401, "auth.invalid_token")

        # The positive control: the untouched token of this server works.
        assert (await http.get(ME, headers={"Authorization": bearer(own)})).status_code == 200


async def test_rsa_key_under_another_rsa_algorithm_is_refused(settings: Settings, db: Database) -> None:
    """Only the configured algorithm is accepted, even when the key and signature are genuine."""
    private, public = rsa_pem_pair()
    keys = KeyPair("RS256", private, public, private)
    async with serving(asymmetric_settings(settings, keys)) as http:
        for algorithm in ("RS384", "RS512"):
            token = jwt.encode(claims(settings), private, algorithm=algorithm)
            assert_problem(
                await http.get(ME, headers={"Authorization": bearer(token)}), 401, "auth.invalid_token"
            )
        control = jwt.encode(claims(settings), private, algorithm="RS256")
        assert (await http.get(ME, headers={"Authorization": bearer(control)})).status_code == 200
