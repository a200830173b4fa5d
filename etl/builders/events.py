"""Event-level fact tables: events, event players, shifts, shift players, goals, shots, faceoffs, zone entries/exits.

Definitions (see docs/stats.md):
- goal: an event of type 'Goal'; scorer = event_player_1, team = the event team.
- shot attempt: an event of type 'Shot'; shooter = event_player_1. Its event_detail gives the result:
  '*Goal*' goal, '*OnNet*' saved, '*Blocked*' or 'Shot_Deflected' blocked, '*Missed*' / '*Post*' missed.
- assist: a player row whose play detail holds 'AssistPrimary' / 'AssistSecondary'; linked to the next goal
  of the same team in the same period.
- faceoff: type 'Faceoff'; the event team won, event_player_1 is the winner and opp_player_1 the loser.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.builders.resolve import Resolved
from etl.issues import Issues

NET_X = 89.0  # goal lines at x = +-89 ft on a 200 x 85 rink centred at (0, 0)


def fact_events(r: Resolved) -> pd.DataFrame:
    ev = r.events.copy()
    ev["source_file"] = ev["game_id"].map(lambda g: r.sources.get(int(g)))
    return ev


def fact_event_players(r: Resolved) -> pd.DataFrame:
    ep = r.event_players.copy()
    ep["role"] = np.where(ep["side"] == "event", "event_player_", "opp_player_") + ep["role_number"].astype(str)
    return ep


def shift_table(r: Resolved) -> pd.DataFrame:
    """Shifts with duration and manpower (skaters per side from the players on the ice)."""
    sh = r.shifts.copy()
    sh["duration_s"] = sh["clock_start_s"] - sh["clock_end_s"]
    sh.loc[sh["duration_s"] < 0, "duration_s"] = np.nan
    sp = r.shift_players
    skaters = sp.loc[sp["slot"] != "G"].groupby(["game_id", "shift_id", "team_venue"]).size().unstack(fill_value=0)
    goalies = sp.loc[sp["slot"] == "G"].groupby(["game_id", "shift_id", "team_venue"]).size().unstack(fill_value=0)
    for side in ("home", "away"):
        if side not in skaters.columns:
            skaters[side] = 0
        if side not in goalies.columns:
            goalies[side] = 0
    key = pd.MultiIndex.from_arrays([sh["game_id"], sh["shift_id"]])
    sh["home_skaters"] = skaters["home"].reindex(key).fillna(0).to_numpy()
    sh["away_skaters"] = skaters["away"].reindex(key).fillna(0).to_numpy()
    sh["home_empty_net"] = goalies["home"].reindex(key).fillna(0).to_numpy() == 0
    sh["away_empty_net"] = goalies["away"].reindex(key).fillna(0).to_numpy() == 0
    sh["strength"] = sh["home_skaters"].astype(int).astype(str) + "v" + sh["away_skaters"].astype(int).astype(str)
    sh["source_file"] = sh["game_id"].map(lambda g: r.sources.get(int(g)))
    return sh


def fact_shift_players(r: Resolved) -> pd.DataFrame:
    sp = r.shift_players.copy()
    sp["is_goalie"] = sp["slot"] == "G"
    dup = sp.duplicated(["game_id", "shift_id", "team_venue", "slot"])
    return sp.loc[~dup]


def _player(ep: pd.DataFrame, side: str, number: int, prefix: str) -> pd.DataFrame:
    p = ep.loc[(ep["side"] == side) & (ep["role_number"] == number),
               ["game_id", "event_id", "player_id", "jersey", "team_id"]]
    p = p.drop_duplicates(["game_id", "event_id"])
    return p.rename(columns={"player_id": f"{prefix}_player_id", "jersey": f"{prefix}_jersey",
                             "team_id": f"{prefix}_team_id"})


def shot_flags(detail: pd.Series) -> pd.DataFrame:
    d = detail.fillna("")
    is_goal = d.str.contains("Goal", regex=False)
    on_goal = is_goal | d.str.contains("OnNet", regex=False)
    blocked = ~on_goal & (d.str.contains("Blocked", regex=False) | (d == "Shot_Deflected"))
    missed = ~on_goal & ~blocked & (d.str.contains("Miss", regex=False) | d.str.contains("Post", regex=False))
    result = np.select([is_goal, on_goal, blocked, missed], ["goal", "saved", "blocked", "missed"], "unknown")
    return pd.DataFrame({"is_goal": is_goal, "is_on_goal": on_goal, "is_blocked": blocked, "is_missed": missed,
                         "result": result}, index=detail.index)


def fact_shots(r: Resolved) -> pd.DataFrame:
    ev = r.events.loc[r.events["event_type"] == "Shot"]
    shots = ev[["game_id", "event_id", "period", "clock_start_s", "team_id", "team_venue", "event_detail",
                "event_detail_2", "puck_x", "puck_y"]].rename(columns={"clock_start_s": "clock_s",
                                                                      "event_detail_2": "shot_type"})
    shots = pd.concat([shots, shot_flags(shots["event_detail"])], axis=1)
    shots = shots.merge(_player(r.event_players, "event", 1, "shooter"), on=["game_id", "event_id"], how="left")
    x, y = shots["puck_x"], shots["puck_y"]
    on_rink = (x.abs() <= 100) & (y.abs() <= 42.5)
    net_x = np.where(x >= 0, NET_X, -NET_X)
    dx = np.abs(net_x - x)
    shots["x"] = x.where(on_rink)
    shots["y"] = y.where(on_rink)
    shots["distance_ft"] = np.hypot(dx, y).where(on_rink)
    shots["angle_deg"] = pd.Series(np.degrees(np.arctan2(np.abs(y), dx)), index=shots.index).where(on_rink)
    return shots


def assists(r: Resolved) -> pd.DataFrame:
    """Assist credits: one row per player row whose play detail names an assist, with its kind (1 or 2)."""
    ep = r.event_players
    pd1 = ep["play_detail_1"].fillna("") + " " + ep["play_detail_2"].fillna("")
    kind = np.select([pd1.str.contains("AssistPrimary"), pd1.str.contains("AssistSecondary")], [1, 2], 0)
    a = ep.loc[kind > 0, ["game_id", "event_id", "player_id", "jersey", "team_id", "team_venue"]].copy()
    a["assist_kind"] = kind[kind > 0]
    a = a.merge(r.events[["game_id", "event_id", "period"]], on=["game_id", "event_id"], how="left")
    return a


def fact_goals(r: Resolved, shifts_onice: pd.DataFrame | None, issues: Issues) -> pd.DataFrame:
    ev = r.events.loc[r.events["event_type"] == "Goal"]
    goals = ev[["game_id", "event_id", "period", "clock_start_s", "team_id", "team_venue", "event_detail_2",
                "strength"]].rename(columns={"clock_start_s": "clock_s", "event_detail_2": "goal_type"})
    goals = goals.merge(_player(r.event_players, "event", 1, "scorer"), on=["game_id", "event_id"], how="left")
    goals = goals.drop(columns=["scorer_team_id"])
    a = assists(r)
    for kind, prefix in ((1, "primary_assist"), (2, "secondary_assist")):
        linked = link_assists_to_goals(a.loc[a["assist_kind"] == kind], goals, issues, prefix, r.sources)
        goals = goals.merge(linked, on=["game_id", "event_id"], how="left")
    if shifts_onice is not None and len(shifts_onice):
        g = shifts_onice.loc[shifts_onice["is_goalie"]][["game_id", "event_id", "team_venue", "player_id"]]
        g = g.rename(columns={"team_venue": "goalie_venue", "player_id": "goalie_player_id"})
        goals = goals.merge(g, on=["game_id", "event_id"], how="left")
        goals = goals.loc[goals["goalie_venue"].isna() | (goals["goalie_venue"] != goals["team_venue"])]
        goals = goals.drop_duplicates(["game_id", "event_id"]).drop(columns=["goalie_venue"])
    else:
        goals["goalie_player_id"] = None
    return goals


def link_assists_to_goals(a: pd.DataFrame, goals: pd.DataFrame, issues: Issues, prefix: str,
                          sources: dict[int, str]) -> pd.DataFrame:
    """Each assist credit goes to the next goal of the same team in the same period (by event order)."""
    cols = ["game_id", "event_id", f"{prefix}_player_id", f"{prefix}_jersey"]
    if a.empty or goals.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols}).astype(
            {"game_id": "Int64", "event_id": "Int64"})
    left = a.rename(columns={"event_id": "assist_event_id"}).astype({"assist_event_id": "int64"})
    left = left.sort_values("assist_event_id")
    right = goals[["game_id", "event_id", "team_venue", "period"]].rename(columns={"period": "goal_period"})
    right = right.assign(goal_event_id=right["event_id"].astype("int64")).sort_values("goal_event_id")
    m = pd.merge_asof(left, right, left_on="assist_event_id", right_on="goal_event_id", by=["game_id", "team_venue"],
                      direction="forward")
    ok = m["event_id"].notna() & (m["goal_period"] == m["period"])
    orphans = m.loc[~ok]
    if len(orphans):
        issues.add_frame(pd.DataFrame({
            "game_id": orphans["game_id"], "file": orphans["game_id"].map(lambda g: sources.get(int(g))),
            "sheet": "events", "column": "play_detail",
            "category": "assist_without_goal", "severity": "info",
            "message": prefix.replace("_", " ") + " on event " + orphans["assist_event_id"].astype(str)
            + " (jersey " + orphans["jersey"].astype(str) + ") is not followed by a goal of its team in the period",
            "action": "still counted in the player's tracked assists; not linked in fact_goals",
        }))
    m = m.loc[ok].drop_duplicates(["game_id", "event_id"], keep="last")
    out = m[["game_id", "event_id", "player_id", "jersey"]].rename(
        columns={"player_id": f"{prefix}_player_id", "jersey": f"{prefix}_jersey"})
    return out.astype({"game_id": "Int64", "event_id": "Int64"})


def fact_faceoffs(r: Resolved) -> pd.DataFrame:
    ev = r.events.loc[r.events["event_type"] == "Faceoff"]
    fo = ev[["game_id", "event_id", "period", "clock_start_s", "zone", "event_detail"]].rename(
        columns={"clock_start_s": "clock_s"})
    fo = fo.merge(_player(r.event_players, "event", 1, "winner"), on=["game_id", "event_id"], how="left")
    fo = fo.merge(_player(r.event_players, "opp", 1, "loser"), on=["game_id", "event_id"], how="left")
    venue_team = r.events[["game_id", "event_id", "team_id"]]
    fo = fo.merge(venue_team, on=["game_id", "event_id"], how="left")
    fo["winner_team_id"] = fo["winner_team_id"].fillna(fo["team_id"])
    return fo


def _zone(r: Resolved, detail: str, kind_col: str) -> pd.DataFrame:
    ev = r.events
    m = (ev["event_type"] == "Zone_Entry_Exit") & ev["event_detail"].fillna("").str.startswith(detail)
    z = ev.loc[m, ["game_id", "event_id", "period", "clock_start_s", "team_id", "event_detail", "event_detail_2",
                   "success"]].rename(columns={"clock_start_s": "clock_s"})
    z[kind_col] = z["event_detail_2"]
    failed = z["event_detail"].str.endswith("_Failed")
    z["success"] = (~failed) & z["success"].fillna(True).astype(bool)
    z = z.merge(_player(r.event_players, "event", 1, "p"), on=["game_id", "event_id"], how="left")
    return z.rename(columns={"p_player_id": "player_id", "p_jersey": "jersey"})


def fact_zone_entries(r: Resolved) -> pd.DataFrame:
    return _zone(r, "Zone_Entry", "entry_type")


def fact_zone_exits(r: Resolved) -> pd.DataFrame:
    return _zone(r, "Zone_Exit", "exit_type")
