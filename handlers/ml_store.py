"""The database side of the models (shared by ml_train, ml_predict and the /api/ml routes): reading the
warehouse tables the models learn from, recording versions in ml_models, reading the latest versions, and
swapping the prediction tables in atomically. Not a job kind."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from uuid import UUID

import asyncpg
import numpy as np
import pandas as pd

from etl.schema_sql import identifier, qualified

REQUIRED_TABLES = ("dim_schedule", "fact_gameroster")
OPTIONAL_TABLES = ("fact_shots", "fact_events", "fact_zone_entries", "dim_rinkcoordzones")
NEW_SUFFIX = "__new"


class MissingTables(Exception):
    """The warehouse lacks a table the models need (load it with an upload job first)."""


async def read_tables(conn: asyncpg.Connection, schema: str = "public") -> dict[str, pd.DataFrame]:
    """The training tables as frames (every column, as loaded); optional ones only where they exist."""
    frames = {}
    for name in REQUIRED_TABLES + OPTIONAL_TABLES:
        if not await conn.fetchval("select to_regclass($1) is not null", f"{schema}.{name}"):
            if name in REQUIRED_TABLES:
                raise MissingTables(f"warehouse table {schema}.{name} does not exist (run an upload first)")
            continue
        stmt = await conn.prepare(f"select * from {qualified(schema, name)}")
        columns = [a.name for a in stmt.get_attributes()]
        rows = await stmt.fetch()
        frames[name] = await asyncio.to_thread(_frame, rows, columns)
    return frames


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


async def record_models(conn: asyncpg.Connection, records: list[dict], job_id: UUID | None) -> list[dict]:
    """Record each fitted model as its next version (unchanged ones keep their version)."""
    out = []
    for r in records:
        row = await conn.fetchrow(
            "select * from public.record_ml_model($1, $2::timestamptz, $3, $4, $5::jsonb, $6::jsonb, $7, $8::jsonb, $9, $10)",
            r["model"], _ts(r["trained_at"]), r["data_hash"], r["n_train"], r["hyperparameters"], r["metrics"],
            r["beats_baseline"], r["params"], r["notes"], job_id)
        out.append({"model": r["model"], "version": row["version"], "new_version": row["created"],
                    "beats_baseline": r["beats_baseline"]})
    return out


def _ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


LATEST = """
select distinct on (model) id, model, version, trained_at, data_hash, n_train, hyperparameters, metrics,
       beats_baseline, notes, recorded_at {params}
from public.ml_models order by model, version desc
"""


async def latest_models(conn: asyncpg.Connection | asyncpg.Pool, *, with_params: bool = True) -> list[dict]:
    rows = await conn.fetch(LATEST.format(params=", params" if with_params else ""))
    return [dict(r) for r in rows]


async def registry_state(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """Changes whenever a version is recorded (the newest row id), for reloading served models."""
    return await conn.fetchval("select coalesce(max(id), 0) from public.ml_models")


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "bigint"
    if pd.api.types.is_float_dtype(series):
        return "double precision"
    return "text"


def _records(frame: pd.DataFrame) -> list[tuple]:
    cols = []
    for c in frame.columns:
        s = frame[c]
        if _sql_type(s) == "text":
            cols.append([None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)
                         for v in s.astype(object)])
        elif _sql_type(s) == "double precision":
            cols.append([None if np.isnan(v) else float(v) for v in s.to_numpy(float)])
        elif _sql_type(s) == "bigint":
            cols.append([int(v) for v in s])
        else:
            cols.append([bool(v) for v in s])
    return list(zip(*cols))


async def swap_prediction_tables(conn: asyncpg.Connection, tables: Mapping[str, pd.DataFrame],
                                 xg_columns: tuple, schema: str = "public") -> dict:
    """One transaction: every prediction table built as <name>__new and renamed into place, then the
    dashboard's xG columns filled where the warehouse has them. Readers see all old or all new."""
    filled: dict[str, int] = {}
    async with conn.transaction():
        for name, frame in tables.items():
            new = name + NEW_SUFFIX
            cols = ", ".join(f"{identifier(c)} {_sql_type(frame[c])}" for c in frame.columns)
            await conn.execute(f"drop table if exists {qualified(schema, new)}; create table {qualified(schema, new)} ({cols})")
            if len(frame):
                await conn.copy_records_to_table(new, records=_records(frame), columns=list(frame.columns),
                                                 schema_name=schema)
            await conn.execute(f"drop table if exists {qualified(schema, name)}; "
                               f"alter table {qualified(schema, new)} rename to {identifier(name)}")
            await conn.execute("select public.warehouse_access($1::regclass, true)", f"{schema}.{name}")
        for (table, keys, column), (source, src_keys, src_col) in xg_columns:
            frame = tables.get(source)
            if frame is None or not await _has_column(conn, schema, table, column, keys):
                continue
            arrays = [frame[k].astype(str).tolist() for k in src_keys] + [frame[src_col].astype(float).tolist()]
            where = " and ".join(f"t.{identifier(k)}::text = v.k{i}" for i, k in enumerate(keys))
            status = await conn.execute(
                f"update {qualified(schema, table)} t set {identifier(column)} = v.val "
                f"from unnest({', '.join(f'${i + 1}::text[]' for i in range(len(keys)))}, ${len(keys) + 1}::float8[]) "
                f"as v({', '.join(f'k{i}' for i in range(len(keys)))}, val) where {where}", *arrays)
            filled[f"{table}.{column}"] = int(status.split()[-1])
    return filled


async def _has_column(conn: asyncpg.Connection, schema: str, table: str, column: str, keys: tuple) -> bool:
    have = set(await conn.fetchval(
        "select coalesce(array_agg(column_name::text), '{}') from information_schema.columns "
        "where table_schema = $1 and table_name = $2", schema, table))
    return column in have and all(k in have for k in keys)

