"""`etl`: build the warehouse tables from the league workbook and tracker files, optionally load them.

Status: running -> processing (the ETL in a child process, progress per game) -> uploading (when
options.upload_to_supabase: the output replaces the tables of the daemon's own database, atomically, see
daemon.warehouse) -> completed. Cancel terminates the child; etl.run publishes its output folder by rename,
so a cancelled or killed run leaves the previous output (and the previous tables) as they were.

Inputs (source 'excel'): the league's current inputs in the database's file store (daemon.filestore: one league
workbook, per game the newest tracker file of each format unless an older one is pinned), linked into
<data dir>/inputs/current/; files found in <data dir>/raw/ are registered into the store first. The run is
recorded in etl_runs with its output archived in the store (daemon.etl_runs), so an upload on any host loads it.
Source 'staging': the ETL reads files, so the stage tables are exported back to files first: a league
workbook whose sheets come from stage_<sheet> where staged (else from raw/BLB_Tables.xlsx), the tracker
files recorded in stage_tracking_files (stored under raw/tracking/ by the staging_tracking job), and the
dashboard tracker's rows (stage_events_tracking, stage_shifts_tracking) as one JSON export per game under
staging/tracking/ (a game in both is read from both: the more detailed file is used, the other compared).

Modes: `full` rebuilds every game (or only `game_ids` when given); `single` only `game_ids`; `incremental` only
the games whose tracker files are new or changed since the last run (etl.changes; everything when the league
workbook changed, nothing at all when no input changed); `test` builds the synthetic test game 99999 (one
made-up game in both tracker formats, etl.synth) into <data dir>/test/output, a format check that never
touches output/ or the warehouse. Options: `wipe` (or `clean`) forgets the read cache, `validate` checks the
output after the build in the same job (errors fail the job before any upload), `upload_to_supabase` loads it;
any other key is kept and reported as ignored in the job's history.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Annotated, Any, Literal

import asyncpg
import xlsxwriter
from pydantic import BaseModel, ConfigDict, Field, model_validator

import etl
from daemon import etl_runs
from daemon.filestore import FileStore, register_folder
from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from etl.catalog import TABLES
from etl.changes import changed_games
from etl.readers.sheets import InputError
from handlers.games import unknown_games
from handlers.options import report_ignored
from handlers.staging_blb import DEFAULT_WORKBOOK, LEAGUE_TABLES, read_sheet_rows, stage_table_name
from handlers.upload import upload_output
from handlers.validate import fail_on_errors, validate_output

PROCESSING_END = 90  # percent at which the ETL is done and the upload (if any) starts
MAX_GAMES = 10_000  # a league plays a few hundred games a season; keeps params far below a Realtime frame
GameId = Annotated[int, Field(ge=1, le=2_147_483_647)]
VALIDATE_END = 95  # with options.validate: the check runs from PROCESSING_END to here
TEST_GAME_ID = 99999  # the seed portal's "Test Mode (game 99999)"


class EtlOptions(BaseModel):
    """Known keys act; any other key is kept (extra) and reported as ignored in the job's history."""

    model_config = ConfigDict(extra="allow")

    wipe: bool = Field(default=False, description="Forget the ETL's read cache (re-read every input file).")
    clean: bool = Field(default=False, description="The old API's 'clean output': the same as wipe.")
    validate_output: bool = Field(default=False, alias="validate",
                                  description="Validate the output after the build, in the same job.")
    upload_to_supabase: bool = Field(default=False, description="Load the output into the daemon's database.")


class EtlParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["full", "incremental", "single", "test"] = Field(
        default="full", description="All games (or game_ids), only changed inputs, only game_ids, the test game.")
    game_ids: list[GameId] = Field(default_factory=list, max_length=MAX_GAMES,
                                   description="Games to (re)build (modes 'single', 'full'); each in the league "
                                               "schedule.")
    exclude_game_ids: list[GameId] = Field(default_factory=list, max_length=MAX_GAMES,
                                           description="Games to leave out; each in the league schedule.")
    source: Literal["excel", "staging"] = Field(default="excel", description="Input files, or the stage tables.")
    options: EtlOptions = Field(default_factory=EtlOptions)

    @model_validator(mode="after")
    def _single_needs_games(self) -> "EtlParams":
        if self.mode == "single" and not self.game_ids:
            raise ValueError("mode 'single' needs game_ids")
        return self


def etl_job(blb: str, tracking: list[str], out: str, *, games: list[int] | None, exclude_games: list[int],
            wipe: bool, cache_dir: str, report: Any, incremental: bool = False) -> dict:
    """Runs in the child process (module level, so it can be spawned): etl.run with progress reports.
    incremental: games = the changed ones (etl.changes); when none changed nothing is built."""
    changed = None
    if incremental and not wipe:
        changed = changed_games(Path(blb), [Path(t) for t in tracking], Path(cache_dir))
        if changed == []:
            return {"status": "unchanged", "changed_games": []}
        games = changed
    result = etl.run(Path(blb), [Path(t) for t in tracking], Path(out), games=games, exclude_games=exclude_games,
                     wipe=wipe, progress=report, cache_dir=Path(cache_dir))
    return {**result.to_dict(), "changed_games": changed}


def test_game_job(root: str, *, wipe: bool, report: Any) -> dict:
    """Mode 'test' in the child process: write the synthetic test game (both tracker formats) under root/input
    and build it into root/output (its own cache), never the real output or warehouse."""
    from etl import synth

    made = synth.generate(Path(root) / "input", games=1, start_game_id=TEST_GAME_ID, both_formats_fraction=1.0)
    result = etl.run(made.blb, [made.tracking], Path(root) / "output", wipe=wipe, progress=report,
                     cache_dir=Path(root) / ".etl_cache")
    return {**result.to_dict(), "test_game": {"game_id": TEST_GAME_ID, "events": made.events[TEST_GAME_ID],
                                               "shifts": made.shifts[TEST_GAME_ID],
                                               "official_goals": made.official_goals[TEST_GAME_ID]}}


@handler("etl", EtlParams)
async def run(params: EtlParams, ctx: JobContext) -> dict:
    """Runs the ETL in a terminable child process; options.validate checks the output in the same job, and
    upload_to_supabase then loads it atomically."""
    settings = ctx.settings
    unknown = await unknown_games(ctx.pool, settings.data_dir,
                                  [*(params.game_ids or []), *(params.exclude_game_ids or [])])
    if unknown:  # the API and the CLI refuse these before enqueueing; a row inserted directly ends here
        raise PermanentJobError(f"games not in the league schedule (dim_schedule): {unknown[:20]}")
    options = params.options
    wipe = options.wipe or options.clean
    await ctx.progress(0, f"etl {params.mode} from {params.source}", status="processing")
    why = {"upload_to_supabase": "mode 'test' never loads the test game into the warehouse"} if (
        params.mode == "test" and options.upload_to_supabase) else {}
    await report_ignored(ctx, options, why)
    if params.mode == "test":
        out = settings.data_dir / "test" / "output"
        report = await ctx.run_in_process(test_game_job, str(settings.data_dir / "test"), wipe=wipe,
                                          on_progress=ctx.progress_callback(0, PROCESSING_END, status="processing"))
        return await _finish(ctx, params, report, out, upload=False)
    inputs = None
    if params.source == "staging":
        blb, tracking = await export_staging(ctx.pool, settings.data_dir)
    else:  # the league's current inputs, from the database's file store (raw/ is registered into it first)
        store = FileStore.from_settings(ctx.pool, settings)
        await register_folder(store, settings.raw_dir)
        inputs = await etl_runs.current_inputs_folder(store, settings.data_dir / "inputs" / "current")
        blb = inputs.blb or settings.raw_dir / "BLB_Tables.xlsx"
        tracking = [inputs.tracking]
    if not blb.is_file():
        raise PermanentJobError(f"league workbook {blb} does not exist; put BLB_Tables.xlsx under {settings.raw_dir}")
    try:
        report = await ctx.run_in_process(
            etl_job, str(blb), [str(t) for t in tracking], str(settings.output_dir),
            games=params.game_ids if params.mode in ("single", "full") and params.game_ids else None,
            exclude_games=params.exclude_game_ids, wipe=wipe, cache_dir=str(settings.data_dir / ".etl_cache"),
            incremental=params.mode == "incremental",
            on_progress=ctx.progress_callback(0, PROCESSING_END, status="processing"),
        )
    except asyncio.CancelledError:
        _remove_partial_output(settings.output_dir)  # the child is dead by now; its staging folder is left
        raise
    if report["status"] != "unchanged" and inputs is not None:
        report["etl_run_id"] = await _record_run(ctx, inputs, report)
    if report["status"] == "unchanged":
        await ctx.progress(100, "no input changed since the last run: nothing to rebuild")
        return {"status": "unchanged", "changed_games": [], "tables_created": [], "rows": {},
                "output": str(settings.output_dir)}
    return await _finish(ctx, params, report, settings.output_dir, upload=options.upload_to_supabase)


async def _record_run(ctx: JobContext, inputs: etl_runs.Inputs, report: dict) -> int:
    """The run in etl_runs, its output tables archived into the file store: an upload on any host loads it."""
    run_id = await etl_runs.record_start(ctx.pool, ctx.job_id, ctx.worker, inputs)
    if report["status"] == "failed":
        await etl_runs.record_failure(ctx.pool, run_id, str(report.get("error")))
    else:
        await etl_runs.record_finish(ctx.pool, FileStore.from_settings(ctx.pool, ctx.settings), run_id,
                                     ctx.settings.output_dir, report, uploaded_by=ctx.requested_by)
    return run_id


async def _finish(ctx: JobContext, params: EtlParams, report: dict, out: Path, *, upload: bool) -> dict:
    """The job's result from the run's report; then validation (options.validate) and the upload."""
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
        "output": str(out),
    }
    for key in ("changed_games", "test_game", "etl_run_id"):
        if key in report:
            result[key] = report[key]
    specs = [TABLES[name] for name in TABLES if name in report["tables"]]
    if params.options.validate_output:
        await ctx.progress(PROCESSING_END, f"validate {out.name}", status="processing")
        checked = await asyncio.to_thread(validate_output, out, specs)
        await fail_on_errors(ctx, checked, f"the ETL output ({out})")
        result["validation"] = {k: v for k, v in checked.to_dict().items() if k != "tables_checked"}
    if upload:
        start = VALIDATE_END if params.options.validate_output else PROCESSING_END
        await ctx.progress(start, "upload to the database", status="uploading")
        result["uploaded"] = await upload_output(ctx, ctx.settings.output_dir, specs, start=start, end=100,
                                                 status="uploading")
    await ctx.progress(100, f"built {len(specs)} tables" + (" and loaded them" if upload else ""))
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
