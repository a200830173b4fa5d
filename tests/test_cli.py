"""The `benchsight` command as a user runs it (subprocesses against the real database)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

import asyncpg
import pytest

pytestmark = pytest.mark.db


def _env(db_url: str | None, tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if db_url:
        env["DATABASE_URL"] = db_url
    env.update({"BENCHSIGHT_DATA_DIR": str(tmp_path / "data"), "BENCHSIGHT_SWEEP_SECONDS": "0.5",
                "BENCHSIGHT_LOG_LEVEL": "warning", "BENCHSIGHT_API_PORT": "0"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def benchsight(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "daemon", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def worker(db_url, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "worker"], env=_env(db_url, tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_db_url_prints_the_database_in_use(db_url, tmp_path):
    out = benchsight("db-url", env=_env(db_url, tmp_path))
    assert out.returncode == 0 and out.stdout.strip() == db_url


def test_migrate_twice_reports_up_to_date(empty_db_url, tmp_path):
    first = benchsight("migrate", env=_env(empty_db_url, tmp_path))
    second = benchsight("migrate", env=_env(empty_db_url, tmp_path))
    assert first.returncode == 0 and first.stdout.startswith("applied: 2026")
    assert second.returncode == 0 and second.stdout.strip() == "database is up to date"


def test_enqueue_wait_exit_codes_follow_the_job_outcome(db_url, tmp_path, worker):
    env = _env(db_url, tmp_path)
    ok = benchsight("enqueue", "sleep", "--params", '{"seconds": 0.2}', "--wait", env=env)
    assert ok.returncode == 0, ok.stderr
    uuid.UUID(ok.stdout.strip())
    failed = benchsight("enqueue", "sleep", "--params", '{"fail": true}', "--wait", env=env)
    assert failed.returncode == 1 and "failed" in failed.stderr
    bad = benchsight("enqueue", "sleep", "--params", '{"seconds": -1}', "--wait", env=env)
    assert bad.returncode == 1 and "invalid params" in bad.stderr


def test_enqueue_wait_exits_2_when_the_job_is_cancelled(db_url, tmp_path, worker):
    env = _env(db_url, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "enqueue", "sleep", "--params", '{"seconds": 30}',
                             "--wait"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job_id = proc.stdout.readline().strip()
    cancelled = benchsight("cancel", job_id, env=env)
    assert cancelled.returncode == 0
    assert proc.wait(20) == 2
    listing = benchsight("jobs", "--status", "cancelled", env=env)
    assert job_id in listing.stdout


def test_bad_input_gets_a_clear_error(db_url, tmp_path):
    env = _env(db_url, tmp_path)
    not_json = benchsight("enqueue", "sleep", "--params", "{oops", env=env)
    assert not_json.returncode == 2 and "--params" in not_json.stderr
    unknown = benchsight("enqueue", "no_such_kind", env=env)
    assert unknown.returncode == 1 and "no_such_kind" in unknown.stderr
    missing = benchsight("cancel", str(uuid.uuid4()), env=env)
    assert missing.returncode == 1 and "no job" in missing.stderr


def test_unreachable_database_is_reported_without_a_traceback(tmp_path):
    env = _env("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    out = benchsight("migrate", env=env)
    assert out.returncode == 1 and "cannot connect" in out.stderr and "Traceback" not in out.stderr


def test_embedded_database_that_cannot_start_is_explained(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data dir should be")
    out = benchsight("db-url", env=_env(None, tmp_path, BENCHSIGHT_DATA_DIR=blocker))
    assert out.returncode == 1 and "could not start the embedded PostgreSQL" in out.stderr
    assert "DATABASE_URL" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_up_runs_on_the_embedded_database_and_completes_a_job(tmp_path):
    """The README's first command: no DATABASE_URL, an embedded PostgreSQL under the data dir."""
    env = _env(None, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "up"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip().removeprefix("database: ")
        assert str(tmp_path / "data" / "pg") in url
        deadline = time.monotonic() + 60

        async def run_job() -> str:
            conn = await asyncpg.connect(url)
            try:
                while not await conn.fetchval("select to_regclass('public.job_requests') is not null"):
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.1)
                job_id = await conn.fetchval(
                    """insert into job_requests(kind, params) values ('sleep', '{"seconds":0}') returning id""")
                while (status := await conn.fetchval("select status from job_requests where id = $1", job_id)) \
                        not in ("completed", "failed"):
                    assert time.monotonic() < deadline, status
                    await asyncio.sleep(0.1)
                return status
            finally:
                await conn.close()

        assert asyncio.run(run_job()) == "completed"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read()

    async def still_up() -> bool:
        try:
            await (await asyncpg.connect(url, timeout=3)).close()
            return True
        except (OSError, asyncpg.PostgresError):
            return False

    assert not asyncio.run(still_up()), "the embedded PostgreSQL should stop with `benchsight up`"
