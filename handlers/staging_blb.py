"""`staging_blb`: one league table (a sheet of the league workbook, or JSON rows) into stage_<table>.

Only the sheets the ETL's league reader uses can be staged (the allow-list below comes from it), so the
table name in SQL is never user text. A stage table is (row_no, data jsonb): sheets gain and lose columns
between seasons, and jsonb keeps every column without a migration per sheet; the two the dashboard reads
(CLIENT_READ_TABLES) also carry typed columns generated from the jsonb. `replace` (the default) empties
the table in the same transaction that loads the new rows, so readers see the old rows or the new ones.

The workbook is read in a child process with memory and time limits (etl.readers.guard). A workbook the
readers reject fails the job without retry; an uploaded one (under raw/uploads/) is also moved to
<data dir>/rejected/ with a `<name>.reason.txt`. raw/BLB_Tables.xlsx, the operator's own file, stays put.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from etl.readers import guard, sheets
from etl.readers.errors import InputError
from etl.readers.league_workbook import OPTIONAL_SHEETS, REQUIRED_SHEETS
from handlers.paths import MAX_PATH_LENGTH, relative_file_under

LEAGUE_TABLES: tuple[str, ...] = tuple(REQUIRED_SHEETS) + tuple(OPTIONAL_SHEETS)
DEFAULT_WORKBOOK = "raw/BLB_Tables.xlsx"
UPLOADS_SUBDIR = Path("raw") / "uploads"
REJECTED_SUBDIR = Path("rejected")
MAX_ROWS = 50_000


class StagingBlbParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(description="League table (workbook sheet) name, e.g. 'dim_player'.")
    file: str | None = Field(default=None, max_length=MAX_PATH_LENGTH,
                             description=f"Workbook (.xlsx) relative to the data dir, under raw/ "
                                         f"(default {DEFAULT_WORKBOOK}).")
    rows: list[dict] | None = Field(default=None, max_length=MAX_ROWS,
                                    description=f"JSON rows to stage instead of reading a workbook (at most "
                                                f"{MAX_ROWS}; the whole body at most 512 KiB).")
    replace: bool = Field(default=True, description="Replace the staged rows (else append).")

    @field_validator("file")
    @classmethod
    def _under_raw(cls, value: str | None) -> str | None:
        return None if value is None else relative_file_under(value, "raw", (".xlsx",))

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
            await asyncio.to_thread(_reject_upload, ctx.settings.data_dir, path, str(exc))
            ctx.log.warning("staging_blb.rejected", file=str(path.name), error=str(exc))
            raise PermanentJobError(str(exc)) from exc
        source = str(path.relative_to(ctx.settings.data_dir))
    await ctx.progress(50, f"stage {len(rows)} rows")
    total = await _stage(ctx.pool, params.table, rows, source, params.replace)
    ctx.log.info("staging_blb.staged", table=params.table, rows=len(rows), total=total)
    return {"table": stage_table_name(params.table), "rows": len(rows), "total_rows": total, "source": source,
            "replaced": params.replace}


def read_sheet_rows(path: Path, sheet: str) -> list[dict]:
    """One sheet as a list of {header: value} (etl.readers.sheets.sheet_records), read in a limited child
    process; InputError when the readers reject the workbook."""
    return guard.run_guarded(sheets.sheet_records, path, sheet, name=f"workbook {path.name}")


def _reject_upload(data_dir: Path, path: Path, reason: str) -> None:
    """An uploaded workbook the readers rejected leaves raw/uploads/ for rejected/, with the reason beside it."""
    if (data_dir / UPLOADS_SUBDIR).resolve() not in path.parents:
        return
    folder = data_dir / REJECTED_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(folder / path.name))
    (folder / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")


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
