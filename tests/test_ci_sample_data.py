"""In CI a missing copy of the real league data fails the run with a clear message (it does not skip the ~60
tests that need it); on a developer's machine those tests skip with the reason."""

from __future__ import annotations

import os
import subprocess
import sys

from daemon.config import PROJECT_ROOT


def _collect(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "BENCHSIGHT_SAMPLE_DATA")}
    environ.update(BENCHSIGHT_SAMPLE_DATA=str(tmp_path / "no-data-here"), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "tests/test_etl_readers.py", "tests/test_job_contract.py"],
        cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=120)


def test_ci_run_without_the_sample_data_fails_saying_why(tmp_path):
    out = _collect(tmp_path, CI="true")
    assert out.returncode != 0, out.stdout
    assert "real league data is missing" in out.stdout + out.stderr
    assert str(tmp_path / "no-data-here") in out.stdout + out.stderr


def test_local_run_without_the_sample_data_collects_and_skips(tmp_path):
    out = _collect(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
