"""The API's boundary against a hostile web page and against other users, on the real database: with
authentication off a page in the user's browser cannot drive the API (Content-Type, Host, Origin), the CORS
defaults of the old service work locally, and with authentication on one user never gets another user's job
through dedupe nor runs a job only admins may request."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from daemon import apikeys
from daemon.http import create_app

pytestmark = pytest.mark.db

JWT_SECRET = "boundary-secret-" + uuid.uuid4().hex


def user_token(sub: str, *, admin: bool = False) -> dict[str, str]:
    claims = {"sub": sub, "role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + 600}
    if admin:
        claims["app_metadata"] = {"role": "admin"}
    return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}


@pytest.fixture
async def local(pool, settings, db_url) -> AsyncIterator[TestClient]:
    """Authentication off on loopback: the laptop default."""
    app = create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def secured(pool, settings, db_url) -> AsyncIterator[TestClient]:
    app = create_app(pool, settings.model_copy(update={
        "api_auth": "required", "supabase_jwt_secret": SecretStr(JWT_SECRET), "api_rate_limit_per_minute": 0}),
        db_url)
    async with TestClient(TestServer(app)) as client:
        yield client


async def _jobs(pool) -> int:
    return await pool.fetchval("select count(*) from job_requests")


async def test_text_plain_body_is_415_and_creates_nothing(local, pool):
    resp = await local.post("/api/upload/schema", data='{"apply": true}', headers={"Content-Type": "text/plain"})
    assert resp.status == 415
    assert "application/json" in (await resp.json())["detail"]
    assert await _jobs(pool) == 0


async def test_cross_origin_write_is_refused_even_as_json(local, pool):
    resp = await local.post("/api/upload/schema", json={"apply": True}, headers={"Origin": "http://evil.example"})
    assert resp.status == 403
    assert "CORS_ORIGINS" in (await resp.json())["detail"]
    assert await _jobs(pool) == 0


async def test_foreign_host_is_refused_dns_rebinding(local, pool):
    for method, path in (("GET", "/api/jobs"), ("GET", "/api/health"), ("POST", "/api/etl/validate")):
        resp = await local.request(method, path, headers={"Host": "evil.example:8000"})
        assert resp.status == 421, path
    assert await _jobs(pool) == 0
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert (await local.get("/api/health", headers={"Host": host})).status == 200


async def test_same_origin_and_local_dev_origins_may_write(local):
    same = f"http://127.0.0.1:{local.port}"
    resp = await local.post("/api/etl/validate", json={}, headers={"Origin": same})
    assert resp.status == 202
    resp = await local.post("/api/etl/validate", json={"target": "database"}, headers={"Origin": "http://localhost:3000"})
    assert resp.status in (200, 202)
    assert resp.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


async def test_preflight_from_a_local_dev_origin_lists_methods_and_headers(local):
    for origin in ("http://localhost:3000", "http://127.0.0.1:8080", "http://localhost:8080", "http://127.0.0.1:3000"):
        resp = await local.options("/api/etl/trigger", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert resp.status == 204, origin
        assert resp.headers["Access-Control-Allow-Origin"] == origin
        assert {"POST", "PUT", "DELETE", "GET"} <= {m.strip() for m in resp.headers["Access-Control-Allow-Methods"].split(",")}
        allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"content-type", "authorization", "x-api-key"} <= allowed
    other = await local.options("/api/etl/trigger", headers={
        "Origin": "http://localhost:5000", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_configured_cors_origins_replace_the_local_defaults(pool, settings, db_url):
    app = create_app(pool, settings.model_copy(update={"api_auth": "off", "cors_origins": "https://portal.example"}),
                     db_url)
    async with TestClient(TestServer(app)) as client:
        resp = await client.post("/api/etl/validate", json={}, headers={"Origin": "https://portal.example"})
        assert resp.status == 202
        resp = await client.post("/api/etl/validate", json={}, headers={"Origin": "http://localhost:3000"})
        assert resp.status == 403


async def test_no_default_origins_when_the_api_listens_beyond_loopback(pool, settings, db_url):
    app = create_app(pool, settings.model_copy(update={"api_auth": "off", "api_host": "0.0.0.0"}), db_url)
    async with TestClient(TestServer(app)) as client:
        resp = await client.post("/api/etl/validate", json={}, headers={"Origin": "http://localhost:3000"})
        assert resp.status == 403


async def test_unknown_query_parameter_is_422_on_routes_without_query(local):
    for method, path in (("GET", "/api/health"), ("GET", "/api/staging/status"), ("POST", "/api/etl/validate"),
                         ("GET", "/api/openapi.json"), ("GET", f"/api/jobs/{uuid.uuid4()}")):
        resp = await local.request(method, path, params={"limt": "5"}, json={} if method == "POST" else None)
        assert resp.status == 422, path
        assert "limt" in str(await resp.json())


async def test_same_request_by_two_users_gives_two_jobs_and_no_leak(secured, pool):
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    first = await secured.post("/api/etl/validate", json={}, headers=user_token(alice))
    assert first.status == 202
    second = await secured.post("/api/etl/validate", json={}, headers=user_token(bob))
    assert second.status == 202, "Bob must get his own job, not Alice's"
    a, b = await first.json(), await second.json()
    assert a["job_id"] != b["job_id"] and b["requested_by"] == bob
    again = await secured.post("/api/etl/validate", json={}, headers=user_token(bob))
    assert again.status == 200 and (await again.json())["job_id"] == b["job_id"]


async def test_api_key_still_dedupes_across_callers(secured, pool):
    key = (await apikeys.create_key(pool, ["jobs:write"])).key
    first = await secured.post("/api/etl/validate", json={}, headers={"X-API-Key": key})
    second = await secured.post("/api/etl/validate", json={}, headers={"X-API-Key": key})
    assert (first.status, second.status) == (202, 200)


@pytest.mark.parametrize("path, body", [
    ("/api/upload/schema", {"apply": True}),
    ("/api/staging/blb", {"table": "dim_player", "rows": [{"player_id": "P1"}]}),
])
async def test_destructive_jobs_are_admin_only(secured, pool, path, body):
    user = await secured.post(path, json=body, headers=user_token(str(uuid.uuid4())))
    assert user.status == 403
    assert "admin" in (await user.json())["detail"]
    key = (await apikeys.create_key(pool, ["jobs:write"])).key
    assert (await secured.post(path, json=body, headers={"X-API-Key": key})).status == 403
    assert await _jobs(pool) == 0
    admin = await secured.post(path, json=body, headers=user_token(str(uuid.uuid4()), admin=True))
    assert admin.status == 202


async def test_harmless_variants_stay_open_to_users(secured):
    user = user_token(str(uuid.uuid4()))
    assert (await secured.post("/api/upload/schema", json={"apply": False}, headers=user)).status == 202
    resp = await secured.post("/api/staging/blb", json={"table": "dim_player", "rows": [], "replace": False},
                              headers=user)
    assert resp.status == 202


async def test_csv_table_upload_is_admin_only(secured):
    resp = await secured.post("/api/upload/tables", data=b"", headers=user_token(str(uuid.uuid4())))
    assert resp.status == 403
