"""`benchsight up` as a user starts it, for the seed-contract and browser tests: a subprocess on the embedded
database with its own data dir and port, auth left on `auto` (off: embedded database, loopback), and a small
synthetic league (etl.synth) as its inputs under raw/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from etl import synth

GAMES = 4


@dataclass
class SeedServer:
    base_url: str
    data_dir: Path
    game_ids: tuple[int, ...]

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_inputs(data_dir: Path, scratch: Path) -> tuple[int, ...]:
    """A synthetic league as the ETL expects it under raw/: the workbook and one tracker file per game."""
    made = synth.generate(scratch, games=GAMES, seed=7)
    raw = data_dir / "raw"
    (raw / "tracking").mkdir(parents=True, exist_ok=True)
    shutil.copy(made.blb, raw / "BLB_Tables.xlsx")
    for files in made.files.values():
        for f in files:
            shutil.copy(f, raw / "tracking" / f.name)
    return made.game_ids


@contextmanager
def running_up(*, prefix: str, startup_seconds: float = 90) -> Iterator[SeedServer]:
    """Start `benchsight up` in a fresh folder and stop it with SIGTERM (it must exit 0). The folder is not in
    pytest's tmp tree: the embedded PostgreSQL runs as its own user, which cannot enter that tree."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with _running_up(root, startup_seconds) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _running_up(root: Path, startup_seconds: float) -> Iterator[SeedServer]:
    data_dir = root / "data"
    game_ids = write_inputs(data_dir, root / "synth")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SUPABASE_URL", "CORS_ORIGINS")}
    env.update({"BENCHSIGHT_DATA_DIR": str(data_dir), "BENCHSIGHT_API_PORT": str(port),
                "BENCHSIGHT_API_HOST": "127.0.0.1", "BENCHSIGHT_SWEEP_SECONDS": "0.5",
                "BENCHSIGHT_LOG_LEVEL": "warning", "BENCHSIGHT_WATCH": "off"})
    log = open(root / "up.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "up"], env=env, stdout=log, stderr=subprocess.STDOUT)
    server = SeedServer(f"http://127.0.0.1:{port}", data_dir, game_ids)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            assert proc.poll() is None, f"benchsight up exited: {(root / 'up.log').read_text()[-3000:]}"
            try:
                if requests.get(server.url("/api/health"), timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "benchsight up did not answer /api/health in time"
            time.sleep(0.2)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        log.close()
        assert code == 0, f"benchsight up exited {code}: {(root / 'up.log').read_text()[-3000:]}"


def wait_for_end(server: SeedServer, status_path: str, job_id: str, timeout: float = 120) -> dict:
    """Poll the old API's status route as the portal does, until the job ends."""
    deadline = time.monotonic() + timeout
    while True:
        resp = requests.get(server.url(f"{status_path}/{job_id}"), timeout=10)
        assert resp.status_code == 200, resp.text
        job = resp.json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.2)
