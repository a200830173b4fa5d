"""The daemon survives its own faults (issue 8, items 1-3; issue 13, item 3): every background loop survives an
unexpected exception per pass, a duty that dies anyway stops the daemon with a non-zero exit, health and the
systemd watchdog turn red while outcomes cannot be written, progress writes are best effort, a job is never
run twice at once by one daemon, and a job longer than its lease stays with the daemon that heartbeats it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon import queries, systemd
from daemon.config import PROJECT_ROOT
from daemon.dispatcher import Dispatcher, HelperDied
from daemon.http import create_app
from daemon.registry import REGISTRY, load_handlers
from daemon_harness import running_daemon, wait_for_status
from test_systemd_notify import fake_systemd  # noqa: F401  (fixture)

pytestmark = pytest.mark.db

STATE_12 = "cannot switch to state 12; another operation is in progress"


class Flaky:
    """Wraps one daemon.queries function: calls number `first`..`first + times - 1` raise `error`, the others
    go through. `raised` counts the injected failures (so a test knows its fault was hit)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, *, times: int = 1, first: int = 1,
                 error: Callable[[], BaseException] = lambda: asyncpg.InternalClientError(STATE_12)) -> None:
        self.real = getattr(queries, name)
        self.calls = self.raised = 0
        self.first, self.times, self.error = first, times, error
        self.broken = True
        monkeypatch.setattr(queries, name, self)

    async def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.broken and self.first <= self.calls < self.first + self.times:
            self.raised += 1
            raise self.error()
        return await self.real(*args, **kwargs)


async def _claimed_by(pool, job_id) -> list[str]:
    return [r["worker"] for r in await pool.fetch(
        "select worker from job_events where job_id = $1 and message = 'claimed' order by id", job_id)]


# ---- item 1: every loop survives any exception --------------------------------------------------------

async def test_outcome_flush_survives_internal_client_error(settings, pool, monkeypatch):
    flaky = Flaky(monkeypatch, "finish_jobs")
    job = await queries.enqueue_job(pool, "sleep", {})
    async with running_daemon(settings) as dispatcher:
        row = await wait_for_status(pool, job["id"], "completed", timeout=4)
        assert dispatcher.problem() is None
    assert flaky.raised == 1 and row["attempts"] == 1


@pytest.mark.parametrize("query, first", [("heartbeat_jobs", 1), ("worker_seen", 2)])
async def test_heartbeat_survives_internal_client_error(settings, pool, monkeypatch, query, first):
    """A job of 1.5 leases completes in its first attempt: the heartbeat loop went on after the error."""
    flaky = Flaky(monkeypatch, query, first=first)
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 4.5})
    async with running_daemon(settings, lease_seconds=3, sweep_seconds=0.2):
        row = await wait_for_status(pool, job["id"], "completed", timeout=12)
    assert flaky.raised == 1
    assert row["attempts"] == 1 and await _claimed_by(pool, job["id"]) == [settings.worker_id]


async def test_cancel_watch_survives_internal_client_error(settings, pool, monkeypatch):
    flaky = Flaky(monkeypatch, "cancel_requested")
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 60})
    async with running_daemon(settings, lease_seconds=30):  # heartbeats (which also carry cancels) every 10 s
        await wait_for_status(pool, job["id"], "running")
        await asyncio.sleep(0.8)  # the cancel watch has met its error
        assert flaky.raised == 1
        asked = time.monotonic()
        await queries.request_cancel(pool, job["id"])
        await wait_for_status(pool, job["id"], "cancelled", timeout=5)
    assert time.monotonic() - asked < 2.0


async def test_claim_loop_survives_internal_client_error(settings, pool, monkeypatch):
    flaky = Flaky(monkeypatch, "claim_jobs", times=2)
    job = await queries.enqueue_job(pool, "sleep", {})
    async with running_daemon(settings, sweep_seconds=60) as dispatcher:  # no sweep: the claim retries itself
        row = await wait_for_status(pool, job["id"], "completed", timeout=4)
        assert dispatcher.problem() is None
    assert flaky.raised == 2 and row["attempts"] == 1


class FlakyFeed:
    """Raises on its first run, then wakes the daemon every 0.1 s."""

    name = "flaky"

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, wake) -> None:
        self.runs += 1
        if self.runs == 1:
            raise asyncpg.InternalClientError(STATE_12)
        while True:
            await asyncio.sleep(0.1)
            wake()


async def test_a_feed_that_raises_is_restarted(settings, pool):
    feed = FlakyFeed()
    async with running_daemon(settings, feed_list=[feed]):
        await asyncio.sleep(0.5)  # the catch-up claim at start has passed: only the feed can wake us now
        job = await queries.enqueue_job(pool, "sleep", {})
        await wait_for_status(pool, job["id"], "completed", timeout=4)
    assert feed.runs == 2


# ---- item 1: supervision, health and watchdog ---------------------------------------------------------

class Fatal(BaseException):
    """Not an Exception: no loop can survive it, so its helper task ends."""


async def test_a_helper_that_dies_anyway_stops_the_daemon_and_releases_its_jobs(settings, pool, monkeypatch):
    async def fatal_cancel_watch(self):
        if self.running:
            raise Fatal("helper bug")

    monkeypatch.setattr(Dispatcher, "_watch_cancels", fatal_cancel_watch)
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 60})
    dispatcher = Dispatcher(pool, settings.model_copy(update={"shutdown_grace_seconds": 0.2}), load_handlers(), [])
    with pytest.raises(HelperDied, match="cancel watch"):
        await asyncio.wait_for(dispatcher.run(asyncio.Event()), 15)
    assert dispatcher.problem() is not None
    released = await queries.get_job(pool, job["id"])
    assert released["status"] == "pending" and released["attempts"] == 0


def test_worker_process_exits_non_zero_when_a_helper_dies(settings, db_url):
    script = (
        "import daemon.dispatcher as d\n"
        "async def boom(self):\n"
        "    raise BaseException('injected helper death')\n"
        "d.Dispatcher._expire_own_leases = boom\n"
        "from daemon.cli import main\n"
        "main(['worker'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    env.update(DATABASE_URL=db_url, BENCHSIGHT_DATA_DIR=str(settings.data_dir), BENCHSIGHT_WATCH="off",
               BENCHSIGHT_LOG_LEVEL="info")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          timeout=60)
    log = proc.stderr.decode(errors="replace")
    assert proc.returncode != 0, log
    assert "daemon.helper_died" in log and "lease watch" in log
    assert time.monotonic() - started < 30


async def test_health_and_watchdog_turn_red_while_outcomes_cannot_be_written(settings, pool, db_url,
                                                                            monkeypatch, fake_systemd):  # noqa: F811
    flaky = Flaky(monkeypatch, "finish_jobs", times=10**9)
    notifier = systemd.Notifier(str(fake_systemd.path))
    job = await queries.enqueue_job(pool, "sleep", {})
    async with running_daemon(settings, lease_seconds=3, sweep_seconds=0.1) as dispatcher:
        stop = asyncio.Event()
        supervisor = asyncio.create_task(systemd.supervise(notifier, dispatcher, stop, interval=0.2))
        app = create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url, dispatcher=dispatcher)
        try:
            async with TestClient(TestServer(app)) as client:
                await fake_systemd.wait_for_async("WATCHDOG", timeout=5)
                await asyncio.sleep(3.5)  # the outcome has now waited longer than a lease
                assert flaky.raised >= 2
                fake_systemd.drain()
                health = await client.get("/api/health")
                assert health.status == 503
                assert "not written" in (await health.json())["detail"]
                await asyncio.sleep(1.0)
                assert [m for m in fake_systemd.drain() if "WATCHDOG" in m] == []

                flaky.broken = False  # the database answers again: the same outcome is written, once
                row = await wait_for_status(pool, job["id"], "completed", timeout=5)
                await fake_systemd.wait_for_async("WATCHDOG", timeout=5)
                health = await client.get("/api/health")
                assert health.status == 200
                body = await health.json()
                assert body["daemon"]["outcomes_waiting"] == 0
        finally:
            stop.set()
            await asyncio.wait_for(supervisor, 10)
    assert row["attempts"] == 1 and await _claimed_by(pool, job["id"]) == [settings.worker_id]


# ---- item 2: progress is best effort ------------------------------------------------------------------

@pytest.mark.parametrize("error", [FileNotFoundError, ConnectionResetError, asyncpg.InterfaceError,
                                   lambda: asyncpg.InternalClientError(STATE_12)])
async def test_progress_write_errors_neither_fail_the_attempt_nor_lose_the_outcome(settings, pool, monkeypatch,
                                                                                  caplog, error):
    Flaky(monkeypatch, "report_progress", times=10**9, error=lambda: error("database gone"))
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 0.3, "steps": 10}, max_attempts=1)
    loop = asyncio.get_running_loop()
    unretrieved: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        async with running_daemon(settings):
            row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=5)
    finally:
        loop.set_exception_handler(None)
    assert row["status"] == "completed" and row["error"] is None, row["error"]
    assert unretrieved == []


# ---- item 3: never two copies of one job in one daemon ------------------------------------------------

async def test_a_job_taken_back_by_our_own_claim_is_not_started_twice(settings, pool, monkeypatch):
    """Our loop stalled past the lease (simulated: the lease is expired in SQL), the next claim takes the job
    back for this very daemon: the copy that runs goes on, no second one starts, the job completes once."""
    active: dict = {}
    starts: list = []
    peak = 0
    spec = load_handlers()["sleep"]

    async def counted(params, ctx):
        nonlocal peak
        starts.append(ctx.job_id)
        active[ctx.job_id] = active.get(ctx.job_id, 0) + 1
        peak = max(peak, active[ctx.job_id])
        try:
            return await spec.run(params, ctx)
        finally:
            active[ctx.job_id] -= 1

    monkeypatch.setitem(REGISTRY, "sleep", dataclasses.replace(spec, run=counted))
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 2})
    async with running_daemon(settings, lease_seconds=30, sweep_seconds=0.2) as dispatcher:
        await wait_for_status(pool, job["id"], "running")
        await pool.execute("update job_requests set locked_until = now() - interval '1 second' where id = $1",
                           job["id"])
        dispatcher.wake()
        deadline = time.monotonic() + 5
        while len(await _claimed_by(pool, job["id"])) < 2:
            assert time.monotonic() < deadline, "the expired lease was never taken back"
            await asyncio.sleep(0.05)
        row = await wait_for_status(pool, job["id"], "completed", timeout=10)
    assert starts == [job["id"]] and peak == 1
    assert row["attempts"] == 2 and row["result"] == {"slept": 2}


# ---- issue 13, item 3: the heartbeat keeps a long job with its daemon ---------------------------------

async def test_job_several_leases_long_completes_on_its_worker_while_another_waits(settings, pool):
    job = await queries.enqueue_job(pool, "sleep", {"seconds": 8, "steps": 4})  # 2.7 leases of 3 s
    a = settings.model_copy(update={"worker_id": "worker-a", "lease_seconds": 3, "sweep_seconds": 0.2})
    b = a.model_copy(update={"worker_id": "worker-b"})
    async with running_daemon(a):
        await wait_for_status(pool, job["id"], "running")
        async with running_daemon(b):
            row = await wait_for_status(pool, job["id"], "completed", timeout=20)
    assert row["attempts"] == 1 and row["result"] == {"slept": 8}
    assert await _claimed_by(pool, job["id"]) == ["worker-a"]
    lease_errors = await pool.fetchval("select count(*) from job_events where job_id = $1 and message like "
                                       "'lease expired%'", job["id"])
    assert lease_errors == 0



def test_notifier_never_blocks_when_systemd_does_not_read(fake_systemd):  # noqa: F811
    """A unix datagram receiver with a full queue makes a blocking sendto wait forever, and with it the whole
    event loop (found by the watchdog test under load): the notifier drops the message instead."""
    import threading

    notifier = systemd.Notifier(str(fake_systemd.path))
    sent = threading.Thread(target=lambda: [notifier.notify("WATCHDOG=1") for _ in range(200)], daemon=True)
    sent.start()
    sent.join(5)
    assert not sent.is_alive(), "notify blocked on a receiver that does not read"
    notifier.close()
