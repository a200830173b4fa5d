"""Guards of the job contract that a regression could otherwise slip past: daemon-owned columns, the warehouse
group, per-kind limits from the environment, new kinds closed to users, and 500 answers without internals."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from daemon import database, queries
from daemon.config import Settings
from daemon.http import create_app
from daemon_harness import running_daemon, wait_for_status

pytestmark = pytest.mark.db

ALICE = str(uuid.uuid4())
# What a client may set on insert (README, "Who may touch the job tables"); every other column is the daemon's.
CLIENT_COLUMNS = {"kind", "params", "priority", "run_after", "dedupe_key", "max_attempts", "requested_by"}
WAREHOUSE_WRITERS = ("etl", "upload", "schema")


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await database.connect(db_url)
    yield conn
    await conn.close()


async def _as_alice(conn: asyncpg.Connection, statement: str, *args) -> None:
    """Run one statement as the signed-in user Alice (as PostgREST would), rolled back afterwards."""
    tr = conn.transaction()
    await tr.start()
    try:
        await conn.execute("set local role authenticated")
        await conn.execute("select set_config('request.jwt.claims', $1, true)",
                           json.dumps({"sub": ALICE, "role": "authenticated", "aud": "authenticated"}))
        await conn.execute(statement, *args)
    finally:
        await tr.rollback()


async def test_user_can_set_no_daemon_owned_column_on_insert_or_update(conn):
    columns = [r["column_name"] for r in await conn.fetch(
        "select column_name from information_schema.columns where table_schema = 'public' "
        "and table_name = 'job_requests' order by ordinal_position")]
    daemon_columns = [c for c in columns if c not in CLIENT_COLUMNS]
    assert {"id", "status", "attempts", "locked_by", "locked_until", "result", "error", "progress",
            "cancel_requested", "started_at", "finished_at"} <= set(daemon_columns)
    own = await conn.fetchval("insert into job_requests (kind, requested_by) values ('etl', $1) returning id", ALICE)
    allowed = []
    for column in daemon_columns:
        try:
            await _as_alice(conn, f'insert into job_requests (kind, "{column}") values (\'etl\', null)')
        except asyncpg.InsufficientPrivilegeError:
            pass
        except asyncpg.PostgresError as exc:  # got past the privilege check: a constraint or trigger refused
            allowed.append(f"insert {column} ({type(exc).__name__})")
        else:
            allowed.append(f"insert {column}")
        try:
            await _as_alice(conn, f'update job_requests set "{column}" = "{column}" where id = $1', own)
        except asyncpg.InsufficientPrivilegeError:
            pass
        else:
            allowed.append(f"update {column}")
    assert not allowed, f"a signed-in user may write daemon-owned columns: {allowed}"


async def test_a_new_job_kind_starts_closed_to_users(conn):
    await conn.execute("insert into job_kinds (kind, description) values ('brand_new', 'added by a migration')")
    assert await conn.fetchval("select user_allowed from job_kinds where kind = 'brand_new'") is False
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await _as_alice(conn, "insert into job_requests (kind) values ('brand_new')")
    await _as_alice(conn, "insert into job_requests (kind) values ('validate')")  # an open kind still works


@pytest.mark.parametrize("first, second", [(a, b) for a in WAREHOUSE_WRITERS for b in WAREHOUSE_WRITERS])
async def test_warehouse_writers_schema_included_run_one_at_a_time(pool, first, second):
    one = await queries.enqueue_job(pool, first, {})
    two = await queries.enqueue_job(pool, second, {})
    kinds = [*WAREHOUSE_WRITERS, "sleep"]
    a = await queries.claim_jobs(pool, "a", kinds, 10, 30)
    b = await queries.claim_jobs(pool, "b", kinds, 10, 30)
    assert [r["id"] for r in a] == [one["id"]] and b == []
    await pool.execute("select finish_job($1, 'a', 'completed')", one["id"])
    c = await queries.claim_jobs(pool, "b", kinds, 10, 30)
    assert [r["id"] for r in c] == [two["id"]]


async def test_kind_concurrency_is_read_from_the_environment(monkeypatch, settings, pool):
    monkeypatch.setenv("BENCHSIGHT_KIND_CONCURRENCY", '{"sleep": 2, "etl": 1}')
    from_env = Settings(DATABASE_URL=settings.database_url, BENCHSIGHT_DATA_DIR=settings.data_dir,
                        BENCHSIGHT_SWEEP_SECONDS=0.2, BENCHSIGHT_WORKER_ID="env-limits")
    assert from_env.kind_concurrency == {"sleep": 2, "etl": 1}
    ids = [(await queries.enqueue_job(pool, "sleep", {"seconds": 0.4}))["id"] for _ in range(6)]
    most = 0
    async with running_daemon(from_env):
        while await pool.fetchval("select count(*) from job_requests where status <> 'completed'"):
            most = max(most, await pool.fetchval("select count(*) from job_requests where status = 'running'"))
        for job_id in ids:
            await wait_for_status(pool, job_id, "completed")
    assert most == 2


async def test_an_unexpected_error_is_a_500_without_internals(pool, settings, db_url):
    secret = "postgresql://daemon:hunter2@db.internal/prod"

    @web.middleware
    async def explode(request, handler):
        raise RuntimeError(f"cannot reach {secret}")

    app = create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url, middlewares=[explode])
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/api/health")
        body = await resp.text()
    assert resp.status == 500 and resp.content_type == "application/json"
    assert json.loads(body) == {"detail": "internal error"}
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
