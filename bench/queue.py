"""Queue benchmark: one daemon draining N no-op jobs, and commit-to-handler-start latency over single inserts.

    python bench/queue.py [--jobs 5000] [--latency-jobs 200] [--concurrency 256] [--no-pgqueuer]

Runs on the embedded PostgreSQL (a fresh database in a bench folder) unless DATABASE_URL is set. Prints
figures next to the targets, and, when pgqueuer is installed (`pip install -e '.[bench]'`), pgqueuer's
throughput on the same server in the same run, so the ratio is robust to how busy the machine is.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py; drop its folder from the import path so it never shadows the stdlib `queue`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daemon import database, logs, migrations  # noqa: E402
from daemon.config import Settings  # noqa: E402
from daemon.dispatcher import Dispatcher  # noqa: E402
from daemon.feeds import ListenFeed  # noqa: E402
from daemon.registry import load_handlers  # noqa: E402

TARGET_JOBS_PER_S = 6400
TARGET_P50_MS, TARGET_P99_MS = 2.0, 5.0


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def fresh_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    return _with_database(server_url, name)


async def wait_until_done(conn: asyncpg.Connection, total: int) -> None:
    while await conn.fetchval("select count(*) from job_requests where status = 'completed'") < total:
        await asyncio.sleep(0.005)


async def benchsight(url: str, jobs: int, latency_jobs: int, concurrency: int) -> dict:
    conn = await database.connect(url)
    await migrations.migrate(conn, ROOT / "supabase" / "migrations")
    settings = Settings(DATABASE_URL=url, BENCHSIGHT_CONCURRENCY=concurrency, BENCHSIGHT_WORKER_ID="bench",
                        BENCHSIGHT_SWEEP_SECONDS=5, BENCHSIGHT_DATA_DIR=tempfile.mkdtemp())
    handlers = load_handlers()
    started: dict = {}
    sleep_spec = handlers["sleep"]
    original_run = sleep_spec.run

    async def timed_run(params, ctx):
        started[ctx.job_id] = time.perf_counter()
        return await original_run(params, ctx)

    handlers = {**handlers, "sleep": type(sleep_spec)(sleep_spec.kind, sleep_spec.params, timed_run)}
    pool = await database.create_pool(url, 8)
    listen = ListenFeed(url)
    dispatcher = Dispatcher(pool, settings, handlers, [listen])
    stop = asyncio.Event()
    runner = asyncio.create_task(dispatcher.run(stop))
    await asyncio.wait_for(listen.connected.wait(), 10)

    # throughput: one insert of `jobs` no-op jobs, then time until every one is completed
    t0 = time.perf_counter()
    await conn.execute("insert into job_requests (kind, params) select 'sleep', '{\"seconds\": 0}' "
                       "from generate_series(1, $1)", jobs)
    t_commit = time.perf_counter()
    await wait_until_done(conn, jobs)
    drained = time.perf_counter() - t_commit
    events = await conn.fetchval("select count(*) from job_events")

    # latency: single inserts with the daemon idle; commit (insert returned) -> handler start
    await conn.execute("delete from job_requests")
    latencies = []
    for _ in range(latency_jobs):
        await asyncio.sleep(0.01)
        job_id = await conn.fetchval("insert into job_requests (kind, params) values ('sleep', '{\"seconds\": 0}') "
                                     "returning id")
        committed = time.perf_counter()
        while job_id not in started:
            await asyncio.sleep(0.0002)
        latencies.append((started[job_id] - committed) * 1000)
    stop.set()
    await runner
    await pool.close()
    await conn.close()
    q = statistics.quantiles(latencies, n=100)
    return {"seconds": drained, "jobs_per_s": jobs / drained, "insert_s": t_commit - t0, "events": events,
            "p50": statistics.median(latencies), "p95": q[94], "p99": q[98], "max": max(latencies)}


async def pgqueuer_drain(url: str, jobs: int, batch_size: int) -> float | None:
    try:
        from pgqueuer import AsyncpgDriver, QueueManager, Queries
        from pgqueuer.types import QueueExecutionMode
    except ImportError:
        return None
    conn = await asyncpg.connect(url)
    queries = Queries(AsyncpgDriver(conn))
    await queries.install()
    await queries.enqueue(["noop"] * jobs, [None] * jobs, [0] * jobs)
    qm = QueueManager(queries)

    @qm.entrypoint("noop")
    async def noop(job) -> None:
        return None

    t0 = time.perf_counter()
    await qm.run(mode=QueueExecutionMode.drain, batch_size=batch_size)
    took = time.perf_counter() - t0
    await conn.close()
    return took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=256, help="daemon slots (BENCHSIGHT_CONCURRENCY)")
    parser.add_argument("--no-pgqueuer", action="store_true")
    parser.add_argument("--log-level", default="warning", help="daemon log level (per-job events are 'info')")
    args = parser.parse_args()
    logs.configure(args.log_level)
    # stop_on_exit: the embedded server this run started stops when it exits (a server another process
    # still uses keeps running)
    server = os.environ.get("DATABASE_URL") or database.embedded_url(
        Path(tempfile.gettempdir()) / "benchsight-bench-pg", stop_on_exit=True)
    print(f"server: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded PostgreSQL'}; "
          f"{args.jobs} jobs, concurrency {args.concurrency}, log level {args.log_level}")

    ours = await benchsight(await fresh_database(server, "bench_queue"), args.jobs, args.latency_jobs,
                            args.concurrency)
    rows = [
        ("benchsight drain", f"{ours['jobs_per_s']:,.0f} jobs/s ({ours['seconds']:.2f} s)", f">= {TARGET_JOBS_PER_S:,}",
         ours["jobs_per_s"] >= TARGET_JOBS_PER_S),
        ("latency p50", f"{ours['p50']:.2f} ms", f"<= {TARGET_P50_MS}", ours["p50"] <= TARGET_P50_MS),
        ("latency p95", f"{ours['p95']:.2f} ms", "", None),
        ("latency p99", f"{ours['p99']:.2f} ms", f"<= {TARGET_P99_MS}", ours["p99"] <= TARGET_P99_MS),
        ("latency max", f"{ours['max']:.2f} ms", "", None),
    ]
    if not args.no_pgqueuer:
        for batch in (10, 100):
            took = await pgqueuer_drain(await fresh_database(server, f"bench_pgq_{batch}"), args.jobs, batch)
            if took is None:
                rows.append(("pgqueuer", "not installed (pip install -e '.[bench]')", "", None))
                break
            rate = args.jobs / took
            rows.append((f"pgqueuer batch {batch}", f"{rate:,.0f} jobs/s ({took:.2f} s)", "", None))
            rows.append((f"ratio benchsight / pgqueuer b{batch}", f"{ours['jobs_per_s'] / rate:.2f}x", "", None))
    print(f"history rows written: {ours['events']:,} (created + claimed + completed per job)")
    print(f"{'figure':36} {'value':30} {'target':10} result")
    for name, value, target, ok in rows:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"{name:36} {value:30} {target:10} {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
