"""Logs go to stderr in one format per process tree, and logging configuration stands apart from auth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from daemon.config import PROJECT_ROOT
from etl import synth


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthSet:
    return synth.generate(tmp_path_factory.mktemp("synth"), games=2, seed=3, formats=("json",))


def _python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSIGHT_")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _events(stderr: str) -> list[dict]:
    """Every stderr line as JSON (fails on a line in another format)."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_logging_configuration_does_not_import_auth():
    """daemon.logs -> daemon.auth -> daemon.apikeys -> daemon.logs was a circle; redaction is a leaf now."""
    out = _python("""
        import sys
        import daemon.logs
        print(sorted(m for m in sys.modules if m.startswith("daemon.")))
    """)
    assert out.returncode == 0, out.stderr
    assert "daemon.auth" not in out.stdout and "daemon.apikeys" not in out.stdout, out.stdout


def test_child_process_logs_in_the_parents_json_format(season, tmp_path):
    """The etl handler's child (spawned: it starts with structlog unconfigured) writes JSON to stderr like the
    daemon, never console lines into its JSON log or onto stdout."""
    out = _python(f"""
        import asyncio
        from daemon import logs, processes
        from handlers.etl import etl_job

        logs.configure("info", json=True)
        result = asyncio.run(processes.run_in_process(
            etl_job, {str(season.blb)!r}, [{str(season.tracking)!r}], {str(tmp_path / "out")!r}, games=None,
            exclude_games=[], wipe=False, cache_dir={str(tmp_path / "cache")!r}))
        print(result["status"])
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok", out.stdout  # nothing but what the script printed
    events = _events(out.stderr)
    assert any(e["event"] == "etl.finished" and e["level"] == "info" for e in events), out.stderr


def test_etl_json_prints_only_the_report_on_stdout(season, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "daemon", "etl", "--blb", str(season.blb), "--tracking", str(season.tracking),
         "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "BENCHSIGHT_LOG_LEVEL": "info"})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # the whole of stdout is the report
    assert report["status"] == "ok" and set(map(int, report["games"])) == set(season.game_ids)
    assert any(e["event"] == "etl.finished" for e in _events(out.stderr))
