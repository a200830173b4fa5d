"""REST API authentication: API keys stored hashed, Supabase JWTs, scopes, the per-caller rate limit, and no
secret in any log line or error. Runs an aiohttp app with the auth middleware on the real database."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import jwt
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from click.testing import CliRunner
from pydantic import SecretStr

from daemon import apikeys, auth
from daemon.config import Settings

pytestmark = pytest.mark.db

JWT_SECRET = "test-jwt-secret-" + uuid.uuid4().hex


def token(claims: dict, secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode({"exp": int(time.time()) + 600, **claims}, secret, algorithm=algorithm)


def user_token(sub: str, **extra: object) -> str:
    return token({"sub": sub, "role": "authenticated", "aud": "authenticated", **extra})


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


async def whoami(request: web.Request) -> web.Response:
    return web.json_response({"subject": request[auth.PRINCIPAL].subject, "via": request[auth.PRINCIPAL].via,
                              "scopes": sorted(request[auth.PRINCIPAL].scopes)})


def protected(scope: str):
    async def route(request: web.Request) -> web.Response:
        auth.require_scope(request, scope)
        return await whoami(request)
    return route


def build_app(pool, settings: Settings) -> web.Application:
    app = web.Application(middlewares=[auth.auth_middleware(pool, settings)])
    app.router.add_get("/api/health", whoami)
    app.router.add_get("/api/jobs", protected("jobs:read"))
    app.router.add_post("/api/jobs", protected("jobs:write"))
    app.router.add_get("/api/admin", protected("admin"))
    return app


@pytest.fixture
def auth_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_auth": "required", "supabase_jwt_secret": SecretStr(JWT_SECRET),
                                       "api_rate_limit_per_minute": 600})


@pytest.fixture
async def client(pool, auth_settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_app(pool, auth_settings))) as client:
        yield client


async def test_health_answers_without_credentials(client):
    response = await client.get("/api/health")
    assert response.status == 200
    assert (await response.json())["via"] == "anonymous"


async def test_missing_credentials_get_401_with_a_challenge(client):
    response = await client.get("/api/jobs")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in await response.json()


async def test_api_key_reaches_routes_of_its_scope_by_either_header(client, pool):
    created = await apikeys.create_key(pool, ["jobs:read"], "dashboard")
    for headers in (bearer(created.key), {"X-API-Key": created.key}):
        response = await client.get("/api/jobs", headers=headers)
        assert response.status == 200
        body = await response.json()
        assert body["subject"] == f"apikey:{created.stored.prefix}"
        assert body["via"] == "apikey"


async def test_api_key_without_the_scope_gets_403(client, pool):
    created = await apikeys.create_key(pool, ["jobs:read"])
    response = await client.post("/api/jobs", headers=bearer(created.key))
    assert response.status == 403
    assert "jobs:write" in (await response.json())["detail"]


async def test_admin_scope_opens_every_route(client, pool):
    created = await apikeys.create_key(pool, ["admin"])
    for method, path in (("GET", "/api/jobs"), ("POST", "/api/jobs"), ("GET", "/api/admin")):
        assert (await client.request(method, path, headers=bearer(created.key))).status == 200


async def test_only_a_hash_of_the_key_is_stored(pool):
    created = await apikeys.create_key(pool, ["jobs:read"])
    row = await pool.fetchrow("select * from api_keys where id = $1", created.stored.id)
    secret = created.key.split("_", 2)[2]
    assert all(secret not in str(value) for value in row.values())
    assert row["hash"] == apikeys.hash_key(created.key)


async def test_revoked_key_is_rejected_once_the_key_cache_expires(pool, auth_settings):
    settings = auth_settings.model_copy(update={"api_key_cache_seconds": 0.3})
    async with TestClient(TestServer(build_app(pool, settings))) as client:
        created = await apikeys.create_key(pool, ["jobs:read"])
        assert (await client.get("/api/jobs", headers=bearer(created.key))).status == 200
        await apikeys.revoke_key(pool, str(created.stored.id))
        await asyncio.sleep(0.35)
        assert (await client.get("/api/jobs", headers=bearer(created.key))).status == 401


async def test_verified_key_is_not_looked_up_again_within_the_cache_time(client, pool):
    created = await apikeys.create_key(pool, ["jobs:read"])
    assert (await client.get("/api/jobs", headers=bearer(created.key))).status == 200
    await pool.execute("update api_keys set last_used_at = null where id = $1", created.stored.id)
    assert (await client.get("/api/jobs", headers=bearer(created.key))).status == 200
    assert await pool.fetchval("select last_used_at from api_keys where id = $1", created.stored.id) is None


async def test_key_with_a_known_prefix_but_wrong_secret_is_rejected(client, pool):
    created = await apikeys.create_key(pool, ["admin"])
    forged = created.key[:-4] + ("AAAA" if not created.key.endswith("AAAA") else "BBBB")
    assert (await client.get("/api/jobs", headers=bearer(forged))).status == 401


async def test_use_of_a_key_is_recorded(client, pool):
    created = await apikeys.create_key(pool, ["jobs:read"])
    await client.get("/api/jobs", headers=bearer(created.key))
    [stored] = [k for k in await apikeys.list_keys(pool) if k.id == created.stored.id]
    assert stored.last_used_at is not None


async def test_rejected_credentials_appear_in_no_log_line_or_answer(client, pool):
    created = await apikeys.create_key(pool, ["jobs:read"])
    await apikeys.revoke_key(pool, created.stored.prefix)
    secrets = [created.key, token({"sub": "x", "role": "authenticated"}, secret="wrong-secret-" + "x" * 32)]
    with structlog.testing.capture_logs() as logs:
        for credential in secrets:
            for headers in (bearer(credential), {"X-API-Key": credential}):
                response = await client.get("/api/jobs", headers=headers)
                body = await response.text()
                assert response.status == 401
                assert credential not in body and credential not in str(response.headers)
    rejected = [entry for entry in logs if entry["event"] == "api.auth_rejected"]
    assert len(rejected) == 4
    for credential in secrets:
        assert credential not in str(logs)


def test_log_processor_masks_keys_and_tokens():
    key, prefix = apikeys.generate_key()
    jwt_text = user_token(str(uuid.uuid4()))
    event = {"event": "x", "error": f"bad {key} and {jwt_text}", "authorization": f"Bearer {jwt_text}",
             "header": "Bearer opaque-secret-value"}
    redacted = auth.redact_secrets(None, "info", dict(event))
    rendered = str(redacted)
    assert key not in rendered and jwt_text not in rendered and "opaque-secret-value" not in rendered
    assert prefix in redacted["error"]  # the non-secret prefix stays, to tell keys apart


async def test_supabase_user_token_gives_read_and_write_as_the_user(client):
    sub = str(uuid.uuid4())
    response = await client.post("/api/jobs", headers=bearer(user_token(sub)))
    assert response.status == 200
    body = await response.json()
    assert body["subject"] == sub and body["via"] == "jwt"
    assert (await client.get("/api/admin", headers=bearer(user_token(sub)))).status == 403


async def test_admin_claim_and_service_role_token_are_admin(client):
    admin = user_token(str(uuid.uuid4()), app_metadata={"role": "admin"})
    service = token({"role": "service_role", "iss": "supabase"})
    for credential in (admin, service):
        assert (await client.get("/api/admin", headers=bearer(credential))).status == 200
    spoofed = user_token(str(uuid.uuid4()), user_metadata={"role": "admin"})
    assert (await client.get("/api/admin", headers=bearer(spoofed))).status == 403


@pytest.mark.parametrize("bad", [
    "expired", "wrong_secret", "anon_role", "wrong_audience", "no_subject", "alg_none",
])
async def test_unacceptable_tokens_get_401(client, bad):
    sub = str(uuid.uuid4())
    credential = {
        "expired": token({"sub": sub, "role": "authenticated", "aud": "authenticated",
                          "exp": int(time.time()) - 3600}),
        "wrong_secret": token({"sub": sub, "role": "authenticated", "aud": "authenticated"},
                              secret="other-secret-" + "y" * 32),
        "anon_role": token({"role": "anon", "iss": "supabase"}),
        "wrong_audience": token({"sub": sub, "role": "authenticated", "aud": "somebody-else"}),
        "no_subject": token({"role": "authenticated", "aud": "authenticated"}),
        "alg_none": jwt.encode({"sub": sub, "role": "service_role", "exp": int(time.time()) + 60}, None,
                               algorithm="none"),
    }[bad]
    response = await client.get("/api/jobs", headers=bearer(credential))
    assert response.status == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_tokens_are_refused_when_no_jwt_secret_is_configured(pool, auth_settings):
    settings = auth_settings.model_copy(update={"supabase_jwt_secret": None})
    async with TestClient(TestServer(build_app(pool, settings))) as client:
        response = await client.get("/api/jobs", headers=bearer(user_token(str(uuid.uuid4()))))
        detail = (await response.json())["detail"]
    assert response.status == 401
    assert "API key" in detail


async def test_a_caller_over_the_rate_limit_gets_429_with_retry_after(pool, auth_settings):
    settings = auth_settings.model_copy(update={"api_rate_limit_per_minute": 3})
    busy = await apikeys.create_key(pool, ["jobs:read"])
    quiet = await apikeys.create_key(pool, ["jobs:read"])
    async with TestClient(TestServer(build_app(pool, settings))) as client:
        statuses = [(await client.get("/api/jobs", headers=bearer(busy.key))).status for _ in range(3)]
        limited = await client.get("/api/jobs", headers=bearer(busy.key))
        other = await client.get("/api/jobs", headers=bearer(quiet.key))
        health = await client.get("/api/health")
        limited_body = await limited.json()
    assert statuses == [200, 200, 200]
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "rate limit" in limited_body["detail"]
    assert other.status == 200 and health.status == 200


def test_rate_limit_bucket_refills_with_time():
    now = [0.0]
    limiter = auth.RateLimiter(60, clock=lambda: now[0])  # one request a second, bursts of 60
    assert all(limiter.take("k") == 0.0 for _ in range(60))
    wait = limiter.take("k")
    assert wait > 0
    now[0] += wait
    assert limiter.take("k") == 0.0
    assert limiter.take("other") == 0.0


async def test_auth_off_makes_every_caller_a_local_admin(pool, auth_settings):
    settings = auth_settings.model_copy(update={"api_auth": "off"})
    async with TestClient(TestServer(build_app(pool, settings))) as client:
        response = await client.get("/api/admin")
        scopes = (await response.json())["scopes"]
    assert response.status == 200
    assert "admin" in scopes


@pytest.mark.parametrize(("env", "required"), [
    ({}, False),
    ({"BENCHSIGHT_API_HOST": "0.0.0.0"}, True),
    ({"DATABASE_URL": "postgresql://db.example/x"}, True),
    ({"SUPABASE_URL": "https://x.supabase.co"}, True),
    ({"BENCHSIGHT_API_AUTH": "required"}, True),
    ({"BENCHSIGHT_API_AUTH": "off", "DATABASE_URL": "postgresql://db.example/x"}, False),
])
def test_auto_auth_is_off_only_for_the_embedded_database_on_loopback(env, required, monkeypatch):
    for name in ("DATABASE_URL", "SUPABASE_URL", "BENCHSIGHT_API_HOST", "BENCHSIGHT_API_AUTH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert auth.auth_required(Settings()) is required


def test_route_without_the_middleware_fails_closed():
    request = make_mocked_request("GET", "/api/jobs")  # no middleware ran: no principal
    with pytest.raises(web.HTTPUnauthorized):
        auth.require_scope(request, "jobs:read")


def test_apikey_commands_create_list_and_revoke(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BENCHSIGHT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    created = runner.invoke(apikeys.apikey_command, ["create", "--scope", "jobs:read", "--scope", "jobs:write",
                                                     "--name", "portal"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    prefix = apikeys.key_prefix(key)
    assert prefix is not None
    listed = runner.invoke(apikeys.apikey_command, ["list"])
    assert listed.exit_code == 0
    assert prefix in listed.stdout and "portal" in listed.stdout and "active" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout
    revoked = runner.invoke(apikeys.apikey_command, ["revoke", prefix])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(apikeys.apikey_command, ["list"]).stdout
    assert runner.invoke(apikeys.apikey_command, ["revoke", "999999"]).exit_code != 0
    refused = runner.invoke(apikeys.apikey_command, ["create", "--scope", "everything"])
    assert refused.exit_code != 0
