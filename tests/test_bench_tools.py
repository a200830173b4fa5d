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
