"""The benchmarks' own tools: the ETL bench's memory sampler survives processes that vanish under it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
import time

import pytest

from daemon.config import PROJECT_ROOT

pytest.importorskip("psutil")


def _bench_etl():
    spec = importlib.util.spec_from_file_location("bench_etl", PROJECT_ROOT / "bench" / "etl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_memory_sampler_survives_children_and_its_process_exiting(monkeypatch):
    crashes: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashes.append(args.exc_value))
    # a process that starts and reaps many short children, then exits while the sampler still runs
    churn = subprocess.Popen([sys.executable, "-c",
                              "import subprocess\nfor _ in range(150): subprocess.run(['true'])"])
    with _bench_etl().TreeMemory(churn.pid, interval=0.0005) as memory:
        churn.wait(60)
        time.sleep(0.2)  # sampling on after the process itself is gone
        assert memory._thread.is_alive(), crashes  # the sampler did not die
    assert not crashes, crashes
    assert memory.peak_mb > 1


@pytest.mark.slow
def test_queue_bench_stops_the_embedded_postgresql_it_started():
    import os
    import shutil
    import tempfile

    import psutil

    folder = tempfile.mkdtemp(prefix="benchsight-bench-test-")  # not pytest's tmp tree (see conftest)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["TMPDIR"] = folder
    try:
        out = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "queue.py"), "--jobs", "50",
                              "--latency-jobs", "3", "--no-pgqueuer"], env=env, capture_output=True, text=True,
                             timeout=240)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "benchsight drain" in out.stdout
        left = [p.pid for p in psutil.process_iter(["cmdline"])
                if any(folder in part for part in (p.info["cmdline"] or []))]
        assert not left, f"postgres processes left running under {folder}: {left}"
    finally:
        for p in psutil.process_iter(["cmdline"]):  # never leave a server behind, even when the test fails
            if any(folder in part for part in (p.info["cmdline"] or [])):
                p.kill()
        shutil.rmtree(folder, ignore_errors=True)
