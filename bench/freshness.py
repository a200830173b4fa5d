"""Freshness: how long from "tracker file accepted" (POST /api/upload/tracking) to "the dashboard's tables show
that game's new numbers", with the real league data loaded.

Runs `benchsight up` in a subprocess on a fresh embedded PostgreSQL (or DATABASE_URL) with the real league
workbook and tracker files in the file store, builds and loads everything once, then N times: uploads a new
version of one complete game's JSON export (one goal more or less, alternating), asks for an incremental ETL
with upload (what a portal's "sync" does), and polls fact_goals until that game's count is the new one.
Prints p50/p95 of upload-to-visible and of each stage.

    python bench/freshness.py [--runs 20] [--game 19038]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds queue.py: drop this folder from the import path so it never shadows the stdlib `queue`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

import asyncpg
import requests

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", ROOT.parent / "shared" / "data"))
JSON_HEADERS = {"Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_job(base: str, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{base}/api/jobs/{job_id}", timeout=10).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise TimeoutError(job_id)


def goals(url: str, game: int) -> int:
    import asyncio

    async def run() -> int:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval("select count(*) from fact_goals where game_id = $1", game)
        finally:
            await conn.close()

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--game", type=int, default=19038, help="a game tracked in JSON only (default 19038): "
                        "where a workbook of the game is richer, the ETL reads the workbook")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="benchsight-fresh-"))
    raw = data_dir / "raw"
    (raw / "tracking").mkdir(parents=True)
    shutil.copy(DATA / "blb" / "BLB_Tables.xlsx", raw / "BLB_Tables.xlsx")
    for path in (DATA / "tracking").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".xlsx"):
            shutil.copy(path, raw / "tracking" / path.name)
    port = free_port()
    env = {**os.environ, "BENCHSIGHT_DATA_DIR": str(data_dir), "BENCHSIGHT_API_PORT": str(port),
           "BENCHSIGHT_LOG_LEVEL": "warning", "BENCHSIGHT_WATCH": "off", "BENCHSIGHT_SWEEP_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "up"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(f"{base}/api/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        url = os.environ.get("DATABASE_URL") or subprocess.run(
            [sys.executable, "-m", "daemon", "db-url"], env=env, capture_output=True, text=True).stdout.strip()
        full = requests.post(f"{base}/api/etl/trigger", headers=JSON_HEADERS, timeout=30,
                             json={"mode": "full", "options": {"upload_to_supabase": True}}).json()
        assert wait_job(base, full["job_id"])["status"] == "completed", "the first full run failed"
        doc = json.loads((DATA / "tracking" / "json" / f"{args.game}.json").read_bytes())
        goal = next(e for e in doc["events"] if str(e.get("type", "")).lower() == "goal")
        versions = [json.dumps({**doc, "events": [e for e in doc["events"] if e is not goal]}).encode(),
                    json.dumps(doc).encode() + b"\n"]
        before = goals(url, args.game)
        totals, stages = [], {"staged": [], "built": []}
        for run in range(args.runs):
            content = versions[run % 2]
            want = before - 1 if run % 2 == 0 else before
            start = time.perf_counter()
            staged = requests.post(f"{base}/api/upload/tracking", timeout=30,
                                   files={"file": (f"{args.game}.json", content, "application/json")}).json()
            etl = requests.post(f"{base}/api/etl/trigger", headers=JSON_HEADERS, timeout=30, json={
                "mode": "incremental", "options": {"upload_to_supabase": True}}).json()
            wait_job(base, staged["job_id"])
            stages["staged"].append(time.perf_counter() - start)
            wait_job(base, etl["job_id"])
            stages["built"].append(time.perf_counter() - start)
            while goals(url, args.game) != want:
                time.sleep(0.02)
                if time.perf_counter() - start > 120:
                    raise TimeoutError(f"run {run}: fact_goals never showed {want} goals")
            totals.append(time.perf_counter() - start)
            print(f"run {run + 1:2}: visible after {totals[-1]:.2f} s", flush=True)
        for name, values in (("upload -> staged", stages["staged"]), ("upload -> ETL and load done", stages["built"]),
                             ("upload -> visible in fact_goals", totals)):
            ordered = sorted(values)
            print(f"{name:34} p50 {statistics.median(ordered):.2f} s, p95 "
                  f"{ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]:.2f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
