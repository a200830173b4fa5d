"""A `benchsight worker` killed (SIGKILL) in the middle of an upload: every table is still the old one; another
worker reclaims the job after the lease and swaps in the new ones."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from daemon import queries
from daemon.config import PROJECT_ROOT
from daemon_harness import running_daemon, wait_for_status
from etl.catalog import TABLES
from handlers_output import table_tags, write_catalog_output

OLD_ROWS, NEW_ROWS = 40, 12_000


def _worker(settings, db_url: str, name: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": db_url, "BENCHSIGHT_DATA_DIR": str(settings.data_dir),
           "BENCHSIGHT_LEASE_SECONDS": "3", "BENCHSIGHT_SWEEP_SECONDS": "0.5", "BENCHSIGHT_WORKER_ID": name,
           "BENCHSIGHT_FEEDS": "listen,sweep", "BENCHSIGHT_PROGRESS_INTERVAL_SECONDS": "0.05"}
    return subprocess.Popen([sys.executable, "-m", "daemon", "worker"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _counts(pool) -> dict[str, int]:
    return {t: await pool.fetchval(f'select count(*) from public."{t}"') for t in TABLES}


@pytest.mark.slow
async def test_worker_killed_during_upload_leaves_every_table_old_then_the_retry_swaps_all_new(
        settings, pool, db_url):
    write_catalog_output(settings.output_dir, rows=OLD_ROWS, tag="a")
    first = await queries.enqueue_job(pool, "upload", {})
    async with running_daemon(settings):
        assert (await wait_for_status(pool, first["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
    write_catalog_output(settings.output_dir, rows=NEW_ROWS, tag="b", seed=1)

    job = await queries.enqueue_job(pool, "upload", {})
    victim = _worker(settings, db_url, "victim")
    try:
        deadline = time.monotonic() + 90
        while True:  # kill once some tables are loaded but before the swap
            row = await queries.get_job(pool, job["id"])
            if row["status"] == "uploading" and row["progress"] >= 10:
                break
            assert row["status"] in ("pending", "running", "uploading"), row["error"]
            assert time.monotonic() < deadline, "upload never got going"
            await asyncio.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert row["progress"] < 100
    after_kill = await _counts(pool)
    assert after_kill == {t: OLD_ROWS for t in TABLES}
    assert set().union(*(await table_tags(pool, TABLES)).values()) == {"a"}
    assert await pool.fetchval("select count(*) from pg_tables where tablename like '%\\_\\_new'") == 0

    rescuer = _worker(settings, db_url, "rescuer")
    try:
        done = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=90)
    finally:
        rescuer.terminate()
        rescuer.wait(20)
    assert done["status"] == "completed", done["error"]
    assert done["attempts"] == 2
    claims = await pool.fetch("select worker from job_events where job_id = $1 and message = 'claimed' order by id",
                              job["id"])
    assert [c["worker"] for c in claims] == ["victim", "rescuer"]
    assert await _counts(pool) == {t: NEW_ROWS for t in TABLES}
    assert set().union(*(await table_tags(pool, TABLES)).values()) == {"b"}

