"""ML benchmark: training time of every model on the real league data and on a 500-game synthetic league,
and POST /api/ml/predict latency with 50 concurrent clients (the API in its own process, the load from
another), beside GET /api/health under the same load in the same run (the ratio is the cost of predicting).

    python bench/ml.py [--seconds 10] [--connections 50] [--rate 1000] [--skip-synthetic]

Database: DATABASE_URL (a server where a bench database can be created) or the embedded PostgreSQL.
Real data: BENCHSIGHT_SAMPLE_DATA (default ../shared/data).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_P99_MS = 20.0
DB = "bench_ml"


def _train_seconds(workbook: Path, etl_out: Path) -> tuple[float, list[dict]]:
    from daemon.cli_ml import _tables_from_files
    from ml.training import train_all

    tables = _tables_from_files(workbook, etl_out)
    start = time.perf_counter()
    models = train_all(tables)
    return time.perf_counter() - start, [m.record() for m in models]


def _etl(workbook: Path, tracking: Path, out: Path) -> None:
    import etl

    etl.run(workbook, [tracking], out, cache_dir=out.parent / "cache")


async def _prepare(server_url: str, records: list[dict]) -> str:
    import asyncpg

    from daemon import database, migrations
    from handlers import ml_store

    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'drop database if exists "{DB}" with (force)')
        await admin.execute(f'create database "{DB}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{DB}"))
    conn = await database.connect(url)
    try:
        await migrations.migrate(conn, ROOT / "supabase" / "migrations")
        await ml_store.record_models(conn, records, None)
    finally:
        await conn.close()
    return url


def serve(url: str, port: int) -> None:
    from aiohttp import web

    from daemon import database, logs
    from daemon.config import Settings
    from daemon.http import create_app

    settings = Settings(database_url=url, api_auth="off", api_rate_limit_per_minute=0, log_level="warning")
    logs.configure("warning")

    async def run() -> None:
        pool = await database.create_pool(url, 10)
        runner = web.AppRunner(create_app(pool, settings, url), access_log=None, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()
        await pool.close()

    asyncio.run(run())


def load(target: str, body: str | None, seconds: float, connections: int, rate: float) -> None:
    """Paced: each of `connections` clients sends every connections/rate s on a fixed schedule; latency counts
    from the scheduled time (so a stalled server cannot hide its backlog)."""
    import aiohttp

    async def run() -> dict:
        latencies: list[float] = []
        bad = 0
        interval = connections / rate
        payload = json.loads(body) if body else None
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
            loop = asyncio.get_running_loop()
            began = loop.time() + 0.2

            async def client(i: int) -> None:
                nonlocal bad
                due = began + i * interval / connections
                while due < began + seconds:
                    await asyncio.sleep(max(0.0, due - loop.time()))
                    method = session.post if payload is not None else session.get
                    async with method(target, json=payload) as resp:
                        await resp.read()
                        bad += resp.status != 200
                    latencies.append(loop.time() - due)
                    due += interval

            await asyncio.gather(*(client(i) for i in range(connections)))
            elapsed = loop.time() - began
        latencies.sort()
        return {"rps": len(latencies) / elapsed, "p50_ms": latencies[len(latencies) // 2] * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "non_200": bad}

    print(json.dumps(asyncio.run(run())))


def _run_load(target: str, body: dict | None, seconds: float, connections: int, rate: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--load", target, json.dumps(body) if body else "",
                          str(seconds), str(connections), str(rate)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the API did not start")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve(sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        return load(sys.argv[2], sys.argv[3] or None, float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1000, help="requests/s of all clients together")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()

    from daemon import database, logs

    logs.configure("warning")
    data = Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", ROOT.parent / "shared" / "data")).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-ml-") as tmp:
        tmp = Path(tmp)
        workbook = data / "blb" / "BLB_Tables.xlsx"
        _etl(workbook, data / "tracking", tmp / "real" / "out")
        real_s, records = _train_seconds(workbook, tmp / "real" / "out")
        n_real = next(r["n_train"] for r in records if r["model"] == "game_outcome")
        print(f"training, every model (hyperparameter search included), {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}")
        print(f"  real league data ({n_real} games): {real_s:.1f} s")
        for r in records:
            print(f"    {r['model']:<20} {r['metrics'].get('train_seconds', 0):6.2f} s")
        if not args.skip_synthetic:
            from etl.synth import generate

            synth = generate(tmp / "synth", games=10, untracked_games=490, seed=11)
            _etl(synth.blb, synth.tracking, tmp / "synth" / "out")
            synth_s, synth_records = _train_seconds(synth.blb, tmp / "synth" / "out")
            n_synth = next(r["n_train"] for r in synth_records if r["model"] == "game_outcome")
            print(f"  synthetic league ({n_synth} games): {synth_s:.1f} s "
                  f"(per game {synth_s / n_synth * 1000:.0f} ms vs real {real_s / n_real * 1000:.0f} ms: "
                  f"ratio {(synth_s / n_synth) / (real_s / n_real):.2f})")

        server_url = os.environ.get("DATABASE_URL") or database.embedded_url(
            Path(tempfile.gettempdir()) / "benchsight-bench-pg", stop_on_exit=True)
        url = asyncio.run(_prepare(server_url, records))
        port = _free_port()
        api = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port)])
        try:
            _wait_ready(port)
            base = f"http://127.0.0.1:{port}"
            go = next(r for r in records if r["model"] == "game_outcome")["params"]
            home, season = go["teams"][-1].split("|")
            away = next(t.split("|")[0] for t in go["teams"] if t.endswith("|" + season) and not t.startswith(home))
            bodies = {
                "game_outcome": {"model": "game_outcome", "inputs": {"home_team_id": home, "away_team_id": away,
                                                                     "season_id": season}},
                "win_probability": {"model": "win_probability", "inputs": {"home_score": 2, "away_score": 1,
                                                                           "period": 3, "seconds_left": 300}},
                "player_projection": {"model": "player_projection", "inputs": {
                    "player_id": "P100001", "season_id": "N20252026F", "games_remaining": 5}},
            }
            _run_load(f"{base}/api/ml/predict", bodies["game_outcome"], 2, args.connections, args.rate)  # warm-up
            health = _run_load(f"{base}/api/health", None, args.seconds, args.connections, args.rate)
            print(f"POST /api/ml/predict, {args.connections} concurrent clients at {args.rate:.0f} requests/s "
                  f"(paced, separate load process), {args.seconds:.0f} s per run")
            print(f"  baseline GET /api/health: p50 {health['p50_ms']:.2f} ms, p99 {health['p99_ms']:.2f} ms, "
                  f"{health['rps']:.0f}/s")
            for name, body in bodies.items():
                r = _run_load(f"{base}/api/ml/predict", body, args.seconds, args.connections, args.rate)
                verdict = "ok" if r["p99_ms"] <= TARGET_P99_MS else "ABOVE TARGET"
                print(f"  {name:<18} p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms ({verdict}: <= "
                      f"{TARGET_P99_MS:.0f}), {r['rps']:.0f}/s, non-200 {r['non_200']}, p99 ratio to health "
                      f"{r['p99_ms'] / health['p99_ms']:.2f}")
        finally:
            api.send_signal(signal.SIGTERM)
            api.wait(10)


if __name__ == "__main__":
    main()
