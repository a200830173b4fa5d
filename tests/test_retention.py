"""Retention on the real database: old finished jobs and their history go in batches, pending/running/recent
ones stay, the newest ETL runs stay whatever their age, one daemon prunes at a time, claims are not held up."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon.http import create_app
from daemon.retention import Retention, prune, prune_loop, take_lease

pytestmark = pytest.mark.db

DEFAULT = Retention(timedelta(days=30), timedelta(days=90), keep_etl_runs=20, batch=1000)


async def _job(pool, status: str, *, age_days: float = 0, kind: str = "sleep", created_days: float | None = None):
    """A job in `status` that ended (or was created, for active ones) age_days ago, with its history rows."""
    row = await pool.fetchrow("select id from enqueue_job($1, '{}'::jsonb)", kind)
    ended = status in ("completed", "failed", "cancelled")
    created = created_days if created_days is not None else age_days
    await pool.execute(
        "update job_requests set status = $2, finished_at = case when $3 then now() - make_interval(days => $4) end, "
        "created_at = now() - make_interval(days => $5) where id = $1",
        row["id"], status, ended, float(age_days), float(created))
    await pool.execute("insert into job_events (job_id, status, message) values ($1, $2, 'extra')", row["id"], status)
    return row["id"]


async def _exists(pool, job_id) -> bool:
    return await pool.fetchval("select exists(select 1 from job_requests where id = $1)", job_id)


async def _events(pool, job_id) -> int:
    return await pool.fetchval("select count(*) from job_events where job_id = $1", job_id)


async def _bulk_finished(pool, n: int, *, age_days: float, status: str = "completed") -> None:
    """n finished jobs with three history rows each, inserted in one statement (as a busy queue leaves them)."""
    await pool.execute(
        """with j as (
               insert into job_requests (kind, status, finished_at, created_at)
               select 'sleep', $2, now() - make_interval(days => $3), now() - make_interval(days => $3)
               from generate_series(1, $1) returning id)
           insert into job_events (job_id, status, message)
           select j.id, s.status, s.message from j,
               (values ('running', 'claimed'), ($2, 'finished')) s(status, message)""",
        n, status, float(age_days))


async def test_old_finished_jobs_and_their_events_go_and_active_or_recent_ones_stay(pool):
    old_completed = await _job(pool, "completed", age_days=31)
    old_cancelled = await _job(pool, "cancelled", age_days=31)
    recent_completed = await _job(pool, "completed", age_days=29)
    failed_60 = await _job(pool, "failed", age_days=60)
    failed_91 = await _job(pool, "failed", age_days=91)
    old_pending = await _job(pool, "pending", created_days=400)
    old_running = await _job(pool, "running", created_days=400)
    doomed_events = sum([await _events(pool, j) for j in (old_completed, old_cancelled, failed_91)])
    assert doomed_events >= 6

    result = await prune(pool, DEFAULT, worker="test")

    assert result.jobs == 3
    for gone in (old_completed, old_cancelled, failed_91):
        assert not await _exists(pool, gone)
        assert await _events(pool, gone) == 0
    for kept in (recent_completed, failed_60, old_pending, old_running):
        assert await _exists(pool, kept)
        assert await _events(pool, kept) >= 2
    assert result.events == doomed_events
    last = await pool.fetchrow("select * from prune_runs order by id desc limit 1")
    assert (last["jobs"], last["events"], last["worker"]) == (3, result.events, "test")


async def test_a_zero_retention_keeps_that_class_forever(pool):
    old_completed = await _job(pool, "completed", age_days=3000)
    old_failed = await _job(pool, "failed", age_days=3000)
    keep_completed = Retention(None, timedelta(days=90), keep_etl_runs=0, batch=100)
    assert (await prune(pool, keep_completed, worker="test")).jobs == 1
    assert await _exists(pool, old_completed) and not await _exists(pool, old_failed)
    keep_all = Retention(None, None, keep_etl_runs=0, batch=100)
    assert (await prune(pool, keep_all, worker="test")).jobs == 0
    assert await _exists(pool, old_completed)


async def test_the_newest_etl_runs_stay_whatever_their_age(pool):
    etl = [await _job(pool, "completed", age_days=100 + i, kind="etl") for i in range(25)]  # etl[0] newest
    result = await prune(pool, Retention(timedelta(days=30), timedelta(days=90), keep_etl_runs=20, batch=7),
                         worker="test")
    assert result.jobs == 5 and result.batches == 1
    remaining = {r["id"] for r in await pool.fetch("select id from job_requests where kind = 'etl'")}
    assert remaining == set(etl[:20])


async def test_prune_deletes_in_batches_until_nothing_is_left(pool):
    await _bulk_finished(pool, 2_500, age_days=40)
    events = await pool.fetchval("select count(*) from job_events")
    result = await prune(pool, Retention(timedelta(days=30), None, keep_etl_runs=0, batch=1_000), worker="test")
    assert (result.jobs, result.events, result.batches) == (2_500, events, 3)
    assert await pool.fetchval("select count(*) from job_requests") == 0
    assert await pool.fetchval("select count(*) from job_events") == 0


async def test_only_one_worker_holds_the_prune_lease_until_it_expires(pool):
    assert await take_lease(pool, "host-a", 1.0)
    assert not await take_lease(pool, "host-b", 1.0)
    assert await take_lease(pool, "host-a", 1.0)  # the holder renews
    await asyncio.sleep(1.2)
    assert await take_lease(pool, "host-b", 1.0)
    assert not await take_lease(pool, "host-a", 1.0)


async def test_two_daemons_never_prune_at_the_same_time(pool, settings):
    """Two pruner loops on one database while old jobs keep arriving: their prune runs never overlap, and one
    daemon's prune never waits for the other's (each pass either prunes or skips at once)."""
    fast = settings.model_copy(update={"prune_interval_seconds": 0.4, "prune_batch": 100,
                                       "retain_completed_days": 30.0, "retain_etl_runs": 0})
    loops = [asyncio.create_task(prune_loop(pool, fast, worker)) for worker in ("host-a", "host-b")]
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while (await pool.fetchval("select count(*) from prune_runs where jobs > 0") < 3
               and asyncio.get_running_loop().time() < deadline):
            await _bulk_finished(pool, 1_000, age_days=40)
            await asyncio.sleep(0.5)
    finally:
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    runs = await pool.fetch("select worker, started_at, finished_at, jobs from prune_runs order by started_at")
    assert len(runs) >= 3 and sum(r["jobs"] for r in runs) > 0
    for earlier, later in zip(runs, runs[1:]):
        assert earlier["finished_at"] <= later["started_at"], f"overlapping prunes: {earlier} and {later}"


async def test_a_failing_pass_does_not_end_the_pruner(pool, settings):
    fast = settings.model_copy(update={"prune_interval_seconds": 0.2})
    await pool.execute("alter function prune_jobs(interval, interval, integer, integer) rename to prune_jobs_away")
    loop = asyncio.create_task(prune_loop(pool, fast, "host-a"))
    try:
        await asyncio.sleep(0.6)  # passes fail: the function is missing
        assert not loop.done()
        await pool.execute("alter function prune_jobs_away(interval, interval, integer, integer) rename to prune_jobs")
        await pool.execute("delete from maintenance_leases")
        old = await _job(pool, "completed", age_days=40)
        for _ in range(50):
            if not await _exists(pool, old):
                break
            await asyncio.sleep(0.1)
        assert not await _exists(pool, old)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_a_prune_of_many_jobs_does_not_hold_up_claims(pool):
    """20,000 finished jobs pruned in batches of 1,000 while another session claims and finishes jobs in a
    loop: no claim waits on the prune (bench/retention.py measures the same at 200,000)."""
    await _bulk_finished(pool, 20_000, age_days=40)
    await pool.execute("insert into job_requests (kind) select 'sleep' from generate_series(1, 400)")
    latencies: list[float] = []
    pruning = asyncio.create_task(prune(pool, Retention(timedelta(days=30), None, 0, 1_000), worker="test"))
    async with pool.acquire() as conn:
        while not pruning.done():
            start = time.perf_counter()
            jobs = await conn.fetch("select id from claim_jobs('claimer', array['sleep'], 1, 30)")
            latencies.append(time.perf_counter() - start)
            for job in jobs:
                await conn.execute("select finish_job($1, 'claimer', 'completed', null, null, false)", job["id"])
    result = await pruning
    assert result.jobs == 20_000 and result.batches == 20
    latencies.sort()
    assert len(latencies) > 10
    assert latencies[-1] < 0.5, f"a claim waited {latencies[-1]:.3f} s during the prune"


async def test_health_db_shows_rows_by_status_the_oldest_finished_job_and_the_last_prune(pool, settings, db_url):
    await _job(pool, "completed", age_days=40)
    kept = await _job(pool, "failed", age_days=10)
    await _job(pool, "pending")
    app = create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url)
    async with TestClient(TestServer(app)) as client:
        before = await (await client.get("/api/health/db")).json()
        assert before["jobs_by_status"] == {"completed": 1, "failed": 1, "pending": 1}
        assert before["last_prune"] is None
        await prune(pool, DEFAULT, worker="host-a")
        after = await (await client.get("/api/health/db")).json()
    assert after["jobs_by_status"] == {"failed": 1, "pending": 1}
    finished = await pool.fetchval("select finished_at from job_requests where id = $1", kept)
    assert after["oldest_finished_at"] == finished.isoformat()
    assert after["last_prune"]["jobs"] == 1 and after["last_prune"]["worker"] == "host-a"
    assert after["last_prune"]["settings"]["completed_days"] == 30


async def test_cli_prune_dry_run_shows_what_would_go_and_changes_nothing(pool, db_url, tmp_path):
    for _ in range(3):
        await _job(pool, "completed", age_days=40)
    kept = await _job(pool, "completed", age_days=1)
    env = {"DATABASE_URL": db_url, "BENCHSIGHT_DATA_DIR": str(tmp_path), "BENCHSIGHT_LOG_LEVEL": "warning",
           "PATH": "/usr/bin:/bin"}
    dry = subprocess.run([sys.executable, "-m", "daemon", "prune", "--dry-run"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "sleep" in dry.stdout and "would delete 3 jobs" in dry.stdout
    assert await pool.fetchval("select count(*) from job_requests") == 4
    real = subprocess.run([sys.executable, "-m", "daemon", "prune"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert real.returncode == 0, real.stderr
    assert "deleted 3 jobs" in real.stdout
    assert [r["id"] for r in await pool.fetch("select id from job_requests")] == [kept]


async def test_users_cannot_call_the_pruner_or_read_its_tables(pool):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("set local role authenticated")
            await conn.execute(f"""set local request.jwt.claims = '{{"sub": "{uuid.uuid4()}", "role": "authenticated"}}'""")
            for sql in ("select * from prune_jobs('1 day', '1 day', 10, 0)", "select prune_lease('me', '1 hour')",
                        "select * from prune_runs", "select * from maintenance_leases"):
                with pytest.raises(Exception, match="permission denied"):
                    async with conn.transaction():
                        await conn.execute(sql)


async def test_unreferenced_old_file_versions_go_and_current_pinned_or_used_ones_stay(pool, tmp_path):
    from daemon.filestore import FileStore

    store = FileStore(pool, tmp_path / "cache", limit_bytes=1_000_000)
    old = await store.put(b"v1", name="7.json", role="tracker", game_id=7, format="json")
    pinned = await store.put(b"p1", name="8.json", role="tracker", game_id=8, format="json")
    await store.put(b"p2", name="8.json", role="tracker", game_id=8, format="json")
    used = await store.put(b"u1", name="9.json", role="tracker", game_id=9, format="json")
    await store.put(b"u2", name="9.json", role="tracker", game_id=9, format="json")
    current = await store.put(b"v2", name="7.json", role="tracker", game_id=7, format="json")
    await store.pin(pinned.id)
    await pool.execute("insert into job_requests (kind, params) values ('staging_tracking', $1)",
                       {"file": "raw/tracking/9.json", "sha256": used.sha256})
    await pool.execute("update file_versions set uploaded_at = now() - interval '100 days'")
    await pool.execute("update files set created_at = now() - interval '100 days'")
    files_only = Retention(None, None, keep_etl_runs=0, batch=100, files_after=timedelta(days=90))
    result = await prune(pool, files_only, worker="test")
    assert result.files == {"runs": 0, "versions": 1, "files": 1}
    kept = {r["id"] for r in await pool.fetch("select id from file_versions")}
    assert old.id not in kept and {pinned.id, used.id, current.id} <= kept
    assert not await pool.fetchval("select exists(select 1 from files where sha256 = $1)", old.sha256)
