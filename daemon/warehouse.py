"""Loading the ETL's output tables into PostgreSQL: COPY each CSV into a fresh `<table>__new`, then swap all of
them in, in one transaction.

The whole load is one transaction: the new tables are created from the catalog, filled (COPY streams the
CSV file to the server, no parsing in Python) and given their primary keys, then the old tables are locked,
dropped and the new ones renamed into place, and the load is recorded in warehouse_loads. A reader sees the
whole old warehouse or the whole new one (facts and dims consistent), never an empty or half-filled table;
a failure or a killed
daemon anywhere before the commit leaves the old warehouse as it was (the server rolls the transaction back
when the connection drops). Table and column names come only from etl.catalog; the CSV header is checked
against the catalog before anything is sent.
"""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg
import structlog

from etl.catalog import TABLES, TableSpec
from etl.schema_sql import create_table, embed_foreign_keys, identifier, qualified, read_only_access

log = structlog.get_logger()

Progress = Callable[[float, str], Awaitable[None]]

# Serialises warehouse loads that bypass the job queue (the bench, scripts); jobs are already serialised by
# the 'warehouse' exclusive group of claim_jobs.
_LOCK_KEY = 0x6265_6E63_6877  # "benchw"
NEW_SUFFIX = "__new"


class WarehouseError(Exception):
    """An output table cannot be loaded (missing CSV, header not matching the catalog); the message says which."""


@dataclass(frozen=True)
class TableFile:
    spec: TableSpec
    path: Path
    columns: list[str]  # the CSV header, every name a catalog column


def table_files(output_dir: Path, specs: Sequence[TableSpec]) -> list[TableFile]:
    """The CSV of every table, with its header checked against the catalog (same set of columns, any order)."""
    files = []
    for spec in specs:
        path = Path(output_dir) / f"{spec.name}.csv"
        if not path.is_file():
            raise WarehouseError(f"output table {spec.name}: {path} does not exist (run the ETL first)")
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
        expected = spec.column_names
        if sorted(header) != sorted(expected):
            missing = [c for c in expected if c not in header]
            extra = [c for c in header if c not in expected]
            raise WarehouseError(
                f"output table {spec.name}: CSV header does not match the catalog "
                f"(missing {missing}, unknown {extra}); re-run the ETL"
            )
        files.append(TableFile(spec, path, header))
    return files


def count_rows(path: Path) -> int:
    """Data rows of a CSV (quoted line breaks counted correctly)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return max(0, sum(1 for _ in csv.reader(fh)) - 1)


async def load_tables(
    conn: asyncpg.Connection,
    files: Sequence[TableFile],
    *,
    schema: str = "public",
    job_id: UUID | None = None,
    progress: Progress | None = None,
    lock_timeout: str = "60s",
    views_sql: str | None = None,
) -> dict[str, int]:
    """Replace the given tables atomically (all of them in one transaction) and return rows per table.

    views_sql: the dashboard views (sql/views/*.sql). When given, the old tables are dropped with the views
    that depend on them and the views are re-created in the same transaction; without it a view depending
    on a warehouse table makes the load fail (nothing is dropped silently).
    """
    rows: dict[str, int] = {}
    async with conn.transaction():
        await conn.execute(f"select pg_advisory_xact_lock({_LOCK_KEY}); create schema if not exists {identifier(schema)}")
        await conn.execute("\n".join(  # every new table in one round trip; keys are built after the COPY
            f"drop table if exists {qualified(schema, tf.spec.name + NEW_SUFFIX)};\n"
            + _without_primary_key(tf.spec, schema, tf.spec.name + NEW_SUFFIX) + "\n"
            + read_only_access(schema, tf.spec.name + NEW_SUFFIX) for tf in files))
        for i, tf in enumerate(files):
            name = tf.spec.name
            status = await conn.copy_to_table(
                name + NEW_SUFFIX, source=tf.path, columns=tf.columns, schema_name=schema, format="csv", header=True,
            )
            rows[name] = int(status.split()[-1])
            log.info("warehouse.table_loaded", table=name, rows=rows[name])
            if progress is not None:
                await progress((i + 1) / (len(files) + 1), f"loaded {name} ({rows[name]} rows)")
        await conn.execute("\n".join(
            f"alter table {qualified(schema, tf.spec.name + NEW_SUFFIX)} add constraint "
            f"{identifier(tf.spec.name + NEW_SUFFIX + '_pkey')} primary key "
            f"({', '.join(identifier(c) for c in tf.spec.primary_key)});" for tf in files))
        names = [tf.spec.name for tf in files]
        existing = set(await conn.fetchval(
            "select coalesce(array_agg(c.relname::text), '{}') from pg_class c join pg_namespace n "
            "on n.oid = c.relnamespace where n.nspname = $1 and c.relname = any($2::text[]) and c.relkind = 'r'",
            schema, names))
        await conn.execute(_swap_script(schema, names, existing, lock_timeout, cascade=views_sql is not None))
        if views_sql:  # the dashboard layer: every catalog table present, embed keys, views (re)built
            await conn.execute(await _dashboard_layer(conn, schema, views_sql))
        await conn.execute(
            "insert into public.warehouse_loads (job_id, db_schema, tables, rows) values ($1, $2, $3::jsonb, $4)",
            job_id, schema, rows, sum(rows.values()),
        )
        if progress is not None:
            await progress(1.0, f"swapped in {len(files)} tables")
    log.info("warehouse.swapped", tables=len(files), rows=sum(rows.values()), schema=schema)
    return rows


async def _dashboard_layer(conn: asyncpg.Connection, schema: str, views_sql: str) -> str:
    """The script that completes a swap for the dashboard: catalog tables this warehouse never loaded are
    created empty (a view never lacks a table), the embed foreign keys are declared again (a swapped table
    lost them), and the views are re-created, materialised ones computed here, inside the load's transaction."""
    present = set(await conn.fetchval(
        "select coalesce(array_agg(c.relname::text), '{}') from pg_class c join pg_namespace n "
        "on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'", schema))
    missing = [spec for name, spec in TABLES.items() if name not in present]
    parts = [create_table(spec, schema=schema) + "\n" + read_only_access(schema, spec.name) for spec in missing]
    return "\n".join(parts + [embed_foreign_keys(schema), views_sql])


def _without_primary_key(spec: TableSpec, schema: str, name: str) -> str:
    """The catalog DDL without its primary key: a bare table takes COPY faster; the key is added after."""
    lines = [line for line in create_table(spec, schema=schema, name=name).splitlines() if "primary key" not in line]
    lines[-2] = lines[-2].rstrip(",")
    return "\n".join(lines)


def _swap_script(schema: str, names: Sequence[str], existing: set[str], lock_timeout: str, *,
                 cascade: bool) -> str:
    """One round trip: lock the old tables (all at once), drop them, rename the new ones into place."""
    statements = [f"set local lock_timeout = '{_interval(lock_timeout)}'"]
    old = [qualified(schema, n) for n in names if n in existing]
    if old:
        statements.append(f"lock table {', '.join(old)} in access exclusive mode")
        statements.append(f"drop table {', '.join(old)}{' cascade' if cascade else ''}")
    for name in names:
        new = qualified(schema, name + NEW_SUFFIX)
        statements.append(f"alter table {new} rename to {identifier(name)}")
        statements.append(f"alter table {qualified(schema, name)} rename constraint "
                          f"{identifier(name + NEW_SUFFIX + '_pkey')} to {identifier(name + '_pkey')}")
    return ";\n".join(statements) + ";"


def _interval(value: str) -> str:
    if not value.replace("ms", "").replace("s", "").isdigit():
        raise ValueError(f"lock timeout {value!r} must look like '60s' or '500ms'")
    return value
