"""Helpers of the auth tests: a second app with its own settings, hand-built JWTs, key pairs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.main import create_app
from app.settings import Settings
from tests.conftest import Account

ME = "/api/v1/me"
TOKEN = "/api/v1/auth/token"
LOGOUT = "/api/v1/auth/logout"

# The conftest's ``account_factory``: (region_code, *roles, **user fields) -> Account
AccountFactory = Callable[..., Awaitable[Account]]


@asynccontextmanager
async def serving(settings: Settings, address: str = "198.51.100.20") -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app on ``settings``, its lifespan entered as the session-wide ``app`` fixture does, and
    an HTTP client talking to it from ``address``."""
    application = create_app(settings)
    async with application.router.lifespan_context(application), client_for(application, address) as http:
        yield http


@asynccontextmanager
async def client_for(application: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def hand_token(header: Any, claims: Any, signature: bytes = b"") -> str:
    """A compact JWS built without any JWT library: base64url JSON segments and the given signature."""
    return f"{b64json(header)}.{b64json(claims)}.{b64url(signature)}"


def hmac_sha256_token(header: Any, payload: str | bytes, key: bytes) -> str:
    """HS256 signed by hand, with any key and any payload bytes (JSON or not)."""
    raw = payload.encode() if isinstance(payload, str) else payload
    signing_input = f"{b64json(header)}.{b64url(raw)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _pem_pair(key)


def ec_pem_pair() -> tuple[str, str]:
    return _pem_pair(ec.generate_private_key(ec.SECP256R1()))


def _pem_pair(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
