"""What a signed-in user may ask of the queue when inserting rows directly (as a portal does through
PostgREST), on the real database: no priority jumps, no endless retries, no far-future squatting of a dedupe
key, no oversized params, and the warehouse-destroying requests only with the admin claim."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from daemon import database
from test_security_rls import acting_as, user

pytestmark = pytest.mark.db

ALICE = str(uuid.uuid4())


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await database.connect(db_url)
    yield conn
    await conn.close()


@pytest.mark.parametrize("column, insert, rpc", [
    ("priority", "insert into job_requests (kind, priority) values ('validate', 2147483647)",
     "select enqueue_job('validate', '{}'::jsonb, 2147483647)"),
    ("max_attempts", "insert into job_requests (kind, max_attempts) values ('validate', 2147483647)",
     "select enqueue_job('validate', '{}'::jsonb, 0, null, null, 2147483647)"),
    ("run_after", "insert into job_requests (kind, run_after) values ('validate', '9999-01-01')",
     "select enqueue_job('validate', '{}'::jsonb, 0, '9999-01-01')"),
])
async def test_user_cannot_jump_or_block_the_queue(conn, column, insert, rpc):
    for statement in (insert, rpc):
        async with acting_as(conn, "authenticated", user(ALICE)):
            with pytest.raises(asyncpg.CheckViolationError, match=column):
                await conn.execute(statement)


async def test_defaults_and_modest_values_are_accepted(conn):
    async with acting_as(conn, "authenticated", user(ALICE)):
        row = await conn.fetchrow("insert into job_requests (kind, priority, max_attempts, run_after) "
                                  "values ('validate', -1, 2, now() + interval '1 hour') returning *")
    assert (row["priority"], row["max_attempts"]) == (-1, 2)


async def test_admin_is_not_limited(conn):
    async with acting_as(conn, "authenticated", user(ALICE, admin=True)):
        row = await conn.fetchrow("insert into job_requests (kind, priority, dedupe_key) values ('validate', 10, 'k') "
                                  "returning priority, dedupe_key")
    assert tuple(row) == (10, "k")


async def test_user_dedupe_key_is_scoped_so_the_api_key_cannot_be_squatted(conn):
    api_key = "etl:" + "0" * 64
    async with acting_as(conn, "authenticated", user(ALICE)):
        stored = await conn.fetchval("insert into job_requests (kind, dedupe_key) values ('etl', $1) "
                                     "returning dedupe_key", api_key)
        twin = await conn.fetchrow("select (j).id, (j).dedupe_key from enqueue_job('etl', '{}'::jsonb, 0, null, $1) j",
                                   api_key)
        # the squat did not take the API's key: the daemon's own request still creates its job
        assert stored == twin["dedupe_key"] == f"user:{ALICE}:{api_key}"
        await conn.execute("reset role; select set_config('request.jwt.claims', '', true)")
        mine = await conn.fetchval("select (enqueue_job('etl', '{}'::jsonb, 0, null, $1)).requested_by", api_key)
        assert mine is None


async def test_oversized_params_are_refused(conn):
    params = {"game_ids": list(range(200_000))}
    async with acting_as(conn, "authenticated", user(ALICE)):
        with pytest.raises(asyncpg.ProgramLimitExceededError, match="params"):
            await conn.execute("insert into job_requests (kind, params) values ('etl', $1::jsonb)", params)


@pytest.mark.parametrize("kind, params", [
    ("schema", {"apply": True}),
    ("staging_blb", {"table": "dim_player"}),
    ("staging_blb", {"table": "dim_player", "replace": True}),
])
async def test_destroying_requests_need_the_admin_claim(conn, kind, params):
    async with acting_as(conn, "authenticated", user(ALICE)):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("insert into job_requests (kind, params) values ($1, $2::jsonb)", kind, params)
    async with acting_as(conn, "authenticated", user(ALICE, admin=True)):
        await conn.execute("insert into job_requests (kind, params) values ($1, $2::jsonb)", kind, params)


@pytest.mark.parametrize("kind, params", [
    ("schema", {"apply": False}),
    ("schema", {}),
    ("staging_blb", {"table": "dim_player", "replace": False}),
])
async def test_harmless_requests_stay_open(conn, kind, params):
    async with acting_as(conn, "authenticated", user(ALICE)):
        await conn.execute("insert into job_requests (kind, params) values ($1, $2::jsonb)", kind, params)
