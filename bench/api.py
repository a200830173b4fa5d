"""API benchmark: 50 concurrent clients against a real site (the API in its own process, on the embedded
PostgreSQL or DATABASE_URL), on three paths:

- cached: GET /api/jobs/{id} of one job that never changes. After the first read every request is answered
  from the API's in-memory job cache (kept coherent by LISTEN job_changes): no database round trip.
- list: GET /api/jobs?status=completed&kind=validate&limit=50 over 5,000 jobs. Never cached: one query per
  request.
- changing: GET /api/jobs/{id} of a running job whose progress another process reports --changes times a
  second (200: fifty running jobs at the daemon's 4 progress writes a second each). Each change drops the
  cache entry, so the next read goes to the database.

The figures say how many requests went to the database (counted inside the API process). Two runs per path:

- throughput: 50 clients sending back to back (closed loop), requests/s at saturation. The load comes from
  wrk when installed (`apt-get install wrk`), else from an aiohttp client in a separate process.
- latency at the target rate: 50 clients together sending 2,000 requests/s, each paced at 40/s: hey -q when
  installed (`apt-get install hey`), else an aiohttp client in a separate process on a fixed schedule whose
  latencies count from the scheduled time. With 50 clients back to back, mean latency is simply
  50 / throughput, so a p99 target only means something at a given rate.

    python bench/api.py [--seconds 10] [--connections 50] [--rate 2000] [--client auto|wrk|aiohttp] [--auth]
                        [--uvloop] [--paths cached,list,changing] [--changes 200]

--auth sends an admin API key (daemon.auth checks it per request); without it the API runs with
BENCHSIGHT_API_AUTH=off. --uvloop runs the API on uvloop instead of asyncio's default loop.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds queue.py; drop this folder from the import path so it never shadows the stdlib `queue`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daemon import database, logs, migrations  # noqa: E402
from daemon.config import Settings  # noqa: E402

TARGET_RPS = 2000
TARGET_P99_MS = 20.0


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


LIST_QUERY = "status=completed&kind=validate&limit=50"
LIST_JOBS = 5000
CHANGER = "bench-progress"


async def prepare(server_url: str, auth: bool) -> tuple[str, str, str, str | None]:
    """A fresh migrated database: the cached path's job, LIST_JOBS jobs of mixed kinds and statuses for the list
    path, and one running etl job held by CHANGER for the changing path. Returns (url, job id, changing job id,
    api key)."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute('drop database if exists "bench_api" with (force)')
        await admin.execute('create database "bench_api"')
    finally:
        await admin.close()
    url = _with_database(server_url, "bench_api")
    conn = await database.connect(url)
    try:
        await migrations.migrate(conn, ROOT / "supabase" / "migrations")
        job_id = await conn.fetchval("select id from enqueue_job('sleep', '{\"seconds\": 1}'::jsonb)")
        await conn.execute(
            "insert into job_requests (kind, params, status, progress, result, created_at) "
            "select (array['validate', 'sleep'])[1 + n % 2], jsonb_build_object('n', n), "
            "(array['completed', 'failed', 'completed', 'pending'])[1 + n % 4], 100, '{\"ok\": true}', "
            "now() - n * interval '1 s' from generate_series(1, $1) n", LIST_JOBS)
        changing = await conn.fetchval("select id from enqueue_job('etl', '{}'::jsonb)")
        claimed = await conn.fetch("select id from claim_jobs($1, array['etl'], 1, 3600)", CHANGER)
        assert [r["id"] for r in claimed] == [changing]
        key = None
        if auth:
            from daemon import apikeys

            key = (await apikeys.create_key(conn, ["admin"], "bench")).key
    finally:
        await conn.close()
    return url, str(job_id), str(changing), key


def change_progress(url: str, job_id: str, rate: float) -> None:
    """The changing path's writer (its own process): report_progress on the job `rate` times a second until
    SIGTERM, as a running handler would; prints the changes it wrote per second."""

    async def run() -> float:
        conn = await database.connect(url)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        loop = asyncio.get_running_loop()
        began = due = loop.time()
        n = 0
        try:
            while not stop.is_set():
                n += 1
                await conn.execute("select report_progress($1, $2, 'processing', $3, $4)",
                                   UUID(job_id), CHANGER, n % 100, f"step {n}")
                due += 1 / rate
                await asyncio.sleep(max(0.0, due - loop.time()))
        finally:
            await conn.close()
        return n / (loop.time() - began)

    print(f"{asyncio.run(run()):.1f}")


async def drop(server_url: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute('drop database if exists "bench_api" with (force)')
    finally:
        await admin.close()


def serve(url: str, port: int, auth: bool, use_uvloop: bool, no_reset: bool = False) -> None:
    """The API process: create_app on its own pool, until SIGTERM. GET /bench/db-reads answers how many job
    reads and listings went to the database so far (the routes call daemon.http.jobs, counted here)."""
    from aiohttp import web

    from daemon.http import create_app
    from daemon.http import jobs as job_reads

    db_reads = 0

    def counted(read):
        async def wrapper(*args, **kwargs):
            nonlocal db_reads
            db_reads += 1
            return await read(*args, **kwargs)
        return wrapper

    job_reads.get_job = counted(job_reads.get_job)
    job_reads.list_jobs = counted(job_reads.list_jobs)

    async def reads(request: web.Request) -> web.Response:
        return web.json_response({"db_reads": db_reads})

    settings = Settings(database_url=url, api_auth="required" if auth else "off", api_rate_limit_per_minute=0,
                        log_level="warning")
    logs.configure("warning")

    async def run() -> None:
        if no_reset:  # what the pool would cost without asyncpg's reset query on every release
            async def keep_session(_conn: asyncpg.Connection) -> None:
                return None

            pool = await asyncpg.create_pool(url, min_size=10, max_size=10, init=database._init_connection,
                                             reset=keep_session)
        else:
            pool = await database.create_pool(url, 10)
        app = create_app(pool, settings, url)
        app.router.add_get("/bench/db-reads", reads)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()
        await pool.close()

    if use_uvloop:
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the API did not start")


def run_wrk(target: str, seconds: int, connections: int, headers: dict) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, target], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50, p99 = (_wrk_ms(re.search(rf"\s{q}%\s+([\d.]+\w+)", out).group(1)) for q in ("50", "99"))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"client": "wrk -t2", "rps": rps, "requests": requests, "p50_ms": p50, "p99_ms": p99,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else None}


def run_hey(target: str, seconds: int, connections: int, headers: dict, rate: float) -> dict:
    """hey -q paces each of the connections at rate/connections requests/s."""
    args = ["hey", "-z", f"{seconds}s", "-c", str(connections), "-q", f"{rate / connections:g}"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, target], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = (float(re.search(rf"\s{q}% in ([\d.]+) secs", out).group(1)) * 1000
                for q in ("50", "99"))
    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", out)}
    requests = sum(codes.values())
    errors = re.search(r"Error distribution:(.*)", out, re.S)
    return {"client": f"hey -c {connections} -q {rate / connections:g} (paced)", "rps": rps,
            "requests": requests, "p50_ms": p50,
            "p99_ms": p99, "non_2xx": sum(n for c, n in codes.items() if c != 200),
            "socket_errors": errors.group(1).strip()[:200] if errors else None}


def _wrk_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_aiohttp(target: str, seconds: int, connections: int, headers: dict) -> dict:
    """The load generator in its own process (this script with --load), so it does not share the API's loop."""
    out = subprocess.run([sys.executable, __file__, "--load", target, "--seconds", str(seconds),
                          "--connections", str(connections), "--headers", json.dumps(headers)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def run_paced(target: str, seconds: int, connections: int, headers: dict, rate: float) -> dict:
    if shutil.which("hey"):
        return run_hey(target, seconds, connections, headers, rate)
    out = subprocess.run([sys.executable, __file__, "--load", target, "--seconds", str(seconds),
                          "--connections", str(connections), "--headers", json.dumps(headers),
                          "--rate", str(rate)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def load(target: str, seconds: int, connections: int, headers: dict, rate: float | None) -> None:
    import aiohttp

    async def paced() -> dict:
        """Each client sends every connections/rate seconds on a fixed schedule, offset from the others."""
        latencies: list[float] = []
        bad = 0
        interval = connections / rate
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            loop = asyncio.get_running_loop()
            began = loop.time() + 0.1

            async def client(i: int) -> None:
                nonlocal bad
                due = began + i * interval / connections
                while due < began + seconds:
                    await asyncio.sleep(max(0.0, due - loop.time()))
                    async with session.get(target) as resp:
                        await resp.read()
                        bad += resp.status != 200
                    latencies.append(loop.time() - due)
                    due += interval

            await asyncio.gather(*(client(i) for i in range(connections)))
            elapsed = loop.time() - began
        latencies.sort()
        return {"client": "aiohttp, paced (separate process)", "rps": len(latencies) / elapsed,
                "requests": len(latencies),
                "p50_ms": latencies[len(latencies) // 2] * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "non_2xx": bad, "socket_errors": None}

    async def run() -> dict:
        latencies: list[float] = []
        bad = 0
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            deadline = time.perf_counter() + seconds

            async def client() -> None:
                nonlocal bad
                while (start := time.perf_counter()) < deadline:
                    async with session.get(target) as resp:
                        await resp.read()
                        bad += resp.status != 200
                    latencies.append(time.perf_counter() - start)

            began = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(connections)))
            elapsed = time.perf_counter() - began
        latencies.sort()
        return {"client": "aiohttp (separate process)", "rps": len(latencies) / elapsed, "requests": len(latencies),
                "p50_ms": latencies[len(latencies) // 2] * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "non_2xx": bad, "socket_errors": None}

    print(json.dumps(asyncio.run(paced() if rate else run())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rate", type=float, default=TARGET_RPS, help="requests/s of the latency run")
    parser.add_argument("--client", choices=("auto", "wrk", "aiohttp"), default="auto",
                        help="load generator of the throughput run")
    parser.add_argument("--auth", action="store_true", help="require credentials; send an admin API key")
    parser.add_argument("--uvloop", action="store_true", help="run the API on uvloop")
    parser.add_argument("--no-reset", action="store_true",
                        help="experiment: a pool without asyncpg's reset query on release (one round trip less)")
    parser.add_argument("--paths", default="cached,list,changing", help="comma list of cached, list, changing")
    parser.add_argument("--changes", type=float, default=200.0,
                        help="progress changes a second of the changing path's job")
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--change", nargs=3, metavar=("URL", "JOB", "RATE"), help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="TARGET", help=argparse.SUPPRESS)
    parser.add_argument("--headers", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.auth, args.uvloop, args.no_reset)
        return
    if args.change:
        change_progress(args.change[0], args.change[1], float(args.change[2]))
        return
    if args.load:
        load(args.load, args.seconds, args.connections, json.loads(args.headers),
             args.rate if "--rate" in sys.argv else None)
        return

    logs.configure("warning")
    server_url = os.environ.get("DATABASE_URL") or database.embedded_url(
        Path(tempfile.gettempdir()) / "benchsight-bench-pg", stop_on_exit=True)
    url, job_id, changing_id, key = asyncio.run(prepare(server_url, args.auth))
    paths = {"cached": f"/api/jobs/{job_id}", "list": f"/api/jobs?{LIST_QUERY}",
             "changing": f"/api/jobs/{changing_id}"}
    chosen = [p.strip() for p in args.paths.split(",") if p.strip()]
    if set(chosen) - set(paths):
        raise SystemExit(f"--paths: choose from {', '.join(paths)}")
    port = _free_port()
    api = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port),
                            *(["--auth"] if args.auth else []), *(["--uvloop"] if args.uvloop else []),
                            *(["--no-reset"] if args.no_reset else [])])
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "aiohttp")
    saturate = run_wrk if client == "wrk" else run_aiohttp
    results: dict[str, tuple[dict, dict, float | None]] = {}
    try:
        _wait_ready(port)
        for name in chosen:
            target = f"http://127.0.0.1:{port}{paths[name]}"
            writer = None
            if name == "changing":
                writer = subprocess.Popen([sys.executable, __file__, "--change", url, changing_id,
                                           str(args.changes)], stdout=subprocess.PIPE, text=True)
            try:
                saturate(target, 2, args.connections, headers)  # warm-up: connections, prepared statements
                before = _db_reads(port, headers)
                throughput = saturate(target, args.seconds, args.connections, headers)
                throughput["db_reads"] = _db_reads(port, headers) - before
                before = _db_reads(port, headers)
                paced = run_paced(target, args.seconds, args.connections, headers, args.rate)
                paced["db_reads"] = _db_reads(port, headers) - before
            finally:
                changes = None
                if writer is not None:
                    writer.send_signal(signal.SIGTERM)
                    changes = float(writer.communicate(timeout=10)[0].strip() or 0)
            results[name] = (throughput, paced, changes)
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(10)
        asyncio.run(drop(server_url))
    print(f"{args.connections} concurrent clients, {args.seconds} s per run, auth "
          f"{'on (API key)' if args.auth else 'off'}, {'uvloop' if args.uvloop else 'asyncio'} loop, "
          f"{'pool without reset query, ' if args.no_reset else ''}database "
          f"{'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded'}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, (throughput, paced, changes) in results.items():
        title = {"cached": "cached: GET /api/jobs/{id}, a job that never changes",
                 "list": f"list (uncached): GET /api/jobs?{LIST_QUERY} over {LIST_JOBS:,} jobs",
                 "changing": f"changing (uncached after each change): GET /api/jobs/{{id}}, progress changed "
                             f"{changes or 0:.0f} times/s"}[name]
        print(title)
        print(f"  throughput (back to back, {throughput['client']}): {throughput['rps']:.0f} requests/s "
              f"(target >= {TARGET_RPS}: {'ok' if throughput['rps'] >= TARGET_RPS else 'BELOW TARGET'}); "
              f"p50 {throughput['p50_ms']:.1f} ms, p99 {throughput['p99_ms']:.1f} ms; "
              f"{_share(throughput)} from the database")
        print(f"  latency at {args.rate:.0f} requests/s ({paced['client']}): achieved {paced['rps']:.0f}/s, "
              f"p50 {paced['p50_ms']:.2f} ms, p99 {paced['p99_ms']:.2f} ms "
              f"(target < {TARGET_P99_MS:.0f}: {'ok' if paced['p99_ms'] < TARGET_P99_MS else 'ABOVE TARGET'}); "
              f"{_share(paced)} from the database")
        for run in (throughput, paced):
            if run["non_2xx"] or run["socket_errors"]:
                print(f"  errors ({run['client']}): {run['non_2xx']} non-2xx answers, socket errors: "
                      f"{run['socket_errors']}")


def _db_reads(port: int, headers: dict) -> int:
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/bench/db-reads", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)["db_reads"]


def _share(run: dict) -> str:
    """Database reads of a run as a share of its requests."""
    return f"{run['db_reads']:,} reads ({100 * run['db_reads'] / max(1, run['requests']):.1f}% of " \
           f"{run['requests']:,} requests)"


if __name__ == "__main__":
    main()
