"""`upload`: load the ETL's output tables (<data dir>/output/<table>.csv) into PostgreSQL.

Tables are chosen from the catalog only and replaced atomically by daemon.warehouse: COPY into new tables,
then one transaction swaps them all in. Modes (each a set of catalog tables, read from the catalog's metadata
so new tables join their set without a change here): all; dims, facts, qa (by kind); basic (the `*_basic`
stats tables, as the old upload script named them); tracking (the per-game facts built from tracker files:
every fact keyed by game_id except the official scoresheet fact_gameroster); tables (the named ones); pattern
(a glob). options.clean also drops the warehouse tables of the target schema that the catalog no longer has
(dim_/fact_/qa_/lookup_ leftovers of an older warehouse); other option keys are reported as ignored.
"""

from __future__ import annotations

import asyncio
import fnmatch
from pathlib import Path
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from daemon import etl_runs, warehouse
from daemon.filestore import FileStore
from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from etl.catalog import TABLES, TableSpec
from etl.schema_sql import identifier, qualified
from handlers.options import report_ignored
from handlers.schema import views_sql

OFFICIAL_SCORESHEET = "fact_gameroster"  # keyed by game, but from the league workbook, not from tracking
WAREHOUSE_PREFIXES = ("dim_", "fact_", "qa_", "lookup_")


class UploadOptions(BaseModel):
    """Known keys act; any other key is kept (extra) and reported as ignored in the job's history."""

    model_config = ConfigDict(extra="allow")

    clean: bool = Field(default=False, description="Also drop warehouse tables the catalog no longer has.")


# Schemas an upload may never write into: PostgreSQL's own and Supabase's (auth, storage, realtime, ...).
SYSTEM_SCHEMAS = frozenset({
    "information_schema", "auth", "storage", "realtime", "extensions", "graphql", "graphql_public", "vault",
    "pgsodium", "pgsodium_masks", "net", "cron", "pgbouncer", "supabase_functions", "supabase_migrations",
    "_realtime", "_analytics",
})
SYSTEM_PREFIXES = ("pg_", "supabase_")


def check_schema(name: str) -> str:
    """name when an upload may write tables into it; ValueError for system schemas and unusable names."""
    identifier(name)  # raises ValueError for an unusable schema name
    if name in SYSTEM_SCHEMAS or name.startswith(SYSTEM_PREFIXES):
        raise ValueError(f"schema {name!r} belongs to PostgreSQL or Supabase; use public or a schema of your own")
    return name


class UploadParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    mode: Literal["all", "dims", "facts", "qa", "basic", "tracking", "tables", "pattern"] = Field(
        default="all", description="all catalog tables, a set of them (dims, facts, qa, basic, tracking), the "
                                   "named tables, or a glob.")
    tables: list[str] = Field(default_factory=list, max_length=len(TABLES),
                              description="Catalog table names (mode 'tables').")
    pattern: str | None = Field(default=None, max_length=100,
                                description="Glob over catalog table names (mode 'pattern'), e.g. 'fact_*'; "
                                            "must match at least one.")
    dry_run: bool = Field(default=False, description="Count what would be loaded; change nothing.")
    db_schema: str = Field(default="public", alias="schema", max_length=63, pattern=r"^[a-z_][a-z0-9_]*$",
                           json_schema_extra={"not": {"enum": sorted(SYSTEM_SCHEMAS)}},
                           description="Target PostgreSQL schema: not information_schema, pg_*, supabase_* nor "
                                       "Supabase's auth, storage, realtime, extensions, graphql, vault, ...")
    options: UploadOptions = Field(default_factory=UploadOptions)
    run_id: int | None = Field(default=None, ge=1, le=2**62,
                               description="The ETL run (etl_runs.id) whose tables to load; default the newest run "
                                           "with output. Its archive comes from the file store, on any host.")
    local_output: bool = Field(default=False, description="Load <data dir>/output/ of the daemon's own host "
                                                          "instead of a recorded run (POST /api/upload/tables).")

    @model_validator(mode="after")
    def _consistent(self) -> "UploadParams":
        if self.mode == "tables" and not self.tables:
            raise ValueError("mode 'tables' needs a non-empty 'tables' list")
        if self.mode == "pattern" and not self.pattern:
            raise ValueError("mode 'pattern' needs 'pattern'")
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown tables {unknown}; the catalog has {', '.join(TABLES)}")
        if self.pattern and not any(fnmatch.fnmatchcase(n, self.pattern) for n in TABLES):
            raise ValueError(f"pattern {self.pattern!r} matches no catalog table ({', '.join(TABLES)})")
        check_schema(self.db_schema)
        return self


def mode_tables(mode: str) -> list[str]:
    """The catalog tables of a named set (all, dims, facts, qa, basic, tracking), in catalog order."""
    sets = {
        "all": lambda name, spec: True,
        "dims": lambda name, spec: spec.kind == "dim",
        "facts": lambda name, spec: spec.kind == "fact",
        "qa": lambda name, spec: spec.kind == "qa",
        "basic": lambda name, spec: name.endswith("_basic"),
        "tracking": lambda name, spec: (spec.kind == "fact" and "game_id" in spec.primary_key
                                        and name != OFFICIAL_SCORESHEET),
    }
    return [name for name, spec in TABLES.items() if sets[mode](name, spec)]


def select_tables(params: UploadParams) -> list[TableSpec]:
    """The catalog tables an upload covers, in catalog order (dims before facts)."""
    if params.mode == "tables":
        chosen = [n for n in TABLES if n in params.tables]
    elif params.mode == "pattern":
        chosen = [n for n in TABLES if fnmatch.fnmatchcase(n, params.pattern or "")]
    else:
        chosen = mode_tables(params.mode)
    if not chosen:
        what = f"pattern {params.pattern!r}" if params.mode == "pattern" else f"mode {params.mode!r}"
        raise PermanentJobError(f"upload {what} matches no catalog table ({', '.join(TABLES)})")
    return [TABLES[n] for n in chosen]


async def drop_leftover_tables(ctx: JobContext, schema: str) -> list[str]:
    """options.clean: drop the schema's warehouse-named tables that the catalog does not have. A table that
    something else depends on (a view) is kept, and the job's history says so."""
    rows = await ctx.pool.fetch(
        "select tablename from pg_tables where schemaname = $1 and tablename ~ '^(dim|fact|qa|lookup)_' "
        "and not (tablename = any($2::text[])) order by tablename", schema, list(TABLES))
    dropped = []
    for row in rows:
        name = row["tablename"]
        try:
            await ctx.pool.execute(f"drop table {qualified(schema, name)}")
            dropped.append(name)
        except asyncpg.DependentObjectsStillExistError as exc:
            await ctx.pool.execute(
                "insert into public.job_events (job_id, status, level, message, worker) "
                "values ($1, $2, 'warning', $3, $4)",
                ctx.job_id, ctx.status, f"clean: kept {schema}.{name}: {exc}", ctx.worker)
    if dropped:
        ctx.log.info("upload.cleaned", schema=schema, tables=dropped)
    return dropped


async def upload_output(ctx: JobContext, output_dir: Path, specs: list[TableSpec], *, schema: str = "public",
                        start: float = 0.0, end: float = 100.0, status: str | None = None) -> dict[str, int]:
    """Load the tables' CSVs from output_dir into the job's database; progress per table in start..end."""
    try:
        files = warehouse.table_files(output_dir, specs)
    except warehouse.WarehouseError as exc:
        raise PermanentJobError(str(exc)) from exc

    async def progress(fraction: float, step: str) -> None:
        await ctx.progress(start + (end - start) * fraction, step, status=status)

    views = views_sql(ctx.settings.sql_dir) if schema == "public" else None
    async with ctx.pool.acquire() as conn:
        return await warehouse.load_tables(conn, files, schema=schema, job_id=ctx.job_id, progress=progress,
                                           views_sql=views)


async def _tables_folder(ctx: JobContext, params: UploadParams) -> tuple[Path, int | None]:
    """(folder of the CSVs to load, the ETL run they are): the named or newest recorded run, fetched from the
    file store into this host's cache; the local output folder only when asked, or before any run exists."""
    if params.local_output:
        return ctx.settings.output_dir, None
    try:
        run = await etl_runs.find_run(ctx.pool, params.run_id)
    except etl_runs.NoRun as exc:
        if params.run_id is not None:
            raise PermanentJobError(str(exc)) from exc
        ctx.log.warning("upload.no_recorded_run", hint="loading this host's output folder")
        return ctx.settings.output_dir, None
    store = FileStore.from_settings(ctx.pool, ctx.settings)
    return await etl_runs.output_of(store, run, ctx.settings.data_dir / "cache" / "runs"), run["id"]


@handler("upload", UploadParams)
async def run(params: UploadParams, ctx: JobContext) -> dict:
    """Replaces the chosen warehouse tables with the ETL output, atomically (COPY, then one swap)."""
    specs = select_tables(params)
    output_dir, run_id = await _tables_folder(ctx, params)
    await report_ignored(ctx, params.options, {"clean": "a dry run changes nothing"}
                         if params.dry_run and params.options.clean else None)
    if params.dry_run:
        try:
            files = warehouse.table_files(output_dir, specs)
        except warehouse.WarehouseError as exc:
            raise PermanentJobError(str(exc)) from exc
        rows = {tf.spec.name: await asyncio.to_thread(warehouse.count_rows, tf.path) for tf in files}
        return {"dry_run": True, "schema": params.db_schema, "tables": rows, "rows": sum(rows.values())}
    await ctx.progress(0, f"upload {len(specs)} tables ({params.mode})", status="uploading")
    rows = await upload_output(ctx, output_dir, specs, schema=params.db_schema, status="uploading")
    result = {"dry_run": False, "schema": params.db_schema, "tables": rows, "rows": sum(rows.values()),
              "tables_created": list(rows), "etl_run_id": run_id}
    if params.options.clean:
        result["dropped"] = await drop_leftover_tables(ctx, params.db_schema)
    return result
