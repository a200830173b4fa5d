"""Authorization on the real routes, taken from the app's router (a new route is covered without editing
this file): every route is called without credentials, with a jobs:read key, a jobs:write key, a signed-in
user who does not own the job, and as admin (key and JWT); the status each must get follows from the scope
the route declares (daemon.http.routing.Route.scope). Streams included: their status is read from the
headers, then the stream is closed."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from daemon import apikeys
from daemon.http import create_app
from daemon.http.app import all_routes

pytestmark = pytest.mark.db

SECRET = "route-access-" + uuid.uuid4().hex
OWNER = str(uuid.uuid4())
# Routes the app adds beside its declared ones: the API document and its page.
UNDECLARED_PUBLIC = {("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/api/docs/{asset}"),
                     ("GET", "/portal")}  # the admin page: static files, no data
CALLERS = ("nobody", "read_key", "write_key", "other_user", "admin_key", "admin_user")
_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _jwt(sub: str, *, admin: bool = False) -> str:
    claims = {"sub": sub, "role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + 600}
    if admin:
        claims["app_metadata"] = {"role": "admin"}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def expected(scope: str, caller: str, names_a_job: bool) -> str:
    """'401', '403', '404' (the job is hidden from a user who does not own it), or 'allowed' (anything but
    401, 403 and 5xx: the route ran, and may still refuse the input)."""
    if scope == "public":
        return "allowed"
    if caller == "nobody":
        return "401"
    holds = {"read_key": {"jobs:read"}, "write_key": {"jobs:write"}, "other_user": {"jobs:read", "jobs:write"},
             "admin_key": {"admin"}, "admin_user": {"admin"}}[caller]
    if scope not in holds and "admin" not in holds:
        return "403"
    if caller == "other_user" and names_a_job:
        return "404"
    return "allowed"


def _matches(want: str, status: int) -> bool:
    if want == "allowed":
        # 501: a route of the old API whose model the league's data cannot support says so (by design)
        return status not in (401, 403) and (status < 500 or status == 501)
    return status == int(want)


@pytest.fixture
async def setup(pool, settings, db_url) -> AsyncIterator[tuple[TestClient, dict[str, dict], str]]:
    app = create_app(pool, settings.model_copy(update={
        "api_auth": "required", "supabase_jwt_secret": SecretStr(SECRET), "api_rate_limit_per_minute": 0}),
        db_url, sse_heartbeat_seconds=0.2)
    headers = {
        "nobody": {},
        "read_key": {"X-API-Key": (await apikeys.create_key(pool, ["jobs:read"])).key},
        "write_key": {"X-API-Key": (await apikeys.create_key(pool, ["jobs:write"])).key},
        "other_user": {"Authorization": f"Bearer {_jwt(str(uuid.uuid4()))}"},
        "admin_key": {"X-API-Key": (await apikeys.create_key(pool, ["admin"])).key},
        "admin_user": {"Authorization": f"Bearer {_jwt(str(uuid.uuid4()), admin=True)}"},
    }
    async with TestClient(TestServer(app)) as client:
        yield client, headers, OWNER


def _scopes() -> dict:
    """handler -> declared scope, for every route the route modules declare."""
    return {route.handler: route.scope for route in all_routes()}


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_route_answers_each_caller_as_its_scope_says(setup, pool, caller):
    client, headers, owner = setup
    scopes = _scopes()
    checked, wrong = 0, []
    for route in client.app.router.routes():
        method, path = route.method, route.resource.canonical
        if method in ("HEAD", "OPTIONS", "*"):
            continue
        if route.handler in scopes:
            scope = scopes[route.handler]
        else:
            assert (method, path) in UNDECLARED_PUBLIC, f"{method} {path} is not declared through routing.Routes"
            scope = "public"
        # a fresh job of another user per request: a cancel or a finished stream never changes the next call
        job_id = await pool.fetchval("insert into job_requests (kind, requested_by) values ('sleep', $1) "
                                     "returning id", owner)
        names = _PATH_PARAM.findall(path)
        url = _PATH_PARAM.sub(lambda m: str(job_id) if m.group(1) == "job_id" else "dim_player", path)
        body = {} if method in ("POST", "PUT", "PATCH", "DELETE") else None
        async with client.request(method, url, headers=headers[caller], json=body) as resp:
            status = resp.status
        want = expected(scope, caller, "job_id" in names)
        checked += 1
        if not _matches(want, status):
            wrong.append(f"{method} {path} (scope {scope}) as {caller}: {status}, expected {want}")
    assert checked >= 20
    assert not wrong, "\n".join(wrong)
