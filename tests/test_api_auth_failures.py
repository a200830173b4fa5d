"""Guessing credentials stays slow and cheap for the server, on the real database: wrong credentials from one
address are limited (no database lookup once over the limit), and the JWT clock leeway is a few seconds."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from daemon import apikeys, auth
from daemon.http import create_app

pytestmark = pytest.mark.db

SECRET = "failures-" + uuid.uuid4().hex


@pytest.fixture
async def client(pool, settings, db_url) -> AsyncIterator[TestClient]:
    app = create_app(pool, settings.model_copy(update={
        "api_auth": "required", "supabase_jwt_secret": SecretStr(SECRET), "api_rate_limit_per_minute": 600}), db_url)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_random_keys_are_limited_and_stop_costing_lookups(client, monkeypatch):
    lookups = 0
    real_verify = apikeys.verify_key

    async def counting_verify(conn, key):
        nonlocal lookups
        lookups += 1
        return await real_verify(conn, key)

    monkeypatch.setattr(apikeys, "verify_key", counting_verify)
    statuses = []
    for _ in range(300):
        key, _prefix = apikeys.generate_key()
        statuses.append((await client.get("/api/jobs", headers={"X-API-Key": key})).status)
    assert statuses[: auth.FAILED_AUTH_PER_MINUTE] == [401] * auth.FAILED_AUTH_PER_MINUTE
    assert set(statuses[auth.FAILED_AUTH_PER_MINUTE:]) == {429}
    assert lookups == auth.FAILED_AUTH_PER_MINUTE
    limited = await client.get("/api/jobs", headers={"X-API-Key": apikeys.generate_key()[0]})
    assert int(limited.headers["Retry-After"]) >= 1


async def test_requests_without_credentials_do_not_use_up_the_allowance(client, pool):
    for _ in range(auth.FAILED_AUTH_PER_MINUTE + 5):
        assert (await client.get("/api/jobs")).status == 401
    key = (await apikeys.create_key(pool, ["jobs:read"])).key
    assert (await client.get("/api/jobs", headers={"X-API-Key": key})).status == 200


def _token(exp_offset: float) -> str:
    return jwt.encode({"sub": str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated",
                       "exp": int(time.time() + exp_offset)}, SECRET, algorithm="HS256")


async def test_jwt_leeway_is_a_few_seconds(client):
    assert auth.JWT_LEEWAY_SECONDS <= 5
    just_expired = await client.get("/api/jobs", headers={"Authorization": f"Bearer {_token(-1)}"})
    assert just_expired.status == 200
    expired = await client.get("/api/jobs", headers={"Authorization": f"Bearer {_token(-20)}"})
    assert expired.status == 401 and "expired" in (await expired.json())["detail"]
