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


def _job_count(db_url: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(db_url)
        try:
            return await conn.fetchval("select count(*) from job_requests")
        finally:
            await conn.close()

    return asyncio.run(count())


def test_bad_input_gets_a_clear_error(db_url, tmp_path):
    env = _env(db_url, tmp_path)
    not_json = benchsight("enqueue", "sleep", "--params", "{oops", env=env)
    assert not_json.returncode == 2 and "--params" in not_json.stderr
    missing = benchsight("cancel", str(uuid.uuid4()), env=env)
    assert missing.returncode == 1 and "no job" in missing.stderr


def test_unknown_kind_is_a_usage_error_listing_the_valid_kinds(db_url, tmp_path):
    from daemon.registry import load_handlers

    unknown = benchsight("enqueue", "no_such_kind", env=_env(db_url, tmp_path))
    assert unknown.returncode == 2, unknown.stderr
    assert "no_such_kind" in unknown.stderr and "foreign key" not in unknown.stderr
    assert all(kind in unknown.stderr for kind in load_handlers()), unknown.stderr
    assert _job_count(db_url) == 0


@pytest.mark.parametrize("params, field", [
    ('{"seconds": -1}', "seconds"),           # out of range
    ('{"fail": 0}', "fail"),                 # strict, as the API's JSON bodies: 0 is not false
    ('{"secs": 1}', "secs"),                 # unknown field
])
def test_params_are_checked_against_the_handlers_model_before_the_insert(db_url, tmp_path, params, field):
    bad = benchsight("enqueue", "sleep", "--params", params, env=_env(db_url, tmp_path))
    assert bad.returncode == 2, bad.stderr
    assert "invalid params for sleep" in bad.stderr and field in bad.stderr
    assert _job_count(db_url) == 0


def test_jobs_with_an_unknown_status_is_a_usage_error(db_url, tmp_path):
    out = benchsight("jobs", "--status", "bogus", env=_env(db_url, tmp_path))
    assert out.returncode == 2 and "bogus" in out.stderr and "pending" in out.stderr, out.stderr


def test_cancelling_an_ended_job_exits_one(db_url, tmp_path):
    env = _env(db_url, tmp_path)
    job_id = benchsight("enqueue", "sleep", env=env).stdout.strip()
    first = benchsight("cancel", job_id, env=env)  # pending (no worker): cancelled at once
    assert first.returncode == 0 and first.stdout.strip() == "cancelled", first.stderr
    again = benchsight("cancel", job_id, env=env)
    assert again.returncode == 1 and "already ended (cancelled)" in again.stderr, again.stderr


def test_db_url_without_a_database_says_so_and_starts_nothing(tmp_path):
    out = benchsight("db-url", env=_env(None, tmp_path))
    assert out.returncode == 1 and "no database" in out.stderr and "benchsight up" in out.stderr, out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    pg = tmp_path / "data" / "pg"
    assert not (pg / "PG_VERSION").exists() and not (pg / "postmaster.pid").exists()


def test_unreachable_database_is_reported_without_a_traceback(tmp_path):
    env = _env("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    out = benchsight("migrate", env=env)
    assert out.returncode == 1 and "cannot connect" in out.stderr and "Traceback" not in out.stderr


def test_embedded_database_that_cannot_start_is_explained(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data dir should be")
    out = benchsight("migrate", env=_env(None, tmp_path, BENCHSIGHT_DATA_DIR=blocker))
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
        printed = [proc.stdout.readline().strip() for _ in range(3)]
        raw = tmp_path / "data" / "raw"
        assert f"league workbook {raw / 'BLB_Tables.xlsx'} (missing" in printed[-1], printed
        assert (raw / "tracking").is_dir() and str(raw / "tracking") in printed[-1]
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
        running = benchsight("db-url", env=env)  # the running embedded database, as psql would need it
        assert running.returncode == 0 and running.stdout.strip() == url, running.stderr
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
