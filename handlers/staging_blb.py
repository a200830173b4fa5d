"""`staging_blb`: one league table (a sheet of the league workbook, or JSON rows) into stage_<table>.

Only the sheets the ETL's league reader uses can be staged (the allow-list below comes from it), so the
table name in SQL is never user text. A stage table is (row_no, data jsonb): sheets gain and lose columns
between seasons, and jsonb keeps every column without a migration per sheet; the two the dashboard reads
(CLIENT_READ_TABLES) also carry typed columns generated from the jsonb. `replace` (the default) empties
the table in the same transaction that loads the new rows, so readers see the old rows or the new ones.
"""

from __future__ import annotations

import asyncio
import math
from datetime import date, datetime, time
from pathlib import Path

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from etl.readers.league_workbook import OPTIONAL_SHEETS, REQUIRED_SHEETS
from etl.readers.sheets import InputError, open_workbook

LEAGUE_TABLES: tuple[str, ...] = tuple(REQUIRED_SHEETS) + tuple(OPTIONAL_SHEETS)
DEFAULT_WORKBOOK = "raw/BLB_Tables.xlsx"


class StagingBlbParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(description="League table (workbook sheet) name, e.g. 'dim_player'.")
    file: str | None = Field(default=None, description=f"Workbook relative to the data dir (default {DEFAULT_WORKBOOK}).")
    rows: list[dict] | None = Field(default=None, description="JSON rows to stage instead of reading a workbook.")
    replace: bool = Field(default=True, description="Replace the staged rows (else append).")

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        if value not in LEAGUE_TABLES:
            raise ValueError(f"unknown league table {value!r}; one of {', '.join(LEAGUE_TABLES)}")
        return value


def stage_table_name(table: str) -> str:
    """stage_<table> for an allow-listed league table (raises for any other name)."""
    if table not in LEAGUE_TABLES:
        raise ValueError(f"unknown league table {table!r}")
    return f"stage_{table}"


# Sheets the league's dashboard reads staged (its tracker lists games and rosters from them): their stage
# tables are created by migration 20261201000300 with typed columns generated from the jsonb, and clients
# may read them; every other stage table is the daemon's alone.
CLIENT_READ_TABLES = frozenset({"dim_schedule", "fact_gameroster"})


def stage_table_ddl(table: str) -> str:
    name = stage_table_name(table)
    readable = "true" if table in CLIENT_READ_TABLES else "false"
    return (f"create table if not exists public.{name} (row_no integer primary key, "
            "data jsonb not null, source text, staged_at timestamptz not null default now()); "
            f"select public.warehouse_access('public.{name}', {readable})")


@handler("staging_blb", StagingBlbParams)
async def run(params: StagingBlbParams, ctx: JobContext) -> dict:
    """Stages one league table from the league workbook or JSON rows into stage_<table>."""
    if params.rows is not None:
        rows, source = params.rows, "json rows"
    else:
        path = _resolve(ctx.settings.data_dir, params.file or DEFAULT_WORKBOOK)
        await ctx.progress(10, f"read {path.name} sheet {params.table}")
        try:
            rows = await asyncio.to_thread(read_sheet_rows, path, params.table)
        except InputError as exc:
            raise PermanentJobError(str(exc)) from exc
        source = str(path.relative_to(ctx.settings.data_dir))
    await ctx.progress(50, f"stage {len(rows)} rows")
    total = await _stage(ctx.pool, params.table, rows, source, params.replace)
    ctx.log.info("staging_blb.staged", table=params.table, rows=len(rows), total=total)
    return {"table": stage_table_name(params.table), "rows": len(rows), "total_rows": total, "source": source,
            "replaced": params.replace}


def read_sheet_rows(path: Path, sheet: str) -> list[dict]:
    """One sheet as a list of {header: value}, blank cells left out, blank rows skipped."""
    wb = open_workbook(path)
    if sheet not in wb.sheet_names:
        raise InputError(f"workbook {path.name}: sheet {sheet!r} is missing")
    rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if not rows:
        return []
    header = [str(h).strip() for h in rows[0]]
    out = []
    for raw in rows[1:]:
        row = {h: _jsonable(v) for h, v in zip(header, raw) if h and v not in ("", None)}
        if row:
            out.append(row)
    return out


def _jsonable(value: object) -> object:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _resolve(data_dir: Path, relative: str) -> Path:
    root = data_dir.resolve()
    path = (data_dir / relative).resolve()
    if root not in path.parents:
        raise PermanentJobError(f"workbook {relative!r} is not under the data dir")
    if not path.is_file():
        raise PermanentJobError(f"workbook {relative!r} does not exist under the data dir")
    return path


async def _stage(pool: asyncpg.Pool, table: str, rows: list[dict], source: str, replace: bool) -> int:
    name = stage_table_name(table)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(stage_table_ddl(table))
        # serialise writers of this stage table (appends number rows after the current maximum)
        await conn.execute(f"lock table public.{name} in share row exclusive mode")
        if replace:
            await conn.execute(f"delete from public.{name}")
        start = await conn.fetchval(f"select coalesce(max(row_no), 0) from public.{name}")
        if rows:  # one jsonb array parameter (the pool's codec encodes it); COPY has no binary jsonb encoder
            await conn.execute(
                f"insert into public.{name} (row_no, data, source) "
                "select $2 + e.ord, e.value, $3 from jsonb_array_elements($1::jsonb) with ordinality as e(value, ord)",
                rows, start, source,
            )
        return await conn.fetchval(f"select count(*) from public.{name}")
