"""JWT access tokens, behind one small module (python-jose).

Every token is verified with an explicit algorithm list (the configured one only), and must carry
``exp``, ``iat``, ``sub``, ``aud`` and ``iss``. Anything malformed, tampered, expired, not yet valid or
meant for another audience or issuer raises :class:`InvalidToken`, which the API answers with 401.
"""

from __future__ import annotations

import base64
import math
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from app.domain.errors import Unauthenticated
from app.domain.principal import Principal, Role
from app.domain.regions.codes import is_valid_code
from app.settings import Settings

_REQUIRED = ("exp", "iat", "sub", "aud", "iss")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidToken(Unauthenticated):
    def __init__(self, detail: str = "The access token is invalid or expired; sign in again.") -> None:
        super().__init__(detail, "auth.invalid_token")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int


def issue_access_token(settings: Settings, principal: Principal, *, personal_data: bool) -> IssuedToken:
    now = datetime.now(UTC)
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": principal.subject,
        # Millisecond precision (NumericDate allows fractions): a session ended in the same second as
        # a token was issued must still end it, and a new sign-in right after must still work.
        "iat": math.floor(now.timestamp() * 1000) / 1000,
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
        "name": principal.name,
        "region": principal.region_code,
        "roles": sorted(principal.roles),
        "pd": personal_data,
    }
    token = jwt.encode(claims, settings.signing_key, algorithm=settings.jwt_algorithm)
    return IssuedToken(token, ttl)


# Verifying a token (canonical form, signature, claims) was the dearest step of authenticating a request
# (bench/RESULTS.md). A token that passed is remembered until it expires; one that failed never is. Whether
# its account may still act is the account gate's question, asked on every request all the same.
_verified: dict[tuple[str, ...], tuple[Principal, float]] = {}
MAX_VERIFIED_TOKENS = 10_000


def decode_access_token(settings: Settings, token: str) -> Principal:
    key: tuple[str, ...] = (settings.jwt_algorithm, settings.verification_key, settings.jwt_audience)
    key += (settings.jwt_issuer, token)
    cached = _verified.get(key)
    if cached is not None and time.time() < cached[1]:
        return cached[0]
    principal, expires_at = _verify(settings, token)
    if len(_verified) >= MAX_VERIFIED_TOKENS:
        _verified.clear()
    _verified[key] = (principal, expires_at)
    return principal


def _verify(settings: Settings, token: str) -> tuple[Principal, float]:
    if not _is_compact_jws(token):
        raise InvalidToken()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != settings.jwt_algorithm:
            raise InvalidToken()
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.verification_key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={f"require_{claim}": True for claim in _REQUIRED},
        )
        return _principal_from_claims(claims), float(claims["exp"])
    except InvalidToken:
        raise
    # OverflowError: an infinite exp/nbf/iat; RecursionError: deeply nested JSON in a segment.
    except (JOSEError, KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError):
        raise InvalidToken() from None


def _is_compact_jws(token: str) -> bool:
    """Three canonical base64url segments (RFC 7515 §2, §7.1): no padding, no other alphabet, no
    whitespace, no stray bits in a last character. The JWT library's decoder is lenient about all of
    these, which would give one token many spellings."""
    segments = token.split(".")
    return len(segments) == 3 and all(_is_canonical_base64url(segment) for segment in segments)


def _is_canonical_base64url(segment: str) -> bool:
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        return False
    decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() == segment


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    kind, _, raw_id = str(claims["sub"]).partition(":")
    region = claims["region"]
    roles = claims["roles"]
    if kind not in ("user", "client") or not isinstance(region, str) or not is_valid_code(region):
        raise InvalidToken()
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken()
    subject_id = uuid.UUID(raw_id)
    if str(subject_id) != raw_id:  # only the form the server issues, not {…}, urn:uuid:… or bare hex
        raise InvalidToken()
    return Principal.build(
        kind="user" if kind == "user" else "client",
        id=subject_id,
        name=str(claims["name"]),
        region_code=region,
        roles=[Role(role) for role in roles],
        has_personal_data_grant=claims.get("pd") is True,
        issued_at=float(claims["iat"]),
    )
