"""Resolving tracked frames against the league's record: which team is home, who wears which jersey.

- ``games_frame``: one row per scheduled game with home/away team ids and the official goals per team.
  The scoresheet (fact_gameroster) decides home/away and goals where it exists; a schedule row that
  disagrees is reported, not followed.
- ``resolve_tracking``: concatenates tracked games, swaps a tracker's home/away sides when its players'
  jerseys match the scoresheet only the other way round, and maps (game, side, jersey) to player_id
  (scoresheet first, then the tracker file's own roster, then the one player of the game who wears the number,
  reported). Unknown jerseys are kept and reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.canonical import (EVENT_COLUMNS, EVENT_PLAYER_COLUMNS, SHIFT_COLUMNS, SHIFT_PLAYER_COLUMNS, XY_COLUMNS,
                           TrackedGame)
from etl.issues import Issues
from etl.readers.league_workbook import League

OTHER_SIDE = {"home": "away", "away": "home"}


def games_frame(league: League, issues: Issues) -> pd.DataFrame:
    sched = league.sheet("dim_schedule")
    roster = league.roster
    g = pd.DataFrame({
        "game_id": sched["game_id"].astype("int64"),
        "season_id": sched["season_id"].astype("str"),
        "date": pd.to_datetime(sched["date"], errors="coerce"),
        "sched_home": sched["home_team_id"].astype("str"),
        "sched_away": sched["away_team_id"].astype("str"),
        "sched_home_goals": pd.to_numeric(sched["home_total_goals"], errors="coerce"),
        "sched_away_goals": pd.to_numeric(sched["away_total_goals"], errors="coerce"),
    })
    # each team's venue is the majority of its scoresheet rows; goals are summed per team, not per row venue
    per_team = roster.assign(is_home=(roster["team_venue"] == "home").astype("int64")).groupby(
        ["game_id", "team_id"]).agg(goals=("goals", "sum"), home_rows=("is_home", "sum"), rows=("is_home", "size"))
    per_team["venue"] = np.where(per_team["home_rows"] * 2 > per_team["rows"], "home", "away")
    per_team = per_team.reset_index()
    home = per_team.loc[per_team["venue"] == "home"]
    away = per_team.loc[per_team["venue"] == "away"]
    two = per_team.groupby("game_id").size()
    clear = set(two[two == 2].index) & set(home["game_id"]) & set(away["game_id"])
    home, away = home.loc[home["game_id"].isin(clear)], away.loc[away["game_id"].isin(clear)]
    g = g.merge(home.rename(columns={"team_id": "ros_home", "goals": "ros_home_goals"})[
        ["game_id", "ros_home", "ros_home_goals"]], on="game_id", how="left")
    g = g.merge(away.rename(columns={"team_id": "ros_away", "goals": "ros_away_goals"})[
        ["game_id", "ros_away", "ros_away_goals"]], on="game_id", how="left")
    # scoresheets whose venue column is unusable: teams from the schedule, goals still per team
    goals_by_team = per_team.set_index(["game_id", "team_id"])["goals"]
    unclear = g["ros_home"].isna() & g["game_id"].isin(per_team["game_id"])
    if unclear.any():
        idx_h = pd.MultiIndex.from_arrays([g.loc[unclear, "game_id"], g.loc[unclear, "sched_home"]])
        idx_a = pd.MultiIndex.from_arrays([g.loc[unclear, "game_id"], g.loc[unclear, "sched_away"]])
        h = goals_by_team.reindex(idx_h).to_numpy()
        a = goals_by_team.reindex(idx_a).to_numpy()
        both = ~np.isnan(h.astype(float)) & ~np.isnan(a.astype(float))
        rows = g.index[unclear][both]
        g.loc[rows, "ros_home"] = g.loc[rows, "sched_home"]
        g.loc[rows, "ros_away"] = g.loc[rows, "sched_away"]
        g.loc[rows, "ros_home_goals"] = h[both]
        g.loc[rows, "ros_away_goals"] = a[both]
    has_roster = g["ros_home"].notna() & g["ros_away"].notna()
    g["home_team_id"] = g["ros_home"].where(has_roster, g["sched_home"])
    g["away_team_id"] = g["ros_away"].where(has_roster, g["sched_away"])
    swapped = has_roster & (g["ros_home"] == g["sched_away"]) & (g["ros_away"] == g["sched_home"])
    # schedule goals re-keyed by team, so a swapped venue does not look like a swapped score
    sched_for_home = np.where(swapped, g["sched_away_goals"], g["sched_home_goals"])
    sched_for_away = np.where(swapped, g["sched_home_goals"], g["sched_away_goals"])
    g["official_home_goals"] = g["ros_home_goals"].where(has_roster, g["sched_home_goals"])
    g["official_away_goals"] = g["ros_away_goals"].where(has_roster, g["sched_away_goals"])
    g["has_scoresheet"] = has_roster
    if swapped.any():
        s = g.loc[swapped]
        issues.add_frame(pd.DataFrame({
            "game_id": s["game_id"], "file": league.source_file, "sheet": "dim_schedule", "column": "home_team_id",
            "category": "schedule_venue_disagrees", "severity": "warning",
            "message": "schedule lists " + s["sched_home"] + " as home and " + s["sched_away"]
            + " as away; the scoresheet (fact_gameroster) the other way round",
            "action": "home/away taken from the scoresheet; schedule row written unchanged to dim_schedule",
        }))
    mismatch = has_roster & ((sched_for_home != g["ros_home_goals"]) | (sched_for_away != g["ros_away_goals"]))
    if mismatch.any():
        s = g.loc[mismatch]
        issues.add_frame(pd.DataFrame({
            "game_id": s["game_id"], "file": league.source_file, "sheet": "dim_schedule",
            "column": "home_total_goals", "category": "schedule_score_disagrees", "severity": "warning",
            "message": "schedule score " + pd.Series(sched_for_home[mismatch]).astype("Int64").astype(str).values
            + "-" + pd.Series(sched_for_away[mismatch]).astype("Int64").astype(str).values
            + " (home-away by team) but the scoresheet adds up to " + s["ros_home_goals"].astype(int).astype(str)
            + "-" + s["ros_away_goals"].astype(int).astype(str),
            "action": "official goals taken from the scoresheet",
        }))
    g["game_type"] = (sched["game_type"].astype("str").where(sched["game_type"].notna()).to_numpy()
                      if "game_type" in sched.columns else None)
    return g[["game_id", "season_id", "date", "game_type", "home_team_id", "away_team_id", "official_home_goals",
              "official_away_goals", "has_scoresheet"]]


def player_names(league: League) -> pd.DataFrame:
    """player_id -> player_name (the workbook's full name) and skill_rating, one row per player."""
    p = league.sheet("dim_player")
    col = lambda c: p[c] if c in p.columns else pd.Series(None, index=p.index, dtype=object)  # noqa: E731
    out = pd.DataFrame({"player_id": col("player_id").astype("str"), "player_name": col("player_full_name"),
                        "skill_rating": pd.to_numeric(col("current_skill_rating"), errors="coerce")})
    return out.loc[col("player_id").notna()].drop_duplicates("player_id").reset_index(drop=True)


def team_names(league: League) -> pd.DataFrame:
    """team_id -> team_name, one row per team."""
    t = league.sheet("dim_team")
    out = pd.DataFrame({"team_id": t["team_id"].astype("str"), "team_name": t["team_name"]})
    return out.loc[t["team_id"].notna()].drop_duplicates("team_id").reset_index(drop=True)


def roster_venues(roster: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """The scoresheet with each row's team_venue set from its team's venue in ``games`` (rows of a team that
    is neither home nor away keep their own)."""
    g = games[["game_id", "home_team_id", "away_team_id"]]
    r = roster.merge(g, on="game_id", how="left")
    venue = np.select([r["team_id"] == r["home_team_id"], r["team_id"] == r["away_team_id"]], ["home", "away"],
                      None)
    r["team_venue"] = pd.Series(venue, index=r.index).fillna(r["team_venue"])
    return r.drop(columns=["home_team_id", "away_team_id"])


@dataclass
class Resolved:
    """All tracked games' canonical frames, concatenated, with team_id and player_id resolved."""

    events: pd.DataFrame
    event_players: pd.DataFrame
    shifts: pd.DataFrame
    shift_players: pd.DataFrame
    xy: pd.DataFrame  # puck and player paths (canonical XY_COLUMNS)
    sources: dict[int, str]
    swapped: set[int]


def _concat(frames: list[pd.DataFrame], columns: dict[str, str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return pd.concat(frames, ignore_index=True)


def resolve_tracking(
    tracked: list[TrackedGame], games: pd.DataFrame, roster: pd.DataFrame, issues: Issues
) -> Resolved:
    ev = _concat([t.events for t in tracked], EVENT_COLUMNS)
    ep = _concat([t.event_players for t in tracked], EVENT_PLAYER_COLUMNS)
    sh = _concat([t.shifts for t in tracked], SHIFT_COLUMNS)
    sp = _concat([t.shift_players for t in tracked], SHIFT_PLAYER_COLUMNS)
    tr = _concat([t.roster for t in tracked], {"game_id": "Int64", "team_venue": "str", "jersey": "Int64",
                                                "player_id": "str"})
    xy = _concat([t.xy for t in tracked], XY_COLUMNS)
    sources = {t.game_id: t.source_file for t in tracked}

    off = roster.loc[roster["jersey"].notna() & roster["game_id"].isin(list(sources)),
                     ["game_id", "team_venue", "jersey", "player_id"]].copy()
    off["jersey"] = off["jersey"].astype("int64")
    worn = off.drop_duplicates(["game_id", "jersey", "player_id"])
    only = worn.drop_duplicates(["game_id", "jersey"], keep=False)[["game_id", "jersey", "player_id"]]
    off = off.drop_duplicates(["game_id", "team_venue", "jersey"])

    # 1. sides: swap a tracker's home/away when its jerseys match the scoresheet only swapped
    swap = _side_swaps(ep, sp, off, sources, issues)
    if swap:
        for df in (ev, ep, sp, tr):
            m = df["game_id"].isin(swap)
            df.loc[m, "team_venue"] = df.loc[m, "team_venue"].map(OTHER_SIDE)

    # 2. team ids
    venue_team = pd.concat([
        games[["game_id", "home_team_id"]].rename(columns={"home_team_id": "team_id"}).assign(team_venue="home"),
        games[["game_id", "away_team_id"]].rename(columns={"away_team_id": "team_id"}).assign(team_venue="away"),
    ], ignore_index=True)
    venue_team["game_id"] = venue_team["game_id"].astype("Int64")
    ev = ev.merge(venue_team, on=["game_id", "team_venue"], how="left")
    ep = ep.merge(venue_team, on=["game_id", "team_venue"], how="left")
    sp = sp.merge(venue_team, on=["game_id", "team_venue"], how="left")

    # 3. player ids: scoresheet, then the tracker's roster, then an id the tracker wrote inline
    ep = _player_ids(ep, off, tr, only)
    sp = _player_ids(sp, off, tr, only)
    _report_other_team_jerseys(ep, sp, sources, issues)
    _report_unknown_jerseys(ep, sp, off, sources, issues)
    ep = ep.drop(columns=["other_team_jersey"])
    sp = sp.drop(columns=["other_team_jersey"])
    return Resolved(ev, ep, sh, sp, xy, sources, swap)


def _side_swaps(ep: pd.DataFrame, sp: pd.DataFrame, off: pd.DataFrame, sources: dict[int, str],
                issues: Issues) -> set[int]:
    rows = pd.concat([ep[["game_id", "team_venue", "jersey"]], sp[["game_id", "team_venue", "jersey"]]],
                     ignore_index=True).dropna()
    if rows.empty:
        return set()
    rows = rows.astype({"game_id": "int64", "jersey": "int64", "team_venue": "str"})
    key = off.assign(hit=1)[["game_id", "team_venue", "jersey", "hit"]]
    straight = rows.merge(key, on=["game_id", "team_venue", "jersey"], how="left").groupby("game_id")["hit"].sum()
    flipped = rows.assign(team_venue=rows["team_venue"].map(OTHER_SIDE)).merge(
        key, on=["game_id", "team_venue", "jersey"], how="left").groupby("game_id")["hit"].sum()
    swapped = flipped[(flipped > 2 * straight) & (flipped > 10)].index
    for gid in swapped:
        issues.add("tracker_sides_swapped",
                   f"tracker's home/away sides are swapped against the scoresheet: {int(flipped[gid])} player rows "
                   f"match the scoresheet swapped, {int(straight[gid])} as written",
                   "home/away swapped to match the scoresheet", game_id=int(gid), file=sources.get(int(gid)),
                   sheet="events", column="team_")
    return {int(g) for g in swapped}


def _player_ids(df: pd.DataFrame, off: pd.DataFrame, tracker_roster: pd.DataFrame,
                only: pd.DataFrame) -> pd.DataFrame:
    """player_id per row: the scoresheet of the row's team, then the tracker's roster, then an inline id, then
    the one player of the game (either team) who wears that number: a jersey on the wrong team label.
    ``other_team_jersey`` marks the rows resolved the last way (reported, then dropped by the caller)."""
    if df.empty:
        df["player_id"] = pd.Series(dtype="str")
        df["other_team_jersey"] = pd.Series(dtype="bool")
        return df
    inline = df["player_id"] if "player_id" in df.columns else pd.Series(np.nan, index=df.index)
    df = df.drop(columns=["player_id"], errors="ignore")
    key = df[["game_id", "team_venue", "jersey"]].astype({"game_id": "Int64", "jersey": "Int64"})
    o = off.astype({"game_id": "Int64", "jersey": "Int64"})
    pid = key.merge(o, on=["game_id", "team_venue", "jersey"], how="left")["player_id"]
    tr = tracker_roster.dropna(subset=["player_id", "jersey"]).drop_duplicates(["game_id", "team_venue", "jersey"])
    if len(tr):
        tr = tr[["game_id", "team_venue", "jersey", "player_id"]].astype({"game_id": "Int64", "jersey": "Int64"})
        pid = pid.fillna(key.merge(tr, on=["game_id", "team_venue", "jersey"], how="left")["player_id"])
    df["player_id"] = pid.fillna(pd.Series(inline.to_numpy(), index=pid.index)).astype("str").to_numpy()
    df["player_id"] = df["player_id"].where(~df["player_id"].isin(["nan", "None", ""]))
    unresolved = df["player_id"].isna() & df["jersey"].notna()
    df["other_team_jersey"] = False
    if unresolved.any():
        o = only.astype({"game_id": "Int64", "jersey": "Int64"})
        found = key.loc[unresolved, ["game_id", "jersey"]].merge(o, on=["game_id", "jersey"], how="left")
        hit = found["player_id"].notna().to_numpy()
        rows = df.index[unresolved][hit]
        df.loc[rows, "player_id"] = found["player_id"].to_numpy()[hit]
        df.loc[rows, "other_team_jersey"] = True
    return df


def _report_other_team_jerseys(ep: pd.DataFrame, sp: pd.DataFrame, sources: dict[int, str],
                               issues: Issues) -> None:
    """One issue per game/team label/jersey credited to the other team's player who wears the number."""
    for df, sheet in ((ep, "events"), (sp, "shifts")):
        u = df.loc[df["other_team_jersey"]]
        if u.empty:
            continue
        first_row = u["row"] if "row" in u.columns else pd.Series(np.nan, index=u.index)
        u = u.assign(first_row=first_row, team_venue=u["team_venue"].fillna("no team label"))
        agg = u.groupby(["game_id", "team_venue", "jersey", "player_id"], as_index=False).agg(
            n=("jersey", "size"), row=("first_row", "min"))
        issues.add_frame(pd.DataFrame({
            "game_id": agg["game_id"], "file": agg["game_id"].map(lambda g: sources.get(int(g))), "sheet": sheet,
            "row": agg["row"], "column": "jersey", "category": "jersey_on_other_team", "severity": "warning",
            "message": "jersey " + agg["jersey"].astype(str) + " (" + agg["team_venue"].astype(str)
            + ") is not on its team's roster; the one player of the game with this number is "
            + agg["player_id"].astype(str) + " (" + agg["n"].astype(str) + " rows)",
            "action": "rows credited to " + agg["player_id"].astype(str) + " (team label kept as written)",
        }))


def _report_unknown_jerseys(ep: pd.DataFrame, sp: pd.DataFrame, off: pd.DataFrame, sources: dict[int, str],
                            issues: Issues) -> None:
    parts = []
    for df, sheet in ((ep, "events"), (sp, "shifts")):
        u = df.loc[df["player_id"].isna() & df["jersey"].notna()]
        if len(u):
            first_row = u["row"] if "row" in u.columns else pd.Series(np.nan, index=u.index)
            agg = u.assign(first_row=first_row).groupby(["game_id", "team_venue", "jersey"], as_index=False).agg(
                n=("jersey", "size"), row=("first_row", "min"))
            agg["sheet"] = sheet
            parts.append(agg)
    if not parts:
        return
    u = pd.concat(parts, ignore_index=True)
    other = off.assign(team_venue=off["team_venue"].map(OTHER_SIDE)).rename(columns={"player_id": "other_id"})
    u = u.astype({"game_id": "int64", "jersey": "int64"}).merge(
        other[["game_id", "team_venue", "jersey", "other_id"]], on=["game_id", "team_venue", "jersey"], how="left")
    hint = ("; the other team's scoresheet has " + u["other_id"].astype(str) + " with this number").where(
        u["other_id"].notna(), "")
    issues.add_frame(pd.DataFrame({
        "game_id": u["game_id"], "file": u["game_id"].map(lambda g: sources.get(int(g))), "sheet": u["sheet"],
        "row": u["row"], "column": "jersey", "category": "jersey_not_on_roster", "severity": "warning",
        "message": "jersey " + u["jersey"].astype(str) + " (" + u["team_venue"].astype(str)
        + ") is not on the game's roster (" + u["n"].astype(str) + " rows)" + hint,
        "action": "rows kept without player_id; not credited in player stats",
    }))
