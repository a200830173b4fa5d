"""`etl`: build the warehouse tables from the league workbook and tracker files, optionally load them.

Status: running -> processing (the ETL in a child process, progress per game) -> uploading (when
options.upload_to_supabase: the output replaces the tables of the daemon's own database, atomically, see
daemon.warehouse) -> completed. Cancel terminates the child; etl.run publishes its output folder by rename,
so a cancelled or killed run leaves the previous output (and the previous tables) as they were.

Inputs (source 'excel'): <data dir>/raw/BLB_Tables.xlsx and every tracker file under <data dir>/raw/tracking/.
Source 'staging': the ETL reads files, so the stage tables are exported back to files first: a league
workbook whose sheets come from stage_<sheet> where staged (else from raw/BLB_Tables.xlsx), the tracker
files recorded in stage_tracking_files (stored under raw/tracking/ by the staging_tracking job), and the
dashboard tracker's rows (stage_events_tracking, stage_shifts_tracking) as one JSON export per game under
staging/tracking/ (a game in both is read from both: the more detailed file is used, the other compared).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any, Literal

import asyncpg
import xlsxwriter
from pydantic import BaseModel, ConfigDict, Field, model_validator

import etl
from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from etl.catalog import TABLES
from etl.readers.sheets import InputError
from handlers.staging_blb import DEFAULT_WORKBOOK, LEAGUE_TABLES, read_sheet_rows, stage_table_name
from handlers.upload import upload_output

PROCESSING_END = 90  # percent at which the ETL is done and the upload (if any) starts


class EtlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wipe: bool = Field(default=False, description="Forget the ETL's read cache (re-read every input file).")
    upload_to_supabase: bool = Field(default=False, description="Load the output into the daemon's database.")


class EtlParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["full", "single"] = Field(default="full", description="All games, or only game_ids.")
    game_ids: list[int] = Field(default_factory=list, description="Games to (re)build (mode 'single').")
    exclude_game_ids: list[int] = Field(default_factory=list, description="Games to leave out.")
    source: Literal["excel", "staging"] = Field(default="excel", description="Input files, or the stage tables.")
    options: EtlOptions = Field(default_factory=EtlOptions)

    @model_validator(mode="after")
    def _single_needs_games(self) -> "EtlParams":
        if self.mode == "single" and not self.game_ids:
            raise ValueError("mode 'single' needs game_ids")
        return self


def etl_job(blb: str, tracking: list[str], out: str, *, games: list[int] | None, exclude_games: list[int],
            wipe: bool, cache_dir: str, report: Any) -> dict:
    """Runs in the child process (module level, so it can be spawned): etl.run with progress reports."""
    result = etl.run(Path(blb), [Path(t) for t in tracking], Path(out), games=games, exclude_games=exclude_games,
                     wipe=wipe, progress=report, cache_dir=Path(cache_dir))
    return result.to_dict()


@handler("etl", EtlParams)
async def run(params: EtlParams, ctx: JobContext) -> dict:
    """Runs the ETL in a terminable child process; with upload_to_supabase loads the output atomically."""
    settings = ctx.settings
    await ctx.progress(0, f"etl {params.mode} from {params.source}", status="processing")
    if params.source == "staging":
        blb, tracking = await export_staging(ctx.pool, settings.data_dir)
    else:
        blb = settings.raw_dir / "BLB_Tables.xlsx"
        tracking_dir = settings.raw_dir / "tracking"
        tracking = [tracking_dir] if tracking_dir.is_dir() else []
    if not blb.is_file():
        raise PermanentJobError(f"league workbook {blb} does not exist; put BLB_Tables.xlsx under {settings.raw_dir}")
    try:
        report = await ctx.run_in_process(
            etl_job, str(blb), [str(t) for t in tracking], str(settings.output_dir),
            games=params.game_ids if params.mode == "single" else None, exclude_games=params.exclude_game_ids,
            wipe=params.options.wipe, cache_dir=str(settings.data_dir / ".etl_cache"),
            on_progress=ctx.progress_callback(0, PROCESSING_END, status="processing"),
        )
    except asyncio.CancelledError:
        _remove_partial_output(settings.output_dir)  # the child is dead by now; its staging folder is left
        raise
    if report["status"] == "failed":
        raise PermanentJobError(f"etl failed: {report.get('error')}")
    result = {
        "status": report["status"],
        "tables_created": sorted(report["tables"]),
        "rows": report["tables"],
        "games": report["games"],
        "issues": report["issues"],
        "issue_count": report["issue_count"],
        "issue_summary": report["issue_summary"],
        "duration_seconds": report["duration_seconds"],
        "output": str(settings.output_dir),
    }
    if params.options.upload_to_supabase:
        await ctx.progress(PROCESSING_END, "upload to the database", status="uploading")
        specs = [TABLES[name] for name in TABLES if name in report["tables"]]
        result["uploaded"] = await upload_output(ctx, settings.output_dir, specs, start=PROCESSING_END, end=100,
                                                 status="uploading")
    return result


def _remove_partial_output(out: Path) -> None:
    for tmp in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


async def export_staging(pool: asyncpg.Pool, data_dir: Path) -> tuple[Path, list[Path]]:
    """Write the staged league tables to <data dir>/staging/BLB_Tables.xlsx and list the staged tracker files.

    A league sheet that was never staged comes from raw/BLB_Tables.xlsx when that exists.
    """
    sheets: dict[str, list[dict]] = {}
    for table in LEAGUE_TABLES:
        name = stage_table_name(table)
        if await pool.fetchval("select to_regclass($1) is not null", f"public.{name}"):
            rows = await pool.fetch(f"select data from public.{name} order by row_no")
            if rows:
                sheets[table] = [r["data"] for r in rows]
    fallback = data_dir / DEFAULT_WORKBOOK
    if fallback.is_file():
        for table in LEAGUE_TABLES:
            if table not in sheets:
                try:
                    sheets[table] = await asyncio.to_thread(read_sheet_rows, fallback, table)
                except InputError:
                    continue
    files = [data_dir / r["file"] for r in await pool.fetch("select file from public.stage_tracking_files order by game_id")]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise PermanentJobError(f"staged tracker files are missing from the data dir: {missing}")
    blb = data_dir / "staging" / "BLB_Tables.xlsx"
    await asyncio.to_thread(write_workbook, blb, sheets)
    files += await export_tracker_tables(pool, data_dir / "staging" / "tracking")
    return blb, files


async def export_tracker_tables(pool: asyncpg.Pool, folder: Path) -> list[Path]:
    """The dashboard tracker's rows (stage_events_tracking, stage_shifts_tracking) as one tracker JSON export
    per game (<folder>/<game_id>.json, the current tracker's format), for the ETL's JSON reader.

    The folder is rewritten whole, so a game whose rows were deleted leaves no file behind."""
    events = await pool.fetch(
        "select game_id, event_index, period, type, team, zone, success, detail1, detail2, start_time, end_time, "
        "strength, linked_event_idx, players, puck_xy, net_xy, is_highlight from public.stage_events_tracking "
        "order by game_id, event_index nulls last, id")
    shifts = await pool.fetch(
        "select game_id, shift_index, period, start_time, end_time, start_type, stop_type, strength, home_lineup, "
        "away_lineup from public.stage_shifts_tracking order by game_id, shift_index nulls last, id")
    games: dict[int, dict] = {}
    for e in events:
        doc = games.setdefault(e["game_id"], {"events": [], "shifts": []})
        doc["events"].append({
            "idx": e["event_index"] if e["event_index"] is not None else len(doc["events"]), "period": e["period"],
            "type": e["type"], "team": e["team"], "zone": e["zone"], "success": e["success"],
            "detail1": e["detail1"], "detail2": e["detail2"], "start_time": e["start_time"],
            "end_time": e["end_time"], "strength": e["strength"], "linkedEventIdx": e["linked_event_idx"],
            "players": _json_value(e["players"]) or [], "puckXY": _json_value(e["puck_xy"]) or [],
            "netXY": _json_value(e["net_xy"]), "isHighlight": e["is_highlight"]})
    for sh in shifts:
        doc = games.setdefault(sh["game_id"], {"events": [], "shifts": []})
        doc["shifts"].append({
            "idx": sh["shift_index"] if sh["shift_index"] is not None else len(doc["shifts"]),
            "period": sh["period"], "start_time": sh["start_time"], "end_time": sh["end_time"],
            "start_type": sh["start_type"], "stop_type": sh["stop_type"], "strength": sh["strength"],
            "home": _json_value(sh["home_lineup"]), "away": _json_value(sh["away_lineup"])})
    return await asyncio.to_thread(_write_tracker_exports, folder, games)


def _json_value(value: Any) -> Any:
    """A jsonb cell as the tracker meant it: some tracker versions store JSON.stringify'd text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _write_tracker_exports(folder: Path, games: dict[int, dict]) -> list[Path]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for game_id, doc in sorted(games.items()):
        path = folder / f"{game_id}.json"
        path.write_text(json.dumps({"gameId": game_id, "version": "stage", **doc}), encoding="utf-8")
        paths.append(path)
    return paths


def write_workbook(path: Path, sheets: dict[str, list[dict]]) -> None:
    """One sheet per table, header = every key in order of first appearance."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".xlsx.part")
    book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                          "strings_to_urls": False})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        header = list(dict.fromkeys(key for row in rows for key in row))
        sheet.write_row(0, 0, header)
        for i, row in enumerate(rows, start=1):
            sheet.write_row(i, 0, [row.get(h) for h in header])
    book.close()
    tmp.replace(path)
