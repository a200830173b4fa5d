"""Building every catalog table: pure functions from the league workbook and the chosen tracked games.

- ``build_league``: what depends on the league workbook alone (dims, the scoresheet, games), cached by the
  workbook's hash so a tracking-only change skips it;
- ``build_tracked``: resolved tracked frames and the event-level facts for a set of tracker files;
- ``build_tables``: every other table, conformed to the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from etl import catalog
from etl.builders import (derived, dims, events as ev_builders, games as game_marts, lines, locations,
                          plays, qa, season_basic, stats)
from etl.builders.resolve import (Resolved, games_frame, player_names, resolve_tracking, roster_venues,
                                  team_names)
from etl.canonical import TrackedGame
from etl.issues import Issues
from etl.readers.league_workbook import League
from etl.writer import table_csv


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
    at_event: pd.DataFrame  # (game_id, event_id, shift_id): the shift each event happened in
    swapped: set[int]


def summary_of(tg: TrackedGame, swapped: bool = False, memo: "BuildMemo | None" = None) -> pd.DataFrame:
    """The file's tracked summary with home/away swapped if asked; kept in ``memo`` by the file's hash, so
    when one file of a game changes the other file's summary is not computed again."""
    if tg._summary is None and memo is not None and tg.digest:
        key = f"{tg.digest}.summary"
        tg.summary = memo.get(key)
        if tg._summary is None:
            memo.put(key, tg.summary)
    s = tg.summary
    return s.rename(index={"home": "away", "away": "home"}, level="team_venue") if swapped else s


def build_tracked(tracked: list[TrackedGame], games: pd.DataFrame, roster: pd.DataFrame,
                  issues: Issues) -> TrackedBuild:
    r = resolve_tracking(tracked, games, roster, issues)
    shifts = ev_builders.shift_table(r)
    at_event = stats.event_shifts(r.events, shifts)
    onice = stats.on_ice(r, shifts, at_event=at_event)
    shots = ev_builders.fact_shots(r)
    assists = ev_builders.linked_assists(r.events, r.event_players)  # goals and player stats both use it
    goals = ev_builders.fact_goals(r, onice, issues, assists)
    faceoffs = ev_builders.fact_faceoffs(r)
    entries = ev_builders.fact_zone_entries(r)
    exits = ev_builders.fact_zone_exits(r)
    ps = stats.tracked_player_stats(r, shifts, onice, shots, goals, faceoffs, entries, exits, assists)
    return TrackedBuild(r, shifts, onice, shots, goals, faceoffs, entries, exits, ps, at_event, r.swapped)


_RESOLVED_FRAMES = ("events", "event_players", "shifts", "shift_players", "xy")
_BUILD_FRAMES = ("shifts", "onice", "shots", "goals", "faceoffs", "entries", "exits", "player_stats", "at_event")


@dataclass
class GameBuild:
    """One game's share of a TrackedBuild and of the issues found while building it (cacheable)."""

    frames: dict[str, pd.DataFrame]
    source: str
    swapped: bool
    issue_rows: list[dict]


def _split(tb: TrackedBuild, local: Issues) -> tuple[TrackedBuild, Any]:
    """``tb`` in game order (as ``_join`` of its games' parts gives it) and a generator of (game_id, GameBuild)
    per game, one at a time; each game's frames are slices of the ordered frames, not copies."""
    ordered_tb = _in_game_order(tb)
    named = {f"resolved.{n}": getattr(ordered_tb.resolved, n) for n in _RESOLVED_FRAMES}
    named.update({n: getattr(ordered_tb, n) for n in _BUILD_FRAMES})
    game_ids = {name: df["game_id"].to_numpy(dtype="int64") for name, df in named.items()}
    rows: dict[int, list[dict]] = {}
    for row in local.rows:
        gid = row.get("game_id")
        rows.setdefault(int(gid) if gid is not None and gid == gid else -1, []).append(row)

    def parts():
        for n, (gid, source) in enumerate(tb.resolved.sources.items()):
            frames = {}
            for name, df in named.items():
                ids = game_ids[name]
                frames[name] = df.iloc[np.searchsorted(ids, gid, "left"):np.searchsorted(ids, gid, "right")]
            general = rows.get(-1, []) if n == 0 else []  # issues not tied to a game travel with the first one
            yield gid, GameBuild(frames, source, gid in tb.swapped, general + rows.get(gid, []))

    return ordered_tb, parts()


def _in_game_order(tb: TrackedBuild) -> TrackedBuild:
    """``tb`` with every frame's rows ordered by game id (stable) and sources by game id."""
    def ordered(df: pd.DataFrame) -> pd.DataFrame:
        order = np.argsort(df["game_id"].to_numpy(dtype="int64"), kind="stable") if len(df) else []
        return df.take(order).reset_index(drop=True)

    r = tb.resolved
    resolved = Resolved(*(ordered(getattr(r, n)) for n in _RESOLVED_FRAMES),
                        sources={g: r.sources[g] for g in sorted(r.sources)},
                        swapped={g for g in sorted(r.sources) if g in r.swapped})
    return TrackedBuild(resolved, *(ordered(getattr(tb, n)) for n in _BUILD_FRAMES), resolved.swapped)


def _join(builds: dict[int, GameBuild]) -> TrackedBuild:
    order = sorted(builds)

    def cat(name: str) -> pd.DataFrame:
        frames = [builds[g].frames[name] for g in order]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    resolved = Resolved(*(cat(f"resolved.{n}") for n in _RESOLVED_FRAMES),
                        sources={g: builds[g].source for g in order},
                        swapped={g for g in order if builds[g].swapped})
    return TrackedBuild(resolved, *(cat(n) for n in _BUILD_FRAMES), resolved.swapped)


class BuildMemo:
    """Where per-game builds and file comparisons are kept between runs (the pipeline passes its cache)."""

    def get(self, key: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def put(self, key: str, value: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def build_tracked_by_game(tracked: list[TrackedGame], games: pd.DataFrame, roster: pd.DataFrame, issues: Issues,
                          memo: BuildMemo | None = None, league_key: str = "") -> TrackedBuild:
    """build_tracked, reusing each game's previous build when neither its file nor the league changed.

    Games are built together (vectorised) and cached one by one under '<league hash>-<file hash>'; the
    issues found while building are emitted per game in game order, so the output does not depend on
    what was cached."""
    builds: dict[int, GameBuild] = {}
    todo: list[TrackedGame] = []
    keys = {t.game_id: f"{league_key}-{t.digest}.game" for t in tracked}
    for t in tracked:
        hit = memo.get(keys[t.game_id]) if memo is not None and t.digest else None
        if hit is not None:
            builds[t.game_id] = hit
        else:
            todo.append(t)
    all_fresh = not builds
    built = None
    if todo or not tracked:
        local = Issues()
        built, parts = _split(build_tracked(todo, games, roster, local), local)
        digests = {t.game_id: t.digest for t in todo}
        for gid, gb in parts:
            if memo is not None and digests.get(gid):
                memo.put(keys[gid], gb)
            if all_fresh:  # ``built`` is the join of these parts: keep only their issues
                gb = GameBuild({}, gb.source, gb.swapped, gb.issue_rows)
            builds[gid] = gb
    if not builds:
        return build_tracked([], games, roster, issues)
    for gid in sorted(builds):
        issues.rows.extend(builds[gid].issue_rows)
    return built if all_fresh else _join(builds)


@dataclass
class LeagueBuild:
    """What depends on the league workbook alone: cached by its hash, so a tracking-only change skips it."""

    games: pd.DataFrame
    roster: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # conformed
    csv: dict[str, bytes]
    issues: Issues
    players: pd.DataFrame  # player_id -> player_name, skill_rating (internal: not a catalog table's columns)
    teams: pd.DataFrame  # team_id -> team_name
    rink_boxes: pd.DataFrame  # the league's danger-zone boxes (locations.rink_boxes)


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
        "dim_schedule": dims.dim_schedule(league, games, issues),
        "dim_event_type": dims.dim_event_type(league, issues),
        "dim_event_detail": dims.dim_event_detail(league, issues),
        "dim_event_detail_2": dims.dim_event_detail_2(league, issues),
        "dim_play_detail": dims.dim_play_detail(league, issues),
        "dim_play_detail_2": dims.dim_play_detail_2(league, issues),
        "dim_period": dims.dim_period(),
        "fact_gameroster": game_marts.fact_gameroster(league, league.roster, games),
    }
    tables = {name: catalog.conform(enforce_keys(df, catalog.TABLES[name], issues), catalog.TABLES[name])
              for name, df in raw.items()}
    csv = {name: table_csv(catalog.TABLES[name], df) for name, df in tables.items()}
    boxes = locations.rink_boxes([league.sheet("dim_rinkcoordzones"), league.sheet("dim_rinkboxcoord")])
    return LeagueBuild(games, roster, tables, csv, issues, player_names(league), team_names(league), boxes)


def build_tables(lb: LeagueBuild, primaries: list[TrackedGame], alternates: list[TrackedGame],
                 failed: dict[int, str], issues: Issues, memo: BuildMemo | None = None,
                 league_key: str = "") -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The tracking-dependent catalog tables (conformed) from the league build and the chosen files."""
    games, roster = lb.games, lb.roster
    tb = build_tracked_by_game(primaries, games, roster, issues, memo, league_key)
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
    danger = derived.event_danger(r, lb.rink_boxes)
    ggs = stats.goalie_game_stats(roster, tb.shots, tb.goals, tb.onice.astype({"game_id": "int64"})
                                  if len(tb.onice) else tb.onice, status, toi, danger)
    ggs_inputs = (ggs, danger)
    tgs = stats.team_game_stats(games, tb.shots.astype({"game_id": "int64"}), tb.goals.astype({"game_id": "int64"}),
                                tb.faceoffs.astype({"game_id": "int64"}), r.events.astype({"game_id": "int64"}),
                                tb.entries.astype({"game_id": "int64"}), tb.exits.astype({"game_id": "int64"}),
                                status)
    seasons = games.set_index("game_id")["season_id"]
    qa.scoresheet_disagreements(pgs, completeness, r.sources, issues)
    by_id = {t.game_id: t for t in primaries}
    for alt in alternates:
        prim = by_id[alt.game_id]
        swapped = alt.game_id in tb.swapped
        key = f"{prim.digest}-{alt.digest}-{int(swapped)}.compare"
        rows = memo.get(key) if memo is not None and prim.digest and alt.digest else None
        if rows is None:
            found = Issues()
            qa.source_disagreements(alt.game_id, summary_of(prim, swapped, memo), summary_of(alt, memo=memo),
                                    prim.source_file, alt.source_file, found)
            rows = found.rows
            if memo is not None and prim.digest and alt.digest:
                memo.put(key, rows)
        issues.rows.extend(rows)

    observed = list(tb.shifts["strength"].dropna().unique()) + list(r.events["strength"].dropna().unique())
    tables: dict[str, pd.DataFrame] = {
        "dim_strength": dims.dim_strength(observed),
        "fact_goals": tb.goals,
        "fact_shots": tb.shots,
        "fact_faceoffs": tb.faceoffs,
        "fact_zone_entries": tb.entries,
        "fact_zone_exits": tb.exits,
        **tracked_analytics(lb, tb, pgs, ggs_inputs, tgs, status),
        "fact_player_season_stats": stats.player_season_stats(pgs, seasons),
        "fact_goalie_season_stats": stats.goalie_season_stats(ggs, seasons),
        "fact_team_season_stats": stats.team_season_stats(tgs, seasons),
        "qa_game_completeness": completeness,
        **_league_shape_tables(lb, completeness, pgs, ggs),
        "fact_video": game_marts.fact_video(lb.tables["dim_schedule"], primaries + alternates),
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


def _league_shape_tables(lb: LeagueBuild, completeness: pd.DataFrame, pgs: pd.DataFrame,
                         ggs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """fact_game_status and the season tables by game type (what the standings and leader pages read)."""
    seasons, teams, players = lb.tables["dim_season"], lb.tables["dim_team"], lb.tables["dim_player"]
    game_types = lb.tables["dim_schedule"].set_index("game_id")["game_type"]
    results = season_basic.team_results(lb.games, game_types)
    return {
        "fact_game_status": game_marts.fact_game_status(lb.games, completeness, teams),
        "fact_player_season_stats_basic": season_basic.player_season_basic(
            lb.roster, lb.games, game_types, pgs, seasons, teams, players),
        "fact_goalie_season_stats_basic": season_basic.goalie_season_basic(
            lb.roster, results, ggs, lb.games, game_types, seasons, teams, players),
        "fact_team_season_stats_basic": season_basic.team_season_basic(results, seasons, teams),
    }


def tracked_analytics(lb: LeagueBuild, tb: TrackedBuild, pgs: pd.DataFrame, ggs_inputs: tuple,
                      tgs: pd.DataFrame, status: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The event, shift and game-stat tables with the dashboard's columns, and the tracked analytics tables
    (shot locations, saves, zone summaries, micro stats, lines, WOWY, competition, zone time, paths)."""
    r, games, roster, players, teams = tb.resolved, lb.games, lb.roster, lb.players, lb.teams
    ggs, danger = ggs_inputs
    at = tb.at_event
    assists = ev_builders.linked_assists(r.events, r.event_players)
    rush = plays.rushes(r, tb.entries)
    micro = plays.micro_stats(r, tb.entries, tb.shots)
    hits = plays.hits(r)
    has_hits = set(r.events.loc[r.events["event_type"] == "Hit", "game_id"].astype("int64"))
    extras = [micro, plays.rush_stats(r, rush, tb.shots, tb.goals, assists, tb.entries), derived.penalties(r),
              hits]
    team_corsi = tgs[["game_id", "team_venue", "corsi_for", "corsi_against", "fenwick_for", "fenwick_against"]]
    team_corsi = team_corsi.rename(columns={"corsi_for": "team_cf", "corsi_against": "team_ca",
                                            "fenwick_for": "team_ff", "fenwick_against": "team_fa"})
    goalie_lines = ggs[["game_id", "player_id", "goals_against", "saves"]].rename(
        columns={"goals_against": "g_goals_against", "saves": "g_saves"}).astype({"game_id": "int64"})
    even = derived.even_strength_goals(tb.onice, tb.goals)
    pgs_full = derived.player_game_stats(pgs, roster, games, teams, players, extras, even,
                                         team_corsi.astype({"game_id": "int64"}), goalie_lines, has_hits)
    saves = plays.fact_saves(r, tb.shots, danger)
    complete = ggs.loc[ggs["game_status"] == "complete"]
    shots_against = complete["shots_against"].sum()
    league_sv = float(complete["saves"].sum() / shots_against) if shots_against > 0 else None
    ggs_full = derived.goalie_game_stats(ggs, games, teams, players, plays.save_type_counts(saves), league_sv)
    blocks = plays.blocks_made(r, tb.shots)
    tgs_full = derived.team_game_stats(tgs, pgs_full, roster, games, teams, blocks, tb.shifts)
    onice = lines.skaters_on_ice(r, tb.shifts, at, tb.shots, tb.goals)
    micro_t = micro.merge(pgs_full[["game_id", "player_id", "team_id", "player_name"]], on=["game_id", "player_id"],
                          how="left")
    return {
        "fact_events": derived.fact_events(ev_builders.fact_events(r), r, games, teams, players, at, danger, rush),
        "fact_event_players": derived.fact_event_players(ev_builders.fact_event_players(r)),
        "fact_shifts": derived.fact_shifts(tb.shifts, games, teams, at, tb.shots, tb.goals, tb.faceoffs,
                                           r.events),
        "fact_shift_players": derived.fact_shift_players(ev_builders.fact_shift_players(r), tb.shifts),
        "fact_player_game_stats": pgs_full,
        "fact_goalie_game_stats": ggs_full,
        "fact_team_game_stats": tgs_full,
        "fact_shot_xy": locations.fact_shot_xy(tb.shots, lb.rink_boxes),
        "fact_saves": saves,
        "fact_zone_entry_summary": plays.fact_zone_entry_summary(tb.entries),
        "fact_zone_exit_summary": plays.fact_zone_exit_summary(tb.exits),
        "fact_player_micro_stats": micro_t,
        "fact_line_combos": lines.fact_line_combos(onice, games),
        "fact_wowy": lines.fact_wowy(onice, games),
        "fact_player_qoc_summary": lines.fact_player_qoc_summary(onice, players),
        "fact_team_zone_time": plays.fact_team_zone_time(r, games),
        "fact_puck_xy_long": locations.fact_puck_xy_long(r),
        "fact_puck_xy_wide": locations.fact_puck_xy_wide(r),
        "fact_player_xy_long": locations.fact_player_xy_long(r, players),
    }


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
