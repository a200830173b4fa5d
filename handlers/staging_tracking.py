"""`staging_tracking`: a tracker file for one game, stored under <data dir>/raw/tracking/, read with the ETL's
readers and its events and shifts staged (stage_events, stage_event_players, stage_shifts,
stage_shift_players), replacing that game's rows in one transaction.

`store_tracker_file` is the one way an uploaded or dropped file enters raw/tracking/ (the API and the watch
folder call it, then enqueue this job with dedupe_key 'staging_tracking:<sha256>'). The file is read in a
child process with memory and time limits (etl.readers.guard), never in the daemon. A file the readers reject
(unusable, over the limits, or its reader process died) fails the job without retry naming the file and the
problem, is moved to <data dir>/rejected/ with a `<name>.reason.txt` so the next ETL does not trip on it, and
leaves the staged rows of every game untouched. A check the client asked for (`sha256`, `game_id`) that does
not match fails the job and touches nothing: the file stays where it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from daemon.context import JobContext
from daemon.filestore import FileStore, FileStoreError
from daemon.registry import PermanentJobError, handler
from etl.cache import file_hash
from etl.canonical import TrackedGame
from etl.readers import guard, tracker_file
from etl.readers.errors import InputError
from etl.readers.tracker_json import json_game_id
from handlers.paths import MAX_PATH_LENGTH, relative_file_under

TRACKER_EXTENSIONS = (".xlsx", ".json")
TRACKING_SUBDIR = Path("raw") / "tracking"
REJECTED_SUBDIR = Path("rejected")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

# stage table -> (TrackedGame attribute, columns in table order; 'source_row' is the frame's 'row')
STAGE_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "stage_events": ("events", (
        "game_id", "event_id", "period", "clock_start_s", "clock_end_s", "event_type", "event_detail",
        "event_detail_2", "success", "team_venue", "zone", "linked_event_id", "strength", "puck_x", "puck_y",
        "source_row")),
    "stage_event_players": ("event_players", (
        "game_id", "event_id", "seq", "side", "role_number", "team_venue", "jersey", "play_detail_1",
        "play_detail_2", "play_success", "player_id", "source_row")),
    "stage_shifts": ("shifts", (
        "game_id", "shift_id", "period", "clock_start_s", "clock_end_s", "start_type", "stop_type", "source_row")),
    "stage_shift_players": ("shift_players", ("game_id", "shift_id", "team_venue", "slot", "jersey", "player_id")),
}


class InvalidTrackerFile(ValueError):
    """An uploaded tracker file that cannot be stored (wrong extension, empty); the message says why."""


@dataclass(frozen=True)
class StoredTrackerFile:
    path: Path  # absolute
    relative: str  # relative to the data dir, e.g. 'raw/tracking/18969_tracking-3f2a9c1b0d4e.xlsx'
    sha256: str
    game_id: int | None


class StagingTrackingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(max_length=MAX_PATH_LENGTH,
                      description="Tracker file (.xlsx or .json) relative to the data dir, under raw/tracking/.")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$",
                               description="Expected content hash; the job fails when it differs.")
    game_id: int | None = Field(default=None, ge=1, le=2_147_483_647,
                                description="Expected game; the job fails when the file is another.")

    @field_validator("file")
    @classmethod
    def _under_tracking(cls, value: str) -> str:
        return relative_file_under(value, TRACKING_SUBDIR.as_posix(), TRACKER_EXTENSIONS)


def store_tracker_file(data_dir: Path, filename: str, content: bytes) -> StoredTrackerFile:
    """Store an uploaded tracker file as <data dir>/raw/tracking/<safe stem>-<hash12><ext>.

    Only the base name of `filename` is used (no path traversal), unsafe characters become '_', and the
    content hash in the name makes storing the same bytes twice a no-op. The game id is the name's leading
    digits (<game_id>_tracking.xlsx, <game_id>.json), else a JSON export's gameId (read in a limited child
    process: InvalidTrackerFile, and nothing stored, when the export is unusable).
    """
    base = Path(filename.replace("\\", "/")).name
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    if ext not in TRACKER_EXTENSIONS:
        raise InvalidTrackerFile(f"tracker file {base!r}: extension must be .xlsx or .json, not {ext or 'none'!r}")
    if not content:
        raise InvalidTrackerFile(f"tracker file {base!r} is empty")
    sha256 = hashlib.sha256(content).hexdigest()
    safe_stem = _UNSAFE.sub("_", stem).strip("._") or "tracker"
    name = f"{safe_stem[:80]}-{sha256[:12]}{ext}"
    folder = Path(data_dir) / TRACKING_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    existed = path.exists()
    if not existed:
        tmp = folder / f".{name}.{os.getpid()}.part"
        tmp.write_bytes(content)
        os.replace(tmp, path)
    try:
        game_id = _game_id_of(safe_stem, path)
    except InputError as exc:
        if not existed:
            path.unlink(missing_ok=True)
        raise InvalidTrackerFile(str(exc)) from None
    return StoredTrackerFile(path=path, relative=str(TRACKING_SUBDIR / name), sha256=sha256, game_id=game_id)


def _game_id_of(stem: str, path: Path) -> int | None:
    match = re.match(r"(\d+)", stem)
    if match:
        return int(match.group(1))
    if path.suffix == ".json":
        return guard.run_guarded(json_game_id, path, name=f"tracking file {path.name}")
    return None


def read_tracker_file(path: Path) -> TrackedGame:
    """Read one tracker file (workbook or JSON export) in a limited child process; InputError when the readers
    reject it (unusable, over the limits of etl.readers.limits, or its reader process died)."""
    return guard.run_guarded(tracker_file.read_tracker_file, path, name=f"tracking file {path.name}")


@handler("staging_tracking", StagingTrackingParams)
async def run(params: StagingTrackingParams, ctx: JobContext) -> dict:
    """Stages one tracker file's events and shifts for its game (replacing that game's staged rows)."""
    path = await _local_copy(ctx, params)
    await ctx.progress(5, f"read {path.name}")
    sha256 = await asyncio.to_thread(file_hash, path)
    if params.sha256 and params.sha256.lower() != sha256:  # the client's check: the file is not judged
        raise PermanentJobError(f"tracking file {path.name}: content hash {sha256} differs from the expected "
                                f"{params.sha256}; nothing was staged or moved")
    try:
        game = await asyncio.to_thread(read_tracker_file, path)
        if game.events.empty and game.shifts.empty:
            raise InputError(f"tracking file {path.name}: no events and no shifts for game {game.game_id}")
    except InputError as exc:
        await asyncio.to_thread(_reject, ctx.settings.data_dir, path, str(exc))
        ctx.log.warning("staging_tracking.rejected", file=params.file, error=str(exc))
        raise PermanentJobError(str(exc)) from exc
    if params.game_id is not None and params.game_id != game.game_id:
        raise PermanentJobError(f"tracking file {path.name}: holds game {game.game_id}, not game {params.game_id}; "
                                "nothing was staged or moved")
    await ctx.progress(60, f"stage game {game.game_id}")
    relative = str(path.relative_to(ctx.settings.data_dir))
    counts = await _stage(ctx.pool, game, relative, sha256, ctx.job_id)
    ctx.log.info("staging_tracking.staged", game_id=game.game_id, file=relative, **counts)
    return {"game_id": game.game_id, "file": relative, "sha256": sha256, "format": game.format,
            "rows": counts, "issues": len(game.issues)}


async def _local_copy(ctx: JobContext, params: StagingTrackingParams) -> Path:
    """The file on this host: as the API or the watch folder stored it here, or, when another host took it,
    fetched (verified) from the database's file store by its sha256 and written under the same name."""
    path = _resolve(ctx.settings.data_dir, params.file, must_exist=False)
    if path.is_file() or not params.sha256:
        return _resolve(ctx.settings.data_dir, params.file)
    try:
        cached = await FileStore.from_settings(ctx.pool, ctx.settings).materialise(params.sha256.lower())
    except FileStoreError as exc:
        raise PermanentJobError(f"tracker file {params.file!r} is neither on this host nor in the file store: "
                                f"{exc}") from exc
    await asyncio.to_thread(_copy_into, cached, path)
    ctx.log.info("staging_tracking.fetched", file=params.file, sha256=params.sha256)
    return path


def _copy_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _resolve(data_dir: Path, relative: str, *, must_exist: bool = True) -> Path:
    folder = (data_dir / TRACKING_SUBDIR).resolve()
    path = (data_dir / relative).resolve()
    if folder not in path.parents:
        raise PermanentJobError(f"tracker file {relative!r} is not under {TRACKING_SUBDIR}/")
    if path.suffix.lower() not in TRACKER_EXTENSIONS:
        raise PermanentJobError(f"tracker file {relative!r}: extension must be .xlsx or .json")
    if must_exist and not path.is_file():
        raise PermanentJobError(f"tracker file {relative!r} does not exist under the data dir")
    return path


def _reject(data_dir: Path, path: Path, reason: str) -> None:
    """Move a rejected file out of raw/tracking/ so the next ETL run does not read it, the reason beside it."""
    folder = data_dir / REJECTED_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(folder / path.name))
    (folder / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")


async def _stage(pool: asyncpg.Pool, game: TrackedGame, relative: str, sha256: str, job_id: object) -> dict:
    counts = {}
    tables = await asyncio.to_thread(_table_records, game)  # row conversion off the event loop
    async with pool.acquire() as conn, conn.transaction():
        for table, (_, columns) in STAGE_TABLES.items():
            await conn.execute(f"delete from public.{table} where game_id = $1", game.game_id)
            records = tables[table]
            if records:
                await conn.copy_records_to_table(table, records=records, columns=list(columns), schema_name="public")
            counts[table] = len(records)
        await conn.execute(
            """insert into public.stage_tracking_files (game_id, file, sha256, format, events, shifts, issues, job_id)
               values ($1, $2, $3, $4, $5, $6, $7, $8)
               on conflict (game_id) do update set file = excluded.file, sha256 = excluded.sha256,
                   format = excluded.format, events = excluded.events, shifts = excluded.shifts,
                   issues = excluded.issues, job_id = excluded.job_id, staged_at = now()""",
            game.game_id, relative, sha256, game.format, counts["stage_events"], counts["stage_shifts"],
            len(game.issues), job_id,
        )
    return counts


def _table_records(game: TrackedGame) -> dict[str, list[tuple]]:
    return {table: _records(getattr(game, attribute).rename(columns={"row": "source_row"}), columns, game.game_id)
            for table, (attribute, columns) in STAGE_TABLES.items()}


def _records(frame: pd.DataFrame, columns: tuple[str, ...], game_id: int) -> list[tuple]:
    """Rows as tuples of plain Python values (None for missing), the game id filled in."""
    if frame.empty:
        return []
    values = []
    for name in columns:
        if name == "game_id":
            values.append([game_id] * len(frame))
        elif name in frame.columns:
            s = frame[name]
            values.append([None if pd.isna(v) else v for v in s.astype(object).tolist()])
        else:
            values.append([None] * len(frame))
    return [tuple(_plain(v) for v in row) for row in zip(*values)]


def _plain(value: object) -> object:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
