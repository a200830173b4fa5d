"""Two daemons on one database: every job runs exactly once."""

from __future__ import annotations

import asyncio

from daemon_harness import running_daemon

JOBS = 300


async def test_two_daemons_run_every_job_exactly_once(settings, pool):
    async with running_daemon(settings, worker_id="daemon-a", concurrency=16) as a, \
            running_daemon(settings, worker_id="daemon-b", concurrency=16) as b:
        # one statement, so both daemons are woken by the same burst and race for the same rows
        await pool.execute(
            "insert into job_requests (kind, params) "
            "select 'sleep', jsonb_build_object('seconds', 0.002 * (i % 5)) from generate_series(1, $1) i", JOBS)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while await pool.fetchval("select count(*) from job_requests where status <> 'completed'"):
            assert loop.time() < deadline, "jobs still unfinished after 120 s"
            await asyncio.sleep(0.1)

    claims = await pool.fetch(
        "select j.id, count(e.id) filter (where e.message = 'claimed') as claims, "
        "       array_agg(distinct e.worker) filter (where e.message = 'claimed') as workers "
        "from job_requests j left join job_events e on e.job_id = j.id group by j.id")
    assert len(claims) == JOBS
    assert {row["claims"] for row in claims} == {1}, "a job was claimed more than once (or never)"
    per_worker = {w: sum(1 for row in claims if row["workers"] == [w]) for w in ("daemon-a", "daemon-b")}
    assert sum(per_worker.values()) == JOBS
    assert all(per_worker.values()), f"both daemons should have run jobs: {per_worker}"
    assert a.stats["completed"] + b.stats["completed"] == JOBS
    attempts = await pool.fetchval("select max(attempts) from job_requests")
    assert attempts == 1
