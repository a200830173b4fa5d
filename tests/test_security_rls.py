"""Row-level security on the job tables, checked on the real database as Supabase's roles with JWT claims set
the way PostgREST sets them (SET ROLE + request.jwt.claims in one transaction)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from daemon import database, migrations
from daemon.config import PROJECT_ROOT
from daemon_harness import running_daemon, wait_for_status

pytestmark = pytest.mark.db

MIGRATIONS = PROJECT_ROOT / "supabase" / "migrations"

ALICE = str(uuid.uuid4())
BOB = str(uuid.uuid4())


@asynccontextmanager
async def acting_as(conn: asyncpg.Connection, role: str, claims: dict | None = None) -> AsyncIterator[None]:
    """One transaction as `role` with `claims`, rolled back at the end so a test can act as several people."""
    tr = conn.transaction()
    await tr.start()
    try:
        await conn.execute(f"set local role {role}")
        if claims is not None:
            await conn.execute("select set_config('request.jwt.claims', $1, true)", json.dumps(claims))
        yield
    finally:
        await tr.rollback()


def user(sub: str, *, admin: bool = False) -> dict:
    claims = {"sub": sub, "role": "authenticated", "aud": "authenticated"}
    if admin:
        claims["app_metadata"] = {"role": "admin"}
    return claims


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await database.connect(db_url)
    yield conn
    await conn.close()


async def insert_job(conn: asyncpg.Connection, kind: str, requested_by: str | None) -> uuid.UUID:
    """A job inserted by the owner (the daemon's connection), as another client would have left it."""
    return await conn.fetchval("insert into job_requests (kind, requested_by) values ($1, $2) returning id",
                               kind, requested_by)


async def test_anon_can_neither_read_nor_insert_jobs(conn):
    await insert_job(conn, "etl", ALICE)
    for statement in ("select count(*) from job_requests", "select count(*) from job_events",
                      "select count(*) from job_kinds", "insert into job_requests (kind) values ('etl')"):
        async with acting_as(conn, "anon", {"role": "anon"}):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)


async def test_user_request_is_stamped_with_their_uid(conn):
    async with acting_as(conn, "authenticated", user(ALICE)):
        direct = await conn.fetchval("insert into job_requests (kind, params) values ('etl', '{}') "
                                     "returning requested_by")
        via_function = await conn.fetchval("select (enqueue_job('validate', '{}'::jsonb)).requested_by")
        explicit = await conn.fetchval("insert into job_requests (kind, requested_by) values ('upload', $1) "
                                       "returning requested_by", ALICE)
    assert direct == via_function == explicit == ALICE


async def test_user_cannot_request_a_job_as_someone_else(conn):
    async with acting_as(conn, "authenticated", user(ALICE)):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await conn.execute("insert into job_requests (kind, requested_by) values ('etl', $1)", BOB)
    async with acting_as(conn, "authenticated", user(ALICE)):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await conn.fetchrow("select * from enqueue_job('etl', '{}'::jsonb, requested_by => $1)", BOB)


async def test_user_cannot_request_a_kind_not_open_to_users(conn):
    closed = await conn.fetchval("select kind from job_kinds where not user_allowed order by kind limit 1")
    assert closed is not None, "expected at least one kind closed to users (sleep)"
    async with acting_as(conn, "authenticated", user(ALICE)):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await conn.execute("insert into job_requests (kind) values ($1)", closed)
    async with acting_as(conn, "authenticated", user(ALICE, admin=True)):
        assert await conn.fetchval("insert into job_requests (kind) values ($1) returning kind", closed) == closed


async def test_user_cannot_choose_daemon_columns(conn):
    async with acting_as(conn, "authenticated", user(ALICE)):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("insert into job_requests (kind, status) values ('etl', 'completed')")


async def test_user_sees_only_their_own_requests_and_events(conn):
    mine = await insert_job(conn, "etl", ALICE)
    theirs = await insert_job(conn, "etl", BOB)
    anonymous = await insert_job(conn, "etl", None)
    async with acting_as(conn, "authenticated", user(ALICE)):
        seen = {r["id"] for r in await conn.fetch("select id from job_requests")}
        events = {r["job_id"] for r in await conn.fetch("select job_id from job_events")}
        workers = await conn.fetchval("select count(*) from job_workers")
    assert seen == {mine}
    assert events == {mine}
    assert theirs not in seen and anonymous not in seen
    assert workers == 0


async def test_admin_claim_sees_every_request(conn):
    ids = {await insert_job(conn, "etl", requester) for requester in (ALICE, BOB, None)}
    await conn.execute("select worker_seen('w1', '{}'::jsonb)")
    async with acting_as(conn, "authenticated", user(ALICE, admin=True)):
        seen = {r["id"] for r in await conn.fetch("select id from job_requests")}
        events = {r["job_id"] for r in await conn.fetch("select job_id from job_events")}
        workers = await conn.fetchval("select count(*) from job_workers")
    assert seen == ids
    assert events == ids
    assert workers == 1


async def test_admin_claim_in_user_metadata_grants_nothing(conn):
    await insert_job(conn, "etl", BOB)
    claims = user(ALICE) | {"user_metadata": {"role": "admin"}}
    async with acting_as(conn, "authenticated", claims):
        assert await conn.fetchval("select count(*) from job_requests") == 0


async def test_user_cannot_move_jobs_through_their_states(conn):
    await insert_job(conn, "etl", ALICE)
    for statement in ("update job_requests set status = 'completed'",
                      "delete from job_requests",
                      "select * from claim_jobs('w', array['etl'], 1, 10)",
                      "select request_cancel(id) from job_requests",
                      "insert into job_events (job_id, status) select id, 'completed' from job_requests"):
        async with acting_as(conn, "authenticated", user(ALICE)):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)


async def test_user_cancels_their_own_job_but_not_anothers(conn):
    mine = await insert_job(conn, "etl", ALICE)
    theirs = await insert_job(conn, "etl", BOB)
    async with acting_as(conn, "authenticated", user(ALICE)):
        assert await conn.fetchval("select request_cancel_as_user($1)", mine) == "cancelled"
        assert await conn.fetchval("select request_cancel_as_user($1)", theirs) is None
        await conn.execute("select set_config('request.jwt.claims', '', true)")
        await conn.execute("set local role none")
        statuses = dict(await conn.fetch("select id, status from job_requests"))
    assert statuses[mine] == "cancelled"
    assert statuses[theirs] == "pending"


async def test_admin_claim_cancels_anyones_job(conn):
    theirs = await insert_job(conn, "etl", BOB)
    async with acting_as(conn, "authenticated", user(ALICE, admin=True)):
        assert await conn.fetchval("select request_cancel_as_user($1)", theirs) == "cancelled"


async def test_service_role_sees_all_and_runs_the_daemon_functions(conn):
    ids = {await insert_job(conn, "etl", ALICE), await insert_job(conn, "validate", BOB)}
    async with acting_as(conn, "service_role", {"role": "service_role"}):
        assert {r["id"] for r in await conn.fetch("select id from job_requests")} == ids
        claimed = await conn.fetch("select * from claim_jobs('w', array['etl', 'validate'], 5, 30)")
        assert {r["id"] for r in claimed} == ids
        done = await conn.fetch("select * from finish_jobs('w', $1::uuid[], $2::text[], $3::jsonb[], $4::text[])",
                                [r["id"] for r in claimed], ["completed"] * len(claimed), [None] * len(claimed),
                                [None] * len(claimed))
        assert {r["status"] for r in done} == {"completed"}
        await conn.execute("select worker_seen('w', '{}'::jsonb)")
        await conn.execute("insert into api_keys (prefix, hash, scopes) values ('p', 'h', '{admin}')")


async def test_api_keys_are_invisible_to_clients(conn):
    await conn.execute("insert into api_keys (prefix, hash, scopes) values ('p', 'h', '{admin}')")
    for role, claims in (("anon", {"role": "anon"}), ("authenticated", user(ALICE, admin=True))):
        async with acting_as(conn, role, claims):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch("select * from api_keys")


async def test_security_migration_can_be_applied_again(conn):
    """Roles, helpers, policies and grants are all guarded, so a hand re-run (or a Supabase db push over a
    database migrated by benchsight) changes nothing and breaks nothing."""
    sql = (MIGRATIONS / "20261129000500_security.sql").read_text()
    policies_before = await conn.fetch("select tablename, policyname from pg_policies order by 1, 2")
    async with conn.transaction():
        await conn.execute(sql)
    assert await conn.fetch("select tablename, policyname from pg_policies order by 1, 2") == policies_before
    async with acting_as(conn, "authenticated", user(ALICE)):
        assert await conn.fetchval("insert into job_requests (kind) values ('etl') returning requested_by") == ALICE
        assert await conn.fetchval("select count(*) from job_events") == 1


async def _migrate(url: str) -> None:
    conn = await database.connect(url)
    try:
        await migrations.migrate(conn, MIGRATIONS)
    finally:
        await conn.close()


async def test_job_tables_join_the_supabase_realtime_publication_when_it_exists(empty_db_url):
    conn = await database.connect(empty_db_url)
    try:
        await conn.execute("create publication supabase_realtime")
        await _migrate(empty_db_url)
        tables = {r["tablename"] for r in await conn.fetch(
            "select tablename from pg_publication_tables where pubname = 'supabase_realtime'")}
    finally:
        await conn.close()
    assert {"job_requests", "job_events", "job_workers"} <= tables
    assert "api_keys" not in tables


async def test_existing_supabase_auth_helpers_are_kept(empty_db_url):
    fixed = str(uuid.uuid4())
    conn = await database.connect(empty_db_url)
    try:
        await conn.execute("create schema auth")  # as Supabase has it, roles included
        await conn.execute("do $$ begin if not exists (select from pg_roles where rolname = 'authenticated') then "
                           "create role authenticated nologin; end if; "
                           "exception when duplicate_object or unique_violation then null; end $$")
        await conn.execute("grant usage on schema auth to authenticated")
        await conn.execute("create function auth.uid() returns uuid language sql stable "
                           f"as $$ select '{fixed}'::uuid $$")
        await conn.execute("create function auth.jwt() returns jsonb language sql stable as $$ select '{}'::jsonb $$")
        await _migrate(empty_db_url)
        async with acting_as(conn, "authenticated", user(ALICE)):
            stamped = await conn.fetchval("insert into job_requests (kind) values ('etl') returning requested_by")
    finally:
        await conn.close()
    assert stamped == fixed


@pytest.fixture
def service_login_url(db_url: str) -> Iterator[str]:
    """db_url as a fresh login role that is a member of service_role, the way a daemon would connect when it
    is not the table owner. Role attributes (BYPASSRLS) are not inherited, so the explicit service_role policies
    and grants are what let it work."""
    name = f"bs_daemon_{uuid.uuid4().hex[:8]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(db_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f"create role {name} login inherit in role service_role"))
    yield urlunsplit(urlsplit(db_url)._replace(netloc=f"{name}@{urlsplit(db_url).netloc.rpartition('@')[2]}"))
    asyncio.run(run(f"drop role {name}"))


async def test_daemon_connected_as_a_service_role_member_runs_jobs(settings, pool, service_login_url):
    role = urlsplit(service_login_url).username
    job_id = await insert_job(pool, "sleep", None)
    async with running_daemon(settings, database_url=service_login_url):
        done = await wait_for_status(pool, job_id, "completed")
        sessions = await pool.fetchval("select count(*) from pg_stat_activity where usename = $1", role)
    assert sessions > 0
    assert not await pool.fetchval("select rolbypassrls or rolsuper from pg_roles where rolname = $1", role)
    assert done["attempts"] == 1
    workers = await pool.fetchval("select count(*) from job_workers where worker = $1", settings.worker_id)
    assert workers == 1


async def test_uploaded_warehouse_is_readable_by_clients_and_staging_is_not(settings, pool):
    """Dashboards read league stats with the anon key; nobody but the daemon touches staging or writes."""
    from daemon import queries
    from daemon_harness import running_daemon, wait_for_status
    from handlers_output import write_catalog_output

    write_catalog_output(settings.output_dir, rows=5, tag="a")
    job = await queries.enqueue_job(pool, "upload", {"mode": "tables", "tables": ["dim_team"]})
    async with running_daemon(settings):
        done = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
    assert done["status"] == "completed", done["error"]
    async with pool.acquire() as conn:
        for role in ("anon", "authenticated"):
            async with conn.transaction():
                await conn.execute(f"set local role {role}")
                assert await conn.fetchval("select count(*) from public.dim_team") == 5
                for statement in ("delete from public.dim_team", "select count(*) from public.stage_events",
                                  "select count(*) from public.warehouse_loads"):
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        async with conn.transaction():
                            await conn.execute(statement)


CLIENT_WRITTEN = {
    "tracker_videos": "insert into tracker_videos (game_id, video_url) values (18969, 'https://youtu.be/x')",
    "stage_events_tracking": "insert into stage_events_tracking (game_id, period, type, start_time) "
                             "values (18969, 1, 'Shot', '12:00')",
    "stage_shifts_tracking": "insert into stage_shifts_tracking (game_id, period, start_time) values (18969, 1, '18:00')",
}


@pytest.mark.parametrize("table", list(CLIENT_WRITTEN))
async def test_dashboard_tracker_tables_admins_write_users_read_anon_nothing(conn, table):
    """The tracker pages insert and delete as an admin; a signed-in user reads; anon is refused."""
    async with acting_as(conn, "authenticated", user(ALICE, admin=True)):
        await conn.execute(CLIENT_WRITTEN[table])
        await conn.execute(CLIENT_WRITTEN[table])
        assert await conn.execute(f"delete from {table} where id = (select min(id) from {table})") == "DELETE 1"
        assert await conn.fetchval(f"select count(*) from {table}") == 1
    await conn.execute(CLIENT_WRITTEN[table])  # the daemon's row, visible to every signed-in user
    async with acting_as(conn, "authenticated", user(BOB)):
        assert await conn.fetchval(f"select count(*) from {table} where game_id = 18969") == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute(CLIENT_WRITTEN[table])
        assert await conn.execute(f"delete from {table}") == "DELETE 0"  # RLS: an ordinary user deletes nothing
    async with acting_as(conn, "anon"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval(f"select count(*) from {table}")


async def test_staged_schedule_and_roster_carry_the_columns_the_tracker_reads(conn):
    await conn.execute("insert into stage_dim_schedule (row_no, data) values "
                       "(1, '{\"game_id\": 18969.0, \"date\": \"2025-09-07\", \"home_team_name\": \"Platinum\", "
                       "\"away_team_name\": \"Velodrome\"}'), (2, '{\"game_id\": \"bad\", \"date\": \"soon\"}')")
    await conn.execute("insert into stage_fact_gameroster (row_no, data) values "
                       "(1, '{\"game_id\": 18969, \"player_game_number\": 70, \"player_full_name\": \"Sam Downs\"}')")
    async with acting_as(conn, "anon"):
        rows = await conn.fetch("select game_id, game_date::text, home_team, away_team from stage_dim_schedule "
                                "order by row_no")
        roster = await conn.fetchrow("select game_id, player_game_number, player_full_name from stage_fact_gameroster")
    assert [tuple(r) for r in rows] == [(18969, "2025-09-07", "Platinum", "Velodrome"), (None, None, None, None)]
    assert tuple(roster) == (18969, "70", "Sam Downs")
