"""Dashboard reads: every relation of the contract (../shared/contracts/dashboard-reads.tsv) queried the way a
page does, on the real league data and on a synthetic league: p50/p95 per relation.

A page selects the contract's columns of one relation with the filter it is opened with: a game page by
game_id (tables), a leaders or standings page by season_id in rank order, a player page by player_id (a
goalie's for goalie relations), a season page by season_id, a team page by team_id, else the whole
relation (at most 100 rows, newest first when it has a date). Each query is a prepared statement run through asyncpg (PostgREST adds its own fixed
cost per request on top). The baseline is `select 1` on the same connection, measured in the same run.

Targets: p95 <= 20 ms on the real data, <= 100 ms on the 500-game synthetic league.
Database: DATABASE_URL, else an embedded PostgreSQL in a temporary folder. Nothing is written to the repo.

    python bench/dashboard.py [--games 500] [--skip-real] [--skip-synthetic] [--repeat 40]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # first: bench/queue.py must not shadow the standard library's queue

import argparse  # noqa: E402
import asyncio
import csv
import os
import shutil
import statistics
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from daemon import database, migrations, warehouse  # noqa: E402
from etl.catalog import TABLES  # noqa: E402
from handlers.schema import views_sql  # noqa: E402

CONTRACT = Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", ROOT.parent / "shared" / "data")).parent / "contracts" / "dashboard-reads.tsv"
REAL_P95_MS, SYNTH_P95_MS = 20.0, 100.0
RANK_COLUMNS = ("season_rank", "standing", "points_rank", "wins_rank")


def contract() -> list[tuple[str, str, list[str]]]:
    with open(CONTRACT, newline="", encoding="utf-8") as fh:
        return [(r["name"], r["kind"], r["columns_used"].split(",")) for r in csv.DictReader(fh, delimiter="\t")]


def page_query(name: str, kind: str, columns: list[str]) -> tuple[str, str | None]:
    """The query a page makes of the relation, and which parameter it takes (game_id, player_id, ...)."""
    select = f"select {', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)} from public.{name}"
    rank = next((c for c in RANK_COLUMNS if c in columns), None)
    order = f" order by {rank}" if rank else (" order by date desc" if "date" in columns else "")
    if "game_id" in columns and kind == "table":
        return f"{select} where game_id = $1", "game_id"
    if "season_id" in columns and rank:  # a leaders / standings page: one season, in rank order
        return f"{select} where season_id = $1{order} limit 50", "season_id"
    if "player_id" in columns:
        return f"{select} where player_id = $1", "goalie_id" if "goalie" in name else "player_id"
    if "season_id" in columns:
        return f"{select} where season_id = $1{order} limit 50", "season_id"
    if "team_id" in columns:
        return f"{select} where team_id = $1{order}", "team_id"
    return f"{select}{order} limit 100", None


async def page_parameters(conn: asyncpg.Connection, game_id: int) -> dict[str, object]:
    """A tracked game, its busiest skater, the busiest goalie, the current season, that game's home team."""
    player = await conn.fetchval(
        "select player_id from public.fact_gameroster where player_id in (select player_id from "
        "public.fact_gameroster where game_id = $1 and player_position <> 'Goalie') group by player_id "
        "order by count(*) desc limit 1", game_id)
    goalie = await conn.fetchval(
        "select player_id from public.fact_gameroster where player_position = 'Goalie' group by player_id "
        "order by count(*) desc limit 1")
    season = await conn.fetchval("select season_id from public.dim_schedule order by date desc nulls last limit 1")
    team = await conn.fetchval("select home_team_id from public.dim_schedule where game_id = $1", game_id)
    return {"game_id": game_id, "player_id": player, "goalie_id": goalie, "season_id": season, "team_id": team}


async def time_query(conn: asyncpg.Connection, sql: str, args: tuple, repeat: int) -> tuple[float, float, int]:
    statement = await conn.prepare(sql)
    rows = 0
    for _ in range(3):
        rows = len(await statement.fetch(*args))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await statement.fetch(*args)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], rows


async def measure(conn: asyncpg.Connection, label: str, game_id: int, repeat: int, target: float) -> list[str]:
    """Print p50/p95 per relation; returns the relations that missed the target."""
    params = await page_parameters(conn, game_id)
    base50, base95, _ = await time_query(conn, "select 1", (), repeat)
    present = {r["relname"] for r in await conn.fetch(
        "select c.relname::text as relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'public'")}
    print(f"\n{label}: baseline select 1 p50 {base50:.2f} ms, p95 {base95:.2f} ms; page params {params}")
    print(f"{'relation':34} {'filter':10} {'rows':>6} {'p50 ms':>8} {'p95 ms':>8} {'p95/base':>9}  result")
    missed = []
    for name, kind, columns in contract():
        sql, param = page_query(name, kind, columns)
        if name not in present:
            print(f"{name:34} {'-':10} {'-':>6} {'-':>8} {'-':>8} {'-':>9}  MISSING (relation not in database)")
            missed.append(name)
            continue
        try:
            p50, p95, rows = await time_query(conn, sql, (params[param],) if param else (), repeat)
        except asyncpg.PostgresError as exc:
            print(f"{name:34} {param or '-':10} {'-':>6} {'-':>8} {'-':>8} {'-':>9}  ERROR {exc}")
            missed.append(name)
            continue
        ok = p95 <= target
        missed += [] if ok else [name]
        print(f"{name:34} {param or '-':10} {rows:>6} {p50:>8.2f} {p95:>8.2f} {p95 / base95:>9.1f}  "
              f"{'PASS' if ok else 'MISSED'} (p95 <= {target:.0f} ms)")
    return missed


async def load_and_measure(server_url: str, output: Path, label: str, game_id: int, repeat: int,
                           target: float) -> list[str]:
    """A fresh migrated database, the output uploaded with the views (as the upload job does), measured."""
    name = f"bench_dashboard_{os.getpid()}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'drop database if exists "{name}" with (force)')
    await admin.execute(f'create database "{name}"')
    try:
        conn = await database.connect(urlunsplit(urlsplit(server_url)._replace(path=f"/{name}")))
        try:
            await migrations.migrate(conn, ROOT / "supabase" / "migrations")
            files = warehouse.table_files(output, list(TABLES.values()))
            started = time.perf_counter()
            await warehouse.load_tables(conn, files, views_sql=views_sql(ROOT / "sql"))
            print(f"\n{label}: upload with views {time.perf_counter() - started:.2f} s")
            await conn.execute("analyze")
            return await measure(conn, label, game_id, repeat, target)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


def etl_output(blb: Path, tracking: list[Path], work: Path) -> Path:
    import etl

    started = time.perf_counter()
    report = etl.run(blb, tracking, work / "output", cache_dir=work / "cache")
    print(f"etl: {report.status}, {sum(report.tables.values()):,} rows in {time.perf_counter() - started:.1f} s")
    return work / "output"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=500, help="tracked games of the synthetic league")
    parser.add_argument("--repeat", type=int, default=40, help="timed runs per query")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_dashboard_"))
    missed: dict[str, list[str]] = {}
    try:
        url = os.environ.get("DATABASE_URL")
        if not url:
            (work / "pg").mkdir()
            os.chmod(work, 0o755)
            url = database.embedded_url(work / "pg")
        if not args.skip_real:
            sample = Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", ROOT.parent / "shared" / "data"))
            if (sample / "blb" / "BLB_Tables.xlsx").exists():
                out = etl_output(sample / "blb" / "BLB_Tables.xlsx", [sample / "tracking"], work / "real")
                missed["real"] = asyncio.run(load_and_measure(url, out, "real data", 18969, args.repeat,
                                                              REAL_P95_MS))
            else:
                print(f"real data not found at {sample}: skipped")
        if not args.skip_synthetic:
            from etl import synth

            started = time.perf_counter()
            league = synth.generate(work / "synth", games=args.games, seed=7, formats=("json",))
            print(f"\nsynthetic league: {args.games} games in {time.perf_counter() - started:.1f} s")
            out = etl_output(league.blb, [league.tracking], work / "synth-run")
            missed["synthetic"] = asyncio.run(load_and_measure(
                url, out, f"synthetic {args.games} games", league.game_ids[len(league.game_ids) // 2],
                args.repeat, SYNTH_P95_MS))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    for label, names in missed.items():
        print(f"{label}: {'all relations within target' if not names else 'MISSED: ' + ', '.join(names)}")


if __name__ == "__main__":
    main()
