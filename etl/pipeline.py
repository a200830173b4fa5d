"""``etl.run``: read the league workbook and tracker files, build every catalog table, write them atomically.

Flow: discover inputs -> read each file once (or take it from the per-file cache by content hash) ->
choose one tracker file per game (the one with most detail; others are compared against it) -> resolve
teams and players against the scoresheet -> build every table -> write CSVs + manifest.json to a staging
folder -> swap it in.
"""

from __future__ import annotations

import gc
import os
import re
import threading
import time
from contextlib import contextmanager
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import structlog

from etl import catalog
from etl.build import BuildMemo, LeagueBuild, build_league, build_tables
from etl.cache import ReadCache, file_hash
from etl.canonical import TrackedGame
from etl.issues import Issues
from etl.readers import guard
from etl.readers.errors import InputError
from etl.readers.league_workbook import read_league_workbook
from etl.readers.tracker_file import read_tracker_file as read_tracker
from etl.readers.tracker_workbook import is_tracker_workbook
from etl.writer import discard, staging_dir, swap_in, write_manifest, write_table

log = structlog.get_logger()

GameStatus = Literal["ok", "partial", "failed", "untracked", "skipped"]
REPORT_ISSUE_LIMIT = 200
MAX_READ_WORKERS = 4
LEAGUE_TASK = -1


class EtlCancelled(Exception):
    """The run was cancelled; the previous output is untouched."""


@dataclass
class GameOutcome:
    status: GameStatus
    source: list[str] = field(default_factory=list)
    error: str | None = None
    tracking: str | None = None  # complete / partial / untracked from qa_game_completeness


@dataclass
class RunReport:
    status: Literal["ok", "partial", "failed"]
    out: str
    tables: dict[str, int] = field(default_factory=dict)
    games: dict[int, GameOutcome] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    issue_count: int = 0
    issue_summary: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    files_read: int = 0
    files_cached: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["games"] = {str(k): asdict(v) for k, v in self.games.items()}
        return d


@dataclass
class _Input:
    path: Path
    game_id: int | None
    kind: Literal["xlsx", "json"]


def run(
    blb: Path,
    tracking: Sequence[Path],
    out: Path,
    *,
    games: Sequence[int] | None = None,
    exclude_games: Sequence[int] | None = None,
    wipe: bool = False,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> RunReport:
    """Run the ETL. See the module docstring and README; the default cache is ``<out parent>/.etl_cache``.

    ``workers``: child processes reading changed files in parallel, each file in its own child with memory and
    time limits (etl.readers.guard). None = automatic: up to 4 (one per CPU) when this process runs a single
    thread, else 1 (the children then come from a fork server: forking a multi-threaded process is unsafe).
    """
    started = time.perf_counter()
    blb, out = Path(blb), Path(out)
    cache = ReadCache(Path(cache_dir) if cache_dir is not None else out.parent / ".etl_cache")
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round(now - clock[0], 4)
        clock[0] = now

    def report(fraction: float, text: str) -> None:
        if cancelled is not None and cancelled():
            raise EtlCancelled(f"cancelled at: {text}")
        if progress is not None:
            progress(min(max(fraction, 0.0), 1.0), text)

    if wipe:
        cache.clear()
    selected = {int(g) for g in games} if games else None
    excluded = {int(g) for g in (exclude_games or ())}
    report(0.0, "discovering inputs")
    index = cache.load_index()
    new_index: dict[str, dict[str, Any]] = {}

    def fail(error: str) -> RunReport:
        log.error("etl.run_failed", error=error)
        return RunReport(status="failed", out=str(out), error=error,
                         duration_seconds=round(time.perf_counter() - started, 3))

    # ---- plan: what the cache holds (by content hash) and what must be read
    if not blb.exists():
        return fail(f"league workbook {blb} does not exist")
    league_digest = file_hash(blb)
    new_index[str(blb.absolute())] = {"sha256": league_digest, "role": "league"}
    hit = cache.get(f"{league_digest}.league")
    lb: LeagueBuild | None = hit.value if hit is not None and isinstance(hit.value, LeagueBuild) else None
    try:
        inputs = discover(tracking, blb)
    except FileNotFoundError as exc:
        return fail(str(exc))
    outcomes: dict[int, GameOutcome] = {}
    results, misses = _plan(inputs, selected, excluded, cache, index, new_index, outcomes)

    # ---- read what changed: the league workbook and tracker files together, in parallel when several
    tasks = ([_ReadTask(LEAGUE_TASK, blb, cache.root, f"{league_digest}.league")] if lb is None else []) + [
        _ReadTask(i, inputs[i].path, cache.root, misses[i]) for i in misses]
    report(0.05, f"reading {len(tasks)} changed files ({len(results)} tracker files from cache)")
    league_error: str | None = None
    for n, (i, value, error) in enumerate(_run_reads(tasks, cancelled, workers)):  # each task cached its read
        if i == LEAGUE_TASK:
            lb, league_error = value, error
        else:
            results[i] = (_with_digest(value, misses[i]), error)
        report(0.1 + 0.5 * (n + 1) / len(tasks), f"read {blb.name if i == LEAGUE_TASK else inputs[i].path.name}")
    if lb is None:
        return fail(league_error or f"league workbook {blb.name}: unreadable")
    step("read")

    # ---- one file per game (the most detailed), the others compared against it; build every table
    issues = Issues()
    issues.extend(lb.issues)
    by_game, failed = _collect(inputs, results, excluded, outcomes, issues, report)
    primaries, alternates = _choose_files(by_game, issues)
    report(0.72, "building tables")
    conformed, completeness = build_tables(lb, primaries, alternates, failed, issues, memo=_Memo(cache),
                                           league_key=league_digest)
    _set_outcomes(outcomes, completeness, failed)
    files_cached = len(results) - len(misses)
    del results, by_game, primaries, alternates  # the games' frames are in the tables now: free them for writing
    step("build")

    # ---- write to a staging folder, then swap it in
    report(0.85, "writing tables")
    run_status: Literal["ok", "partial", "failed"] = "partial" if failed else "ok"
    tmp = staging_dir(out)
    try:
        for name, data in lb.csv.items():
            (tmp / f"{name}.csv").write_bytes(data)
        for name, df in conformed.items():
            write_table(tmp, catalog.TABLES[name], df)
        tables = {**lb.tables, **conformed}
        tables = {name: tables[name] for name in catalog.TABLES}
        step("write")
        write_manifest(tmp, _manifest(tables, outcomes, new_index, timings, run_status, started))
        report(0.97, "publishing output")
        swap_in(tmp, out)
    except BaseException:
        discard(tmp)
        raise
    kept_index = {**index, **new_index} if selected is not None else new_index
    cache.save_index(kept_index)
    cache.prune({entry["sha256"] for entry in kept_index.values()})
    step("publish")
    report(1.0, "done")
    issue_rows = tables["qa_data_issues"]
    serious = issue_rows.loc[issue_rows["severity"].isin(["error", "warning"])].head(REPORT_ISSUE_LIMIT)
    result = RunReport(
        status=run_status, out=str(out), tables={k: len(v) for k, v in tables.items()}, games=outcomes,
        issues=_json_records(serious), issue_count=len(issue_rows),
        issue_summary=dict(Counter(issue_rows["category"].astype(str))),
        duration_seconds=round(time.perf_counter() - started, 3), timings=timings,
        files_read=len(misses), files_cached=files_cached,
    )
    log.info("etl.finished", status=result.status, games=len(outcomes), issues=result.issue_count,
             seconds=result.duration_seconds)
    return result


def _plan(inputs: list[_Input], selected: set[int] | None, excluded: set[int], cache: ReadCache, index: dict,
          new_index: dict, outcomes: dict[int, GameOutcome]) -> tuple[dict[int, tuple], dict[int, str]]:
    """Per input position: the cached read (results) or the content hash of a file to read (misses).

    Excluded games are skipped. With a games selection, other games keep their previous result (by the
    hash the index remembers for their file) or are skipped when there is none."""
    results: dict[int, tuple[TrackedGame | None, str | None]] = {}
    misses: dict[int, str] = {}
    for i, item in enumerate(inputs):
        gid = item.game_id
        if gid is not None and gid in excluded:
            outcomes.setdefault(gid, GameOutcome("skipped")).source.append(item.path.name)
            continue
        key = str(item.path.absolute())
        if selected is not None and (gid is None or gid not in selected):
            prev = index.get(key)
            hit = cache.get(prev["sha256"]) if prev else None
            if hit is None:
                if gid is not None:
                    outcomes.setdefault(gid, GameOutcome("skipped")).source.append(item.path.name)
                continue
            new_index[key] = prev
            results[i] = (_with_digest(hit.value, prev["sha256"]), hit.error)
            continue
        digest = file_hash(item.path)
        new_index[key] = {"sha256": digest, "role": "tracking", "game_id": item.game_id}
        hit = cache.get(digest)
        if hit is not None:
            results[i] = (_with_digest(hit.value, digest), hit.error)
        else:
            misses[i] = digest
    return results, misses


def _with_digest(tg: TrackedGame | None, digest: str) -> TrackedGame | None:
    if tg is not None:
        tg.digest = digest
    return tg


def _collect(inputs: list[_Input], results: dict[int, tuple], excluded: set[int],
             outcomes: dict[int, GameOutcome], issues: Issues,
             report: Callable[[float, str], None]) -> tuple[dict[int, list[TrackedGame]], dict[int, str]]:
    """Group the read files by game; a file that failed fails its game unless another file of it was read."""
    by_game: dict[int, list[TrackedGame]] = {}
    failed: dict[int, str] = {}
    for n, i in enumerate(sorted(results)):
        item, (tg, error) = inputs[i], results[i]
        if tg is not None:
            if tg.game_id in excluded:
                continue
            if tg.game_id not in by_game:
                report(0.6 + 0.1 * n / max(len(results), 1), f"game {tg.game_id}")
            by_game.setdefault(tg.game_id, []).append(tg)
            outcomes.setdefault(tg.game_id, GameOutcome("ok")).source.append(item.path.name)
            continue
        gid = item.game_id
        key = gid if gid is not None else -1
        outcomes.setdefault(key, GameOutcome("failed")).source.append(item.path.name)
        failed.setdefault(key, error or "unreadable")
        issues.add("file_failed", error or "unreadable", "game's tracking not used; run reported partial",
                   game_id=gid, file=item.path.name, severity="error")
        log.warning("etl.file_failed", file=item.path.name, error=error)
    for gid in [g for g in failed if g in by_game]:  # another file of the same game was readable
        failed.pop(gid)
        outcomes[gid].status = "ok"
    return by_game, failed


def _choose_files(by_game: dict[int, list[TrackedGame]], issues: Issues) -> tuple[list[TrackedGame],
                                                                                  list[TrackedGame]]:
    """Per game the file with the most detail (real shifts, then event-player rows, then events)."""
    primaries: list[TrackedGame] = []
    alternates: list[TrackedGame] = []
    for tgs in by_game.values():
        tgs = sorted(tgs, key=lambda t: t.detail_score, reverse=True)
        primaries.append(tgs[0])
        alternates.extend(tgs[1:])
        for tg in tgs:
            issues.extend(tg.issues)
    return primaries, alternates


def _set_outcomes(outcomes: dict[int, GameOutcome], completeness: pd.DataFrame, failed: dict[int, str]) -> None:
    status_by_game = completeness.set_index("game_id")["status"].to_dict()
    for gid, oc in outcomes.items():
        if oc.status == "ok":
            oc.tracking = status_by_game.get(gid, "untracked")
            oc.status = {"complete": "ok", "partial": "partial", "untracked": "untracked"}[oc.tracking]
        if gid in failed:
            oc.error = failed[gid]


def discover(tracking: Sequence[Path], blb: Path) -> list[_Input]:
    """Tracker files under the given folders (recursively) or given directly, in a stable order."""
    files: list[Path] = []
    for item in tracking:
        item = Path(item)
        if item.is_dir():
            files.extend(p for p in item.rglob("*") if p.suffix.lower() in (".xlsx", ".json") and p.is_file())
        elif item.exists():
            files.append(item)
        else:
            raise FileNotFoundError(f"tracking path {item} does not exist")
    blb_resolved = blb.resolve()
    seen: set[Path] = set()
    found: list[_Input] = []
    for p in sorted(files, key=lambda p: (p.name, str(p))):
        rp = p.resolve()
        if rp in seen or rp == blb_resolved or p.name.startswith("~$") or p.name == "manifest.json":
            continue
        seen.add(rp)
        m = re.match(r"(\d+)", p.name)
        kind: Literal["xlsx", "json"] = "xlsx" if p.suffix.lower() == ".xlsx" else "json"
        if m is None and kind == "xlsx" and not is_tracker_workbook(p):
            continue  # another workbook (e.g. a league workbook copy): not a tracker file
        found.append(_Input(p, int(m.group(1)) if m else None, kind))
    return found


def read_league_file(path: Path) -> tuple[LeagueBuild | None, str | None]:
    """Read and build the league workbook; an unusable workbook gives (None, message naming it)."""
    try:
        return build_league(read_league_workbook(path)), None
    except InputError as exc:
        return None, str(exc)
    except Exception as exc:
        return None, f"league workbook {path.name}: {type(exc).__name__}: {exc}"


def read_tracker_file(path: Path) -> tuple[TrackedGame | None, str | None]:
    """Read one tracker file; an unusable file gives (None, message naming the file) instead of raising."""
    try:
        return read_tracker(path), None
    except InputError as exc:
        return None, str(exc)
    except Exception as exc:  # a reader bug must fail only this game, with the file named
        return None, f"tracking file {path.name}: {type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class _ReadTask:
    i: int  # input position, or LEAGUE_TASK
    path: Path
    cache_root: Path
    cache_key: str


def _read_task(task: _ReadTask) -> tuple[int, Any, str | None]:
    """Read one file and put the result in the cache here, in the reading process: the parent then does not
    pickle it a second time (a season's reads are hundreds of MB of frames)."""
    with _cyclic_gc_paused():
        if task.i == LEAGUE_TASK:
            value, error = read_league_file(task.path)
            if value is not None:
                ReadCache(task.cache_root).put(task.cache_key, value)
        else:
            value, error = read_tracker_file(task.path)
            ReadCache(task.cache_root).put(task.cache_key, value, error)
    return task.i, value, error


@contextmanager
def _cyclic_gc_paused():
    """Python's cycle collector paused while one file is read, then resumed (if it was on).

    Parsing a file allocates tens of thousands of dicts and lists, which triggers collections that each walk
    every object the run holds (the games read so far): a 500-game season spent ~20% of its reading there.
    Reading makes no reference cycles worth collecting mid-file; garbage is collected after the file."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run_reads(tasks: list[_ReadTask], cancelled: Callable[[], bool] | None, workers: int | None):
    """Yield (task id, value, error) per file, each read in its own child process with memory and time limits
    (etl.readers.guard), several at once when allowed: a file that kills its reader fails only its game."""
    if workers is None:
        single_threaded = threading.active_count() == 1
        workers = min(os.cpu_count() or 1, MAX_READ_WORKERS) if single_threaded else 1
    jobs = [guard.Task(task.i, _file_label(task), _read_task, (task,)) for task in tasks]
    reads = guard.run_each(jobs, workers=max(1, min(len(tasks), workers)))
    try:
        for job, value, error in reads:
            if cancelled is not None and cancelled():
                raise EtlCancelled("cancelled while reading inputs")
            yield value if error is None else (job.key, None, error)
    finally:
        reads.close()  # kills the readers still running


def _file_label(task: _ReadTask) -> str:
    return f"{'league workbook' if task.i == LEAGUE_TASK else 'tracking file'} {task.path.name}"


class _Memo(BuildMemo):
    """Per-game builds and file comparisons kept in the read cache."""

    def __init__(self, cache: ReadCache):
        self.cache = cache

    def get(self, key: str):
        hit = self.cache.get(key)
        return hit.value if hit is not None else None

    def put(self, key: str, value) -> None:
        self.cache.put(key, value)


def _manifest(tables: dict[str, pd.DataFrame], outcomes: dict[int, GameOutcome], inputs: dict, timings: dict,
              status: str, started: float) -> dict[str, Any]:
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "status": status,
        "tables": {
            name: {
                "kind": catalog.TABLES[name].kind, "rows": len(df), "file": f"{name}.csv",
                "primary_key": list(catalog.TABLES[name].primary_key),
                "columns": [{"name": c.name, "type": c.type} for c in catalog.TABLES[name].columns],
            } for name, df in tables.items()
        },
        "games": {str(g): asdict(o) for g, o in sorted(outcomes.items())},
        "inputs": inputs,
        "timings": timings,
        "duration_seconds": round(time.perf_counter() - started, 3),
    }


def _json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.astype(object).where(df.notna(), None).to_dict("records")
    for rec in out:
        for k, v in rec.items():
            if hasattr(v, "item"):
                rec[k] = v.item()
    return out
