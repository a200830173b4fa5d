"""systemd integration: the sd_notify protocol against a fake NOTIFY_SOCKET (a real `benchsight worker`
process, and an in-process dispatcher whose claim loop is stalled), and the shipped unit and env files."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from configparser import ConfigParser
from pathlib import Path

import asyncpg
import pytest

from daemon import database, migrations, systemd
from daemon.config import PROJECT_ROOT, Settings
from daemon_harness import running_daemon

UNIT = PROJECT_ROOT / "systemd" / "benchsight.service"
ENV_EXAMPLE = PROJECT_ROOT / "systemd" / "benchsight.env.example"


class FakeSystemd:
    """The receiving end of NOTIFY_SOCKET: a unix datagram socket, like systemd's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[dict[str, str]] = []

    def receive(self, timeout: float) -> dict[str, str] | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.messages.append(fields)
        return fields

    def wait_for(self, key: str, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            fields = self.receive(left)
            if fields is not None and key in fields:
                return fields
        raise AssertionError(f"no {key} from the daemon within {timeout}s; got {self.messages}")

    def drain(self) -> list[dict[str, str]]:
        got = []
        while (fields := self.receive(0.001)) is not None:
            got.append(fields)
        return got

    async def wait_for_async(self, key: str, timeout: float) -> dict[str, str]:
        return await asyncio.to_thread(self.wait_for, key, timeout)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake_systemd() -> Iterator[FakeSystemd]:
    # a short directory: unix socket paths are limited to 107 bytes, and pytest's tmp_path can be longer
    folder = Path(tempfile.mkdtemp(prefix="bs-notify-"))
    fake = FakeSystemd(folder / "notify.sock")
    yield fake
    fake.close()
    shutil.rmtree(folder, ignore_errors=True)


def test_worker_process_sends_ready_after_migrating_then_watchdog_then_stopping(empty_db_url, tmp_path, fake_systemd):
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    env.update(DATABASE_URL=empty_db_url, BENCHSIGHT_DATA_DIR=str(tmp_path / "data"), NOTIFY_SOCKET=str(fake_systemd.path),
               WATCHDOG_USEC="1000000", BENCHSIGHT_SWEEP_SECONDS="1", BENCHSIGHT_WORKER_ID="notify-test",
               BENCHSIGHT_LOG_LEVEL="warning")
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "worker"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        ready = fake_systemd.wait_for("READY", timeout=90)
        assert ready["READY"] == "1" and "notify-test" in ready["STATUS"]
        # READY=1 promises a reachable database with current migrations
        pending = asyncio.run(_pending_migrations(empty_db_url))
        assert pending == []
        assert not any("WATCHDOG" in m for m in fake_systemd.messages[:-1]), "no watchdog ping before READY=1"
        assert fake_systemd.wait_for("WATCHDOG", timeout=10)["WATCHDOG"] == "1"
        assert fake_systemd.wait_for("WATCHDOG", timeout=10)["WATCHDOG"] == "1"
        proc.send_signal(signal.SIGTERM)
        assert fake_systemd.wait_for("STOPPING", timeout=30)["STOPPING"] == "1"
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "Traceback" not in output, output


async def _pending_migrations(url: str) -> list[str]:
    conn = await database.connect(url)
    try:
        return await migrations.pending_versions(conn, PROJECT_ROOT / "supabase" / "migrations")
    finally:
        await conn.close()


async def test_stalled_claim_loop_stops_watchdog_pings_until_it_recovers(settings, db_url, fake_systemd):
    interval = 0.2
    notifier = systemd.Notifier(str(fake_systemd.path))
    async with running_daemon(settings, sweep_seconds=0.1) as dispatcher:
        stop = asyncio.Event()
        supervisor = asyncio.create_task(systemd.supervise(notifier, dispatcher, stop, interval=interval))
        try:
            await fake_systemd.wait_for_async("READY", timeout=10)
            await fake_systemd.wait_for_async("WATCHDOG", timeout=5)

            blocker = await asyncpg.connect(db_url)
            try:
                stall = blocker.transaction()
                await stall.start()
                # every claim_jobs call now waits on this lock: the claim loop is stuck in a claim
                await blocker.execute("lock table public.job_requests in access exclusive mode")
                await asyncio.sleep(interval * 3)  # a ping already on its way may still arrive
                fake_systemd.drain()
                await asyncio.sleep(interval * 8)
                pings = [m for m in fake_systemd.drain() if "WATCHDOG" in m]
                assert pings == [], f"watchdog pinged while the claim loop was stuck: {pings}"
                await stall.rollback()
            finally:
                await blocker.close()

            await fake_systemd.wait_for_async("WATCHDOG", timeout=10)  # the loop runs again, so do the pings
        finally:
            stop.set()
            await asyncio.wait_for(supervisor, 10)
    assert "STOPPING" in fake_systemd.wait_for("STOPPING", timeout=5)


def test_notifier_reaches_an_abstract_socket_and_is_silent_without_one():
    name = f"benchsight-test-{uuid.uuid4().hex}"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind("\0" + name)
    receiver.settimeout(5)
    try:
        assert systemd.Notifier("@" + name).notify("READY=1", "STATUS=hello")
        assert receiver.recv(4096) == b"READY=1\nSTATUS=hello"
    finally:
        receiver.close()
    assert systemd.Notifier(None).notify("READY=1") is False
    assert systemd.Notifier("@" + name).notify("WATCHDOG=1") is False  # gone: no exception, just not sent


def test_watchdog_interval_is_half_the_timeout_and_only_for_our_pid():
    base = Settings(BENCHSIGHT_DATA_DIR="/tmp/x", WATCHDOG_USEC=30_000_000)
    assert systemd.watchdog_interval(base) == 15.0
    assert systemd.watchdog_interval(base.model_copy(update={"watchdog_pid": os.getpid()})) == 15.0
    assert systemd.watchdog_interval(base.model_copy(update={"watchdog_pid": os.getpid() + 1})) is None
    assert systemd.watchdog_interval(Settings(BENCHSIGHT_DATA_DIR="/tmp/x")) is None


def _unit() -> ConfigParser:
    parser = ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNIT)
    return parser


def test_unit_file_has_the_required_directives():
    service = _unit()["Service"]
    env = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
               if line.strip() and not line.startswith("#"))
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"]) > 0
    assert service["Restart"] == "on-failure"
    assert service["User"] not in ("", "root")
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"
    assert service["EnvironmentFile"] == "/etc/benchsight/benchsight.env"
    assert service["ReadWritePaths"] == env["BENCHSIGHT_DATA_DIR"], "the data dir must be writable"
    assert env["BENCHSIGHT_WATCH_DIR"].startswith(env["BENCHSIGHT_DATA_DIR"] + "/"), "the watch dir must be writable"
    assert int(service["TimeoutStopSec"]) > float(env["BENCHSIGHT_SHUTDOWN_GRACE_SECONDS"])


def test_env_example_names_only_settings_the_daemon_reads():
    known = {field.validation_alias for field in Settings.model_fields.values()}
    names = [line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert names and set(names) <= known, f"unknown settings: {set(names) - known}"
    assert "DATABASE_URL" in names and ":5432/" in dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line.startswith("DATABASE_URL="))[
        "DATABASE_URL"], "the session pooler listens on 5432"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_file_passes_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart exists: point it at this environment's console script
    script = Path(sys.executable).parent / "benchsight"
    if not script.exists():
        pytest.skip(f"{script} not installed (pip install -e .)")
    unit = tmp_path / "benchsight.service"
    unit.write_text(UNIT.read_text().replace("/opt/benchsight/venv/bin/benchsight", str(script)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr
