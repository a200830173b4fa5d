"""``etl.run``: read the league workbook and tracker files, build every catalog table, write them atomically.

Flow: discover inputs -> read each file once (or take it from the per-file cache by content hash) ->
choose one tracker file per game (the one with most detail; others are compared against it) -> resolve
teams and players against the scoresheet -> build every table -> write CSVs + manifest.json to a staging
folder -> swap it in.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import structlog

from etl import catalog
from etl.builders import dims, events as ev_builders, qa, stats
from etl.builders.resolve import Resolved, games_frame, resolve_tracking, roster_venues
from etl.cache import ReadCache, file_hash
from etl.canonical import TrackedGame
from etl.issues import Issues
from etl.readers.league_workbook import League, read_league_workbook
from etl.readers.sheets import InputError
from etl.readers.tracker_json import read_json_document, read_tracker_json
from etl.readers.tracker_workbook import is_tracker_workbook, read_tracker_workbook
from etl.writer import discard, staging_dir, swap_in, table_csv, write_manifest, write_table

log = structlog.get_logger()

GameStatus = Literal["ok", "partial", "failed", "untracked", "skipped"]
REPORT_ISSUE_LIMIT = 200
MAX_READ_WORKERS = 4


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
) -> RunReport:
    """Run the ETL. See the module docstring and README; the default cache is ``<out parent>/.etl_cache``."""
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

    # ---- league workbook
    report(0.02, f"reading {blb.name}")
    try:
        lb = _league_build(blb, cache, new_index)
    except Exception as exc:  # an unusable league workbook fails the run; nothing is written
        if not isinstance(exc, InputError):
            exc = InputError(f"league workbook {blb.name}: {type(exc).__name__}: {exc}")
        log.error("etl.league_failed", file=str(blb), error=str(exc))
        return RunReport(status="failed", out=str(out), error=str(exc),
                         duration_seconds=round(time.perf_counter() - started, 3))
    step("read_league")

    # ---- tracker files: cache hits first, then the misses (in parallel when there are several)
    inputs = discover(tracking, blb)
    outcomes: dict[int, GameOutcome] = {}
    by_game: dict[int, list[TrackedGame]] = {}
    failed: dict[int, str] = {}
    issues = Issues()
    issues.extend(lb.issues)
    results: dict[int, tuple[TrackedGame | None, str | None]] = {}
    misses: list[tuple[int, _Input, str]] = []
    for i, item in enumerate(inputs):
        gid = item.game_id
        if gid is not None and gid in excluded:
            outcomes.setdefault(gid, GameOutcome("skipped")).source.append(item.path.name)
            continue
        key = str(item.path.resolve())
        if selected is not None and (gid is None or gid not in selected):
            prev = index.get(key)  # keep this game's previous result, if any
            hit = cache.get(prev["sha256"]) if prev else None
            if hit is None:
                if gid is not None:
                    outcomes.setdefault(gid, GameOutcome("skipped")).source.append(item.path.name)
                continue
            new_index[key] = prev
            results[i] = (hit.value, hit.error)
            continue
        digest = file_hash(item.path)
        new_index[key] = {"sha256": digest, "role": "tracking", "game_id": item.game_id}
        hit = cache.get(digest)
        if hit is not None:
            results[i] = (hit.value, hit.error)
        else:
            misses.append((i, item, digest))
    report(0.08, f"reading {len(misses)} changed tracker files, {len(results)} from cache")
    for n, (i, value, error) in enumerate(_read_many(misses, cancelled)):
        item = inputs[i]
        cache.put(next(d for j, _, d in misses if j == i), value, error)
        results[i] = (value, error)
        report(0.1 + 0.5 * (n + 1) / max(len(misses), 1), f"read {item.path.name}")
    reported: set[int] = set()
    for n, i in enumerate(sorted(results)):
        item, (tg, error) = inputs[i], results[i]
        if tg is not None:
            gid = tg.game_id
            if gid in excluded:
                continue
            if gid not in reported:
                reported.add(gid)
                report(0.6 + 0.1 * n / max(len(results), 1), f"game {gid}")
            by_game.setdefault(gid, []).append(tg)
            outcomes.setdefault(gid, GameOutcome("ok")).source.append(item.path.name)
        else:
            gid = item.game_id
            key = gid if gid is not None else -1
            outcomes.setdefault(key, GameOutcome("failed")).source.append(item.path.name)
            failed.setdefault(key, error or "unreadable")
            issues.add("file_failed", error or "unreadable", "game's tracking not used; run reported partial",
                       game_id=gid, file=item.path.name, severity="error")
            log.warning("etl.file_failed", file=item.path.name, error=error)
    step("read_tracking")

    # one file per game: the one with the most detail; the others are compared against it
    primaries: list[TrackedGame] = []
    alternates: list[TrackedGame] = []
    for gid, tgs in by_game.items():
        tgs = sorted(tgs, key=lambda t: t.detail_score, reverse=True)
        primaries.append(tgs[0])
        alternates.extend(tgs[1:])
        for tg in tgs:
            issues.extend(tg.issues)
    for gid in list(failed):
        if gid in by_game:  # another file of the same game was readable
            failed.pop(gid)
            outcomes[gid].status = "ok"
    report(0.72, "building tables")
    conformed, completeness = build_tables(lb, primaries, alternates, failed, issues)
    step("build")
    status_by_game = completeness.set_index("game_id")["status"].to_dict()
    for gid, oc in outcomes.items():
        if oc.status == "ok":
            tracking_status = status_by_game.get(gid, "untracked")
            oc.tracking = tracking_status
            oc.status = {"complete": "ok", "partial": "partial", "untracked": "untracked"}[tracking_status]
        if gid in failed:
            oc.error = failed[gid]

    # ---- write
    report(0.85, "writing tables")
    tmp = staging_dir(out)
    try:
        for name, data in lb.csv.items():
            (tmp / f"{name}.csv").write_bytes(data)
        for name, df in conformed.items():
            write_table(tmp, catalog.TABLES[name], df)
        conformed = {**lb.tables, **conformed}
        conformed = {name: conformed[name] for name in catalog.TABLES}
        step("write")
        run_status: Literal["ok", "partial", "failed"] = "partial" if failed else "ok"
        manifest = _manifest(conformed, outcomes, new_index, timings, run_status, started)
        write_manifest(tmp, manifest)
        report(0.97, "publishing output")
        swap_in(tmp, out)
    except BaseException:
        discard(tmp)
        raise
    cache.save_index({**index, **new_index} if selected is not None else new_index)
    step("publish")
    report(1.0, "done")
    issue_rows = conformed["qa_data_issues"]
    serious = issue_rows.loc[issue_rows["severity"].isin(["error", "warning"])].head(REPORT_ISSUE_LIMIT)
    result = RunReport(
        status=run_status, out=str(out), tables={k: len(v) for k, v in conformed.items()}, games=outcomes,
        issues=_json_records(serious), issue_count=len(issue_rows),
        issue_summary=dict(Counter(issue_rows["category"].astype(str))),
        duration_seconds=round(time.perf_counter() - started, 3), timings=timings,
        files_read=len(misses), files_cached=len(results) - len(misses),
    )
    log.info("etl.finished", status=result.status, games=len(outcomes), issues=result.issue_count,
             seconds=result.duration_seconds)
    return result


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


def _league_build(blb: Path, cache: ReadCache, new_index: dict) -> LeagueBuild:
    """The league workbook's build, from the cache when the workbook's hash is known."""
    if not blb.exists():
        raise InputError(f"league workbook {blb} does not exist")
    digest = file_hash(blb)
    new_index[str(blb.resolve())] = {"sha256": digest, "role": "league"}
    key = f"{digest}.league"
    hit = cache.get(key)
    if hit is not None and isinstance(hit.value, LeagueBuild):
        return hit.value
    lb = build_league(read_league_workbook(blb))
    cache.put(key, lb)
    return lb


def read_tracker_file(path: Path) -> tuple[TrackedGame | None, str | None]:
    """Read one tracker file; an unusable file gives (None, message naming the file) instead of raising."""
    try:
        if path.suffix.lower() == ".xlsx":
            tg = read_tracker_workbook(path)
        else:
            tg = read_tracker_json(path, read_json_document(path))
        tg.summary = qa.tracked_summary(tg.events, tg.event_players, tg.shifts, tg.shift_players)
        return tg, None
    except InputError as exc:
        return None, str(exc)
    except Exception as exc:  # a reader bug must fail only this game, with the file named
        return None, f"tracking file {path.name}: {type(exc).__name__}: {exc}"


def _read_many(misses: list[tuple[int, _Input, str]], cancelled: Callable[[], bool] | None):
    """Yield (position, TrackedGame | None, error) for each file; uses a process pool for several files."""
    workers = min(len(misses), os.cpu_count() or 1, MAX_READ_WORKERS)
    if workers < 2 or "fork" not in mp.get_all_start_methods():
        for i, item, _ in misses:
            if cancelled is not None and cancelled():
                raise EtlCancelled("cancelled while reading tracker files")
            yield (i, *read_tracker_file(item.path))
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        futures = {pool.submit(read_tracker_file, item.path): i for i, item, _ in misses}
        try:
            for fut in as_completed(futures):
                if cancelled is not None and cancelled():
                    raise EtlCancelled("cancelled while reading tracker files")
                yield (futures[fut], *fut.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


@dataclass
class TrackedBuild:
    """Everything derived from one set of tracked games (the chosen files, or one alternate file)."""

    resolved: Resolved
    shifts: pd.DataFrame
    onice: pd.DataFrame
    shots: pd.DataFrame
    goals: pd.DataFrame
    faceoffs: pd.DataFrame
    entries: pd.DataFrame
    exits: pd.DataFrame
    player_stats: pd.DataFrame
    swapped: set[int]


def summary_of(tg: TrackedGame, swapped: bool = False) -> pd.DataFrame:
    s = tg.summary if tg.summary is not None else qa.tracked_summary(
        tg.events, tg.event_players, tg.shifts, tg.shift_players)
    return s.rename(index={"home": "away", "away": "home"}, level="team_venue") if swapped else s


def build_tracked(tracked: list[TrackedGame], games: pd.DataFrame, roster: pd.DataFrame,
                  issues: Issues) -> TrackedBuild:
    r = resolve_tracking(tracked, games, roster, issues)
    shifts = ev_builders.shift_table(r)
    onice = stats.on_ice(r, shifts)
    shots = ev_builders.fact_shots(r)
    goals = ev_builders.fact_goals(r, onice, issues)
    faceoffs = ev_builders.fact_faceoffs(r)
    entries = ev_builders.fact_zone_entries(r)
    exits = ev_builders.fact_zone_exits(r)
    ps = stats.tracked_player_stats(r, shifts, onice, shots, goals, faceoffs, entries, exits)
    return TrackedBuild(r, shifts, onice, shots, goals, faceoffs, entries, exits, ps, r.swapped)


@dataclass
class LeagueBuild:
    """What depends on the league workbook alone: cached by its hash, so a tracking-only change skips it."""

    games: pd.DataFrame
    roster: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # conformed
    csv: dict[str, bytes]
    issues: Issues


def build_league(league: League) -> LeagueBuild:
    issues = Issues()
    issues.extend(league.issues)
    games = games_frame(league, issues)
    roster = roster_venues(league.roster, games)
    raw = {
        "dim_league": dims.dim_league(league, issues),
        "dim_season": dims.dim_season(league, issues),
        "dim_team": dims.dim_team(league, issues),
        "dim_player": dims.dim_player(league, issues),
        "dim_schedule": dims.dim_schedule(league, issues),
        "dim_event_type": dims.dim_event_type(league, issues),
        "dim_event_detail": dims.dim_event_detail(league, issues),
        "dim_event_detail_2": dims.dim_event_detail_2(league, issues),
        "dim_play_detail": dims.dim_play_detail(league, issues),
        "dim_play_detail_2": dims.dim_play_detail_2(league, issues),
        "dim_period": dims.dim_period(),
        "fact_gameroster": dims.fact_gameroster(league),
    }
    tables = {name: catalog.conform(enforce_keys(df, catalog.TABLES[name], issues), catalog.TABLES[name])
              for name, df in raw.items()}
    csv = {name: table_csv(catalog.TABLES[name], df) for name, df in tables.items()}
    return LeagueBuild(games, roster, tables, csv, issues)


def build_tables(lb: LeagueBuild, primaries: list[TrackedGame], alternates: list[TrackedGame],
                 failed: dict[int, str], issues: Issues) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The tracking-dependent catalog tables (conformed) from the league build and the chosen files (pure)."""
    games, roster = lb.games, lb.roster
    tb = build_tracked(primaries, games, roster, issues)
    r = tb.resolved
    completeness = qa.game_completeness(games, r, tb.shifts, tb.goals, failed)
    status = completeness[["game_id", "status", "has_shifts"]].rename(columns={"status": "game_status"})
    players = pd.concat([
        r.event_players[["game_id", "player_id", "team_id", "team_venue", "jersey"]],
        r.shift_players[["game_id", "player_id", "team_id", "team_venue", "jersey"]],
    ], ignore_index=True).dropna(subset=["player_id"]).drop_duplicates(["game_id", "player_id"])
    players["game_id"] = players["game_id"].astype("int64")
    ps = tb.player_stats.astype({"game_id": "int64"})
    pgs = stats.player_game_stats(roster, ps, players, status)
    toi = ps[["game_id", "player_id", "toi_seconds"]]
    ggs = stats.goalie_game_stats(roster, tb.shots, tb.goals, tb.onice.astype({"game_id": "int64"})
                                  if len(tb.onice) else tb.onice, status, toi)
    tgs = stats.team_game_stats(games, tb.shots.astype({"game_id": "int64"}), tb.goals.astype({"game_id": "int64"}),
                                tb.faceoffs.astype({"game_id": "int64"}), r.events.astype({"game_id": "int64"}),
                                tb.entries.astype({"game_id": "int64"}), tb.exits.astype({"game_id": "int64"}),
                                status)
    seasons = games.set_index("game_id")["season_id"]
    qa.scoresheet_disagreements(pgs, completeness, r.sources, issues)
    by_id = {t.game_id: t for t in primaries}
    for alt in alternates:
        prim = by_id[alt.game_id]
        qa.source_disagreements(alt.game_id, summary_of(prim, swapped=alt.game_id in tb.swapped),
                                summary_of(alt), prim.source_file, alt.source_file, issues)

    observed = list(tb.shifts["strength"].dropna().unique()) + list(r.events["strength"].dropna().unique())
    tables: dict[str, pd.DataFrame] = {
        "dim_strength": dims.dim_strength(observed),
        "fact_events": ev_builders.fact_events(r),
        "fact_event_players": ev_builders.fact_event_players(r),
        "fact_shifts": tb.shifts,
        "fact_shift_players": ev_builders.fact_shift_players(r),
        "fact_goals": tb.goals,
        "fact_shots": tb.shots,
        "fact_faceoffs": tb.faceoffs,
        "fact_zone_entries": tb.entries,
        "fact_zone_exits": tb.exits,
        "fact_player_game_stats": pgs,
        "fact_goalie_game_stats": ggs,
        "fact_team_game_stats": tgs,
        "fact_player_season_stats": stats.player_season_stats(pgs, seasons),
        "fact_goalie_season_stats": stats.goalie_season_stats(ggs, seasons),
        "fact_team_season_stats": stats.team_season_stats(tgs, seasons),
        "qa_game_completeness": completeness,
    }
    for name, df in tables.items():
        tables[name] = enforce_keys(df, catalog.TABLES[name], issues)
    issue_frame = issues.frame()
    issue_frame.insert(0, "issue_id", range(1, len(issue_frame) + 1))
    tables["qa_data_issues"] = issue_frame
    missing = set(catalog.TABLES) - set(tables) - set(lb.tables)
    if missing:
        raise RuntimeError(f"no builder for catalog tables {sorted(missing)}")
    return {name: catalog.conform(df, catalog.TABLES[name]) for name, df in tables.items()}, completeness


def enforce_keys(df: pd.DataFrame, spec: catalog.TableSpec, issues: Issues) -> pd.DataFrame:
    """Rows with an empty or repeated primary key are dropped and reported (never a crash)."""
    pk = list(spec.primary_key)
    null = df[pk].isna().any(axis=1)
    dup = df.duplicated(pk) & ~null
    if null.any() or dup.any():
        issues.add("primary_key_violation",
                   f"{spec.name}: {int(null.sum())} rows with an empty and {int(dup.sum())} with a repeated "
                   f"primary key {tuple(pk)}", "rows dropped", severity="warning")
    return df.loc[~null & ~dup]


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
