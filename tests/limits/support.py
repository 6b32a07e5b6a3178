"""Helpers of the limits tests: apps with limits of their own (the shared app has none), Redis, tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from app.settings import Settings
from tests.auth.support import serving

REDIS_URL = "redis://127.0.0.1:6379/0"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"


def limited(settings: Settings, **limits: Any) -> Settings:
    """The test settings with these limits (every other limit off unless given)."""
    return settings.model_copy(update=limits)


@asynccontextmanager
async def app_with(settings: Settings, **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(limited(settings, **limits)) as http:
        yield http


async def redis_or_skip() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}): the shared-limit tests need it")
    finally:
        await client.aclose()


def shared(**limits: Any) -> dict[str, Any]:
    """Limits in Redis under a prefix of this test's own, so runs and tests never count together."""
    return {"redis_url": REDIS_URL, "redis_key_prefix": f"fupin-test-{uuid.uuid4().hex}", **limits}


async def client_headers(http: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, str]:
    response = await http.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
