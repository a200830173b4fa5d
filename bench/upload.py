"""Loading the whole warehouse: COPY + atomic swap (daemon.warehouse) vs the old upload, side by side.

The old upload deleted every row of a table, then inserted batches of 500 rows (no transaction). Here it is
reproduced against the same PostgreSQL: per table `delete from`, then one multi-row INSERT per 500 rows
(autocommit), the rows parsed from the CSV in Python as the old code did. The new path is exactly what the
upload job runs: COPY each CSV into a new table, build its primary key, swap all tables in one transaction.

Input: the ETL output of a synthetic season (etl.synth, default), or of the real league data (--real, from
BENCHSIGHT_SAMPLE_DATA, default ../shared/data), or an existing output folder (--output).
Database: DATABASE_URL, else an embedded PostgreSQL in a temporary folder.

    python bench/upload.py --games 40
    python bench/upload.py --real
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # first: bench/queue.py must not shadow the standard library's queue

import argparse  # noqa: E402
import asyncio
import os
import shutil
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pandas as pd

from daemon import database, migrations, warehouse  # noqa: E402
from etl.catalog import TABLES, TableSpec, read_table_csv  # noqa: E402
from etl.schema_sql import create_table, qualified  # noqa: E402

BATCH = 500


def build_output(args: argparse.Namespace, work: Path) -> Path:
    """ETL output to load: an existing folder, the real data's, or a synthetic season's."""
    import etl

    if args.output:
        return Path(args.output)
    if args.real:
        sample = Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", ROOT.parent / "shared" / "data"))
        if not (sample / "blb" / "BLB_Tables.xlsx").exists():
            sys.exit(f"no real data at {sample} (set BENCHSIGHT_SAMPLE_DATA)")
        blb, tracking = sample / "blb" / "BLB_Tables.xlsx", [sample / "tracking"]
    else:
        from etl import synth

        started = time.perf_counter()
        season = synth.generate(work / "synth", games=args.games, seed=args.seed,
                                untracked_games=args.untracked_games)
        print(f"synthetic season: {args.games} tracked + {args.untracked_games} untracked games "
              f"in {time.perf_counter() - started:.1f}s")
        blb, tracking = season.blb, [season.tracking]
    started = time.perf_counter()
    report = etl.run(blb, tracking, work / "output", cache_dir=work / "cache")
    print(f"etl: {report.status}, {sum(report.tables.values()):,} rows in {len(report.tables)} tables "
          f"in {time.perf_counter() - started:.1f}s")
    return work / "output"


def _python_values(df: pd.DataFrame, spec: TableSpec) -> list[tuple]:
    """Rows as typed Python values (what an INSERT needs), None for missing."""
    columns = []
    for column in spec.columns:
        s = df[column.name]
        if column.type == "date":
            values = [None if pd.isna(v) else v.date() for v in s]
        else:
            values = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in s.astype(object)]
        columns.append(values)
    return list(zip(*columns))


async def old_upload(conn: asyncpg.Connection, output: Path, schema: str) -> dict[str, int]:
    """Per table: delete all rows, then INSERT batches of 500 rows, each batch its own statement (autocommit)."""
    rows = {}
    for spec in TABLES.values():
        await conn.execute(f"delete from {qualified(schema, spec.name)}")
        records = _python_values(read_table_csv(output / f"{spec.name}.csv", spec), spec)
        names = ", ".join(f'"{c}"' for c in spec.column_names)
        width = len(spec.columns)
        statements: dict[int, str] = {}
        for start in range(0, len(records), BATCH):
            batch = records[start:start + BATCH]
            if len(batch) not in statements:
                values = ", ".join(
                    "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(len(batch)))
                statements[len(batch)] = f"insert into {qualified(schema, spec.name)} ({names}) values {values}"
            await conn.execute(statements[len(batch)], *[v for row in batch for v in row])
        rows[spec.name] = len(records)
    return rows


async def bench(server_url: str, output: Path, repeat: int) -> None:
    """Both loads into a fresh migrated database on the server (dropped afterwards)."""
    name = f"bench_upload_{os.getpid()}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'create database "{name}"')
    try:
        conn = await database.connect(urlunsplit(urlsplit(server_url)._replace(path=f"/{name}")))
        try:
            await migrations.migrate(conn, ROOT / "supabase" / "migrations")
            await _compare(conn, output, repeat)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def _compare(conn: asyncpg.Connection, output: Path, repeat: int) -> None:
    """Old way into schema bench_old, COPY + swap into bench_copy; prints the best time of each."""
    await conn.execute("drop schema if exists bench_old cascade; drop schema if exists bench_copy cascade; "
                       "create schema bench_old;")
    for spec in TABLES.values():
        await conn.execute(create_table(spec, schema="bench_old"))
    files = warehouse.table_files(output, list(TABLES.values()))
    total = sum(warehouse.count_rows(f.path) for f in files)
    print(f"warehouse: {len(files)} tables, {total:,} rows, "
          f"{sum(f.path.stat().st_size for f in files) / 1e6:.1f} MB of CSV")
    old_times, copy_times = [], []
    for i in range(repeat):
        started = time.perf_counter()
        old_rows = await old_upload(conn, output, "bench_old")
        old_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        new_rows = await warehouse.load_tables(conn, files, schema="bench_copy")
        copy_times.append(time.perf_counter() - started)
        assert old_rows == new_rows, "the two loads disagree on row counts"
        print(f"  run {i + 1}: old {old_times[-1]:.2f}s, copy+swap {copy_times[-1]:.2f}s")
    old, new = min(old_times), min(copy_times)
    print(f"old way (delete, INSERT batches of {BATCH}): {old:.2f}s  ({total / old:,.0f} rows/s)")
    print(f"COPY + atomic swap:                      {new:.2f}s  ({total / new:,.0f} rows/s)")
    print(f"speed-up: {old / new:.1f}x (best of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=40, help="tracked games of the synthetic season")
    parser.add_argument("--untracked-games", type=int, default=200, help="scheduled games without tracking")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real", action="store_true", help="use the real league data's ETL output")
    parser.add_argument("--output", help="an existing ETL output folder")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_upload_"))
    try:
        output = build_output(args, work)
        url = os.environ.get("DATABASE_URL")
        if not url:
            (work / "pg").mkdir()
            os.chmod(work, 0o755)
            url = database.embedded_url(work / "pg")
        asyncio.run(bench(url, output, args.repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
