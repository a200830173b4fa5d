"""The job contract in SQL: what any client (portal, API, daemon, psql) sees when calling the functions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from daemon import database, migrations, queries
from daemon.config import PROJECT_ROOT

pytestmark = pytest.mark.db
MIGRATIONS = PROJECT_ROOT / "supabase" / "migrations"


async def test_migrations_apply_once_and_second_run_changes_nothing(empty_db_url):
    conn = await database.connect(empty_db_url)
    try:
        first = await migrations.migrate(conn, MIGRATIONS)
        tables_before = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
        second = await migrations.migrate(conn, MIGRATIONS)
        recorded = await conn.fetch("select version, name from supabase_migrations.schema_migrations order by 1")
        tables_after = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
    finally:
        await conn.close()
    assert first == [m.version for m in migrations.discover(MIGRATIONS)]
    assert second == []
    assert [r["version"] for r in recorded] == first
    assert tables_before == tables_after


async def test_migration_runner_rejects_misnamed_file(tmp_path):
    (tmp_path / "create_things.sql").write_text("select 1;")
    with pytest.raises(ValueError, match="YYYYMMDDHHMMSS_name.sql"):
        migrations.discover(tmp_path)


async def test_missing_migrations_folder_is_an_error_not_up_to_date(tmp_path):
    with pytest.raises(ValueError, match="BENCHSIGHT_MIGRATIONS_DIR"):
        migrations.discover(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no migrations"):
        migrations.discover(tmp_path)


async def test_failed_migration_rolls_back_and_is_not_recorded(empty_db_url, tmp_path):
    (tmp_path / "20990101000000_ok.sql").write_text("create table ok_table (id int);")
    (tmp_path / "20990101000001_broken.sql").write_text("create table half (id int); select no_such_function();")
    conn = await database.connect(empty_db_url)
    try:
        with pytest.raises(RuntimeError, match="20990101000001_broken.sql"):
            await migrations.migrate(conn, tmp_path)
        assert await conn.fetchval("select to_regclass('public.ok_table') is not null")
        assert await conn.fetchval("select to_regclass('public.half') is null")
        assert await migrations.pending_versions(conn, tmp_path) == ["20990101000001"]
    finally:
        await conn.close()


async def test_unknown_kind_and_non_object_params_are_rejected(pool):
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await pool.execute("insert into job_requests(kind) values ('no_such_kind')")
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute("insert into job_requests(kind, params) values ('sleep', '[1,2]')")


async def test_claim_takes_highest_priority_then_oldest(pool):
    low = await queries.enqueue_job(pool, "sleep", {}, priority=0)
    high = await queries.enqueue_job(pool, "sleep", {}, priority=10)
    later_low = await queries.enqueue_job(pool, "sleep", {}, priority=0)
    claimed = []
    for _ in range(3):
        rows = await queries.claim_jobs(pool, "w", ["sleep"], 1, 30)
        claimed.append(rows[0]["id"])
    assert claimed == [high["id"], low["id"], later_low["id"]]


async def test_claim_skips_jobs_whose_run_after_is_in_the_future(pool):
    await queries.enqueue_job(pool, "sleep", {}, run_after=await pool.fetchval("select now() + interval '1 hour'"))
    assert await queries.claim_jobs(pool, "w", ["sleep"], 10, 30) == []


async def test_concurrent_claims_never_return_the_same_job(pool, db_url):
    await pool.execute("insert into job_requests(kind) select 'sleep' from generate_series(1, 300)")
    conns = [await database.connect(db_url) for _ in range(6)]
    try:
        async def claim_all(conn, worker):
            got = []
            while rows := await conn.fetch("select id from claim_jobs($1, array['sleep'], 7, 30)", worker):
                got += [r["id"] for r in rows]
            return got

        results = await asyncio.gather(*(claim_all(c, f"w{i}") for i, c in enumerate(conns)))
    finally:
        for conn in conns:
            await conn.close()
    ids = [i for batch in results for i in batch]
    assert len(ids) == 300 and len(set(ids)) == 300


async def test_claim_query_uses_the_claim_index_whatever_the_backlog(pool):
    await pool.execute("insert into job_requests(kind) select 'sleep' from generate_series(1, 5000)")
    await pool.execute("analyze job_requests")
    lines = "\n".join(r[0] for r in await pool.fetch(
        "explain select id from job_requests where status = 'pending' and run_after <= now() "
        "and kind = any(array['sleep']) order by priority desc, run_after, created_at limit 10 for update skip locked"
    ))
    assert "job_requests_claim_idx" in lines and "Sort" not in lines


# Documented backoff (job_retry_delay): after failed attempt n the job waits 2^(n-1)..2^n s, capped at 10 minutes
# (300..600 s once 2^n passes 600).
BACKOFF_RANGES = {n: (2.0 ** (n - 1), 2.0 ** n) if 2 ** n <= 600 else (300.0, 600.0) for n in range(1, 13)}


async def test_failed_attempts_are_retried_after_1_2_then_2_4_then_4_8_seconds_capped_at_10_minutes(pool):
    """run_after read after each failure (no sleeping): each delay lies in its documented range."""
    attempts = max(BACKOFF_RANGES) + 1
    job = await queries.enqueue_job(pool, "sleep", {}, max_attempts=attempts)
    for attempt in range(1, attempts + 1):
        await pool.execute("update job_requests set run_after = now() where id = $1", job["id"])
        [claimed] = await queries.claim_jobs(pool, "w", ["sleep"], 1, 30)
        assert claimed["attempts"] == attempt
        status = await pool.fetchval("select finish_job($1, 'w', 'failed', null, 'boom')", job["id"])
        row = await queries.get_job(pool, job["id"])
        if attempt < attempts:
            low, high = BACKOFF_RANGES[attempt]
            delay = (row["run_after"] - row["updated_at"]).total_seconds()  # both are the finish's now()
            assert status == "pending" and low <= delay <= high, (attempt, delay, (low, high))
        else:
            assert status == "failed" and row["error"] == "boom" and row["finished_at"] is not None


async def test_backoff_draws_cover_each_documented_range_and_never_leave_it(pool):
    rows = await pool.fetch("""
        select n, min(s) as low, max(s) as high from (
            select n, extract(epoch from public.job_retry_delay(n))::float8 as s
            from generate_series(1, 12) n, generate_series(1, 2000)) d
        group by n order by n""")
    for r in rows:
        low, high = BACKOFF_RANGES[r["n"]]
        assert low <= r["low"] < low * 1.02 and high * 0.98 < r["high"] <= high, (r["n"], r["low"], r["high"])


async def test_failure_without_retry_fails_at_once(pool):
    job = await queries.enqueue_job(pool, "sleep", {})
    await queries.claim_jobs(pool, "w", ["sleep"], 1, 30)
    status = await pool.fetchval("select finish_job($1, 'w', 'failed', null, 'bad input', false)", job["id"])
    assert status == "failed"


async def test_only_the_lease_holder_can_change_a_running_job(pool):
    job = await queries.enqueue_job(pool, "sleep", {})
    await queries.claim_jobs(pool, "owner", ["sleep"], 1, 30)
    assert await pool.fetchval("select finish_job($1, 'intruder', 'completed')", job["id"]) is None
    with pytest.raises(asyncpg.PostgresError, match="not held"):
        await pool.fetchval("select report_progress($1, 'intruder', 'processing', 50, 'x', null)", job["id"])
    with pytest.raises(asyncpg.PostgresError, match="not held"):
        await pool.fetchval("select heartbeat_job($1, 'intruder', 30)", job["id"])
    assert (await queries.get_job(pool, job["id"]))["status"] == "running"
    assert await pool.fetchval("select finish_job($1, 'owner', 'completed', '{\"ok\": 1}')", job["id"]) == "completed"


async def test_expired_lease_is_taken_back_and_counts_as_an_attempt(pool):
    job = await queries.enqueue_job(pool, "sleep", {}, max_attempts=2)
    await queries.claim_jobs(pool, "dead", ["sleep"], 1, 30)
    await pool.execute("update job_requests set locked_until = now() - interval '1 second' where id = $1", job["id"])
    [again] = await queries.claim_jobs(pool, "alive", ["sleep"], 1, 30)
    assert again["id"] == job["id"] and again["attempts"] == 2 and again["locked_by"] == "alive"
    await pool.execute("update job_requests set locked_until = now() - interval '1 second' where id = $1", job["id"])
    assert await queries.claim_jobs(pool, "third", ["sleep"], 1, 30) == []
    row = await queries.get_job(pool, job["id"])
    assert row["status"] == "failed" and "lease expired" in row["error"]


async def test_heartbeat_extends_the_lease_and_reports_cancel(pool):
    job = await queries.enqueue_job(pool, "sleep", {})
    [claimed] = await queries.claim_jobs(pool, "w", ["sleep"], 1, 5)
    assert await pool.fetchval("select heartbeat_job($1, 'w', 120)", job["id"]) is False
    row = await queries.get_job(pool, job["id"])
    assert row["locked_until"] - claimed["locked_until"] > timedelta(seconds=100)
    assert await queries.request_cancel(pool, job["id"]) == "running"
    assert await pool.fetchval("select heartbeat_job($1, 'w', 120)", job["id"]) is True


async def test_cancel_of_pending_job_is_immediate_and_of_ended_job_changes_nothing(pool):
    job = await queries.enqueue_job(pool, "sleep", {})
    assert await queries.request_cancel(pool, job["id"]) == "cancelled"
    assert await queries.claim_jobs(pool, "w", ["sleep"], 5, 30) == []
    assert await queries.request_cancel(pool, job["id"]) == "cancelled"
    unknown = await pool.fetchval("select gen_random_uuid()")
    assert await queries.request_cancel(pool, unknown) is None


async def test_dedupe_key_returns_the_active_twin_until_it_ends(pool):
    first = await queries.enqueue_job(pool, "sleep", {"seconds": 1}, dedupe_key="nightly")
    twin = await queries.enqueue_job(pool, "sleep", {"seconds": 2}, dedupe_key="nightly")
    assert twin["id"] == first["id"]
    await queries.claim_jobs(pool, "w", ["sleep"], 1, 30)
    assert (await queries.enqueue_job(pool, "sleep", {}, dedupe_key="nightly"))["id"] == first["id"]
    await pool.execute("select finish_job($1, 'w', 'completed')", first["id"])
    fresh = await queries.enqueue_job(pool, "sleep", {}, dedupe_key="nightly")
    assert fresh["id"] != first["id"]


async def test_every_state_change_writes_a_history_row(pool):
    job = await queries.enqueue_job(pool, "sleep", {})
    await queries.claim_jobs(pool, "w", ["sleep"], 1, 30)
    await pool.execute("select report_progress($1, 'w', 'processing', 40, 'halfway', 'm')", job["id"])
    await pool.execute("select heartbeat_job($1, 'w', 30)", job["id"])
    await pool.execute("select finish_job($1, 'w', 'completed')", job["id"])
    events = await pool.fetch("select status, progress, message from job_events where job_id = $1 order by id",
                              job["id"])
    assert [(e["status"], e["message"]) for e in events] == [
        ("pending", "created"), ("running", "claimed"), ("processing", "m"), ("processing", "heartbeat"),
        ("completed", "completed"),
    ]
    assert events[2]["progress"] == 40


async def test_insert_and_retry_notify_the_job_requests_channel(pool, db_url):
    listener = await database.connect(db_url)
    heard: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener("job_requests", lambda *args: heard.put_nowait(args[3]))
    try:
        job = await queries.enqueue_job(pool, "sleep", {})
        assert await asyncio.wait_for(heard.get(), 5) == str(job["id"])
        await queries.claim_jobs(pool, "w", ["sleep"], 1, 30)
        await pool.execute("select finish_job($1, 'w', 'failed', null, 'x')", job["id"])
        assert await asyncio.wait_for(heard.get(), 5) == str(job["id"])
    finally:
        await listener.close()


async def test_warehouse_writers_run_one_at_a_time_across_workers(pool):
    first = await queries.enqueue_job(pool, "etl", {})
    second = await queries.enqueue_job(pool, "upload", {})
    a = await queries.claim_jobs(pool, "a", ["etl", "upload", "sleep"], 10, 30)
    b = await queries.claim_jobs(pool, "b", ["etl", "upload", "sleep"], 10, 30)
    assert [r["id"] for r in a] == [first["id"]] and b == []
    await pool.execute("select finish_job($1, 'a', 'completed')", first["id"])
    c = await queries.claim_jobs(pool, "b", ["etl", "upload"], 10, 30)
    assert [r["id"] for r in c] == [second["id"]]


async def test_rejected_request_is_recorded_as_a_failed_job_with_history(pool):
    job_id = await pool.fetchval("select reject_job('staging_tracking', '{\"file\": \"x.txt\"}', "
                                 "'x.txt: not a tracker workbook or JSON export', 'k1', 'watch')")
    row = await queries.get_job(pool, job_id)
    assert (row["status"], row["attempts"], row["requested_by"]) == ("failed", 0, "watch")
    assert row["error"].startswith("x.txt") and row["finished_at"] is not None
    assert await queries.claim_jobs(pool, "w", ["staging_tracking"], 5, 30) == []
    messages = [r["message"] for r in await pool.fetch(
        "select message from job_events where job_id = $1 and level = 'error'", job_id)]
    assert messages == ["x.txt: not a tracker workbook or JSON export"]
