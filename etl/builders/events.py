"""Event-level fact tables: events, event players, shifts, shift players, goals, shots, faceoffs, zone entries/exits.

Definitions (see docs/stats.md):
- goal: an event of type 'Goal'; scorer = event_player_1, team = the event team.
- shot attempt: an event of type 'Shot'; shooter = event_player_1. Its event_detail gives the result:
  '*Goal*' goal, '*OnNet*' saved, '*Blocked*' or 'Shot_Deflected' blocked, '*Missed*' / '*Post*' missed.
- assist: a player row whose play detail holds 'AssistPrimary' / 'AssistSecondary', linked to the next goal
  of the same team in the same period; marks not followed by such a goal are reported, not counted.
- faceoff: type 'Faceoff'; the event team won, event_player_1 is the winner and opp_player_1 the loser.
- goal strength: from the shift on the ice (scoring team's skaters first), else as the tracker wrote it
  (JSON exports write '5v5' on every event, so the shift is preferred).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.builders.resolve import Resolved
from etl.issues import Issues
from etl.summary import assist_marks, linked_assists  # noqa: F401  (re-exported for the builders)

NET_X = 89.0  # goal lines at x = +-89 ft on a 200 x 85 rink centred at (0, 0)


def source_files(game_id: pd.Series, sources: dict[int, str]) -> pd.Series:
    """Each row's source file by its game id, looked up once per game (a season has ~1M event rows)."""
    codes, uniques = pd.factorize(game_id, use_na_sentinel=True)
    names = np.array([sources.get(int(g)) for g in uniques] + [None], dtype=object)  # code -1: no game
    return pd.Series(names[codes], index=game_id.index, dtype=object)


def fact_events(r: Resolved) -> pd.DataFrame:
    ev = r.events.copy(deep=False)
    ev["source_file"] = source_files(ev["game_id"], r.sources)
    return ev


def fact_event_players(r: Resolved) -> pd.DataFrame:
    """Event players with their role name ('event_player_1', 'opp_player_2', ...), formed once per distinct
    (side, number) pair rather than once per row."""
    ep = r.event_players.copy(deep=False)
    codes, numbers = pd.factorize(ep["role_number"], use_na_sentinel=False)
    pairs_event = np.repeat([False, True], len(numbers))  # every (side, number) pair: opp first, then event
    pairs_number = pd.Series(np.tile(np.asarray(numbers, dtype=object), 2), dtype=ep["role_number"].dtype)
    names = (np.where(pairs_event, "event_player_", "opp_player_") + pairs_number.astype(str)).to_numpy()
    is_event = (ep["side"] == "event").to_numpy(dtype=bool)
    ep["role"] = pd.Series(names[is_event * len(numbers) + codes], index=ep.index, dtype="str")
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
    sh["source_file"] = source_files(sh["game_id"], r.sources)
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


def fact_goals(r: Resolved, shifts_onice: pd.DataFrame | None, issues: Issues,
               assists: pd.DataFrame | None = None) -> pd.DataFrame:
    """``assists``: linked_assists(r.events, r.event_players) when the caller has it already."""
    ev = r.events.loc[r.events["event_type"] == "Goal"]
    goals = ev[["game_id", "event_id", "period", "clock_start_s", "team_id", "team_venue", "event_detail_2",
                "strength"]].rename(columns={"clock_start_s": "clock_s", "event_detail_2": "goal_type"})
    goals = goals.merge(_player(r.event_players, "event", 1, "scorer"), on=["game_id", "event_id"], how="left")
    goals = goals.drop(columns=["scorer_team_id"])
    la = linked_assists(r.events, r.event_players) if assists is None else assists
    orphans = la.loc[la["goal_event_id"].isna()]
    if len(orphans):
        issues.add_frame(pd.DataFrame({
            "game_id": orphans["game_id"], "file": orphans["game_id"].map(lambda g: r.sources.get(int(g))),
            "sheet": "events", "column": "play_detail",
            "category": "assist_without_goal", "severity": "info",
            "message": np.where(orphans["assist_kind"] == 1, "primary", "secondary") + " assist mark on event "
            + orphans["event_id"].astype(str) + " (jersey " + orphans["jersey"].astype(str)
            + ") is not followed by a goal of its team in the period",
            "action": "not counted as a tracked assist",
        }))
    la = la.loc[la["goal_event_id"].notna()]
    for kind, prefix in ((1, "primary_assist"), (2, "secondary_assist")):
        k = la.loc[la["assist_kind"] == kind]
        several = k.duplicated(["game_id", "goal_event_id"], keep="last")
        if several.any():
            d = k.loc[several]
            issues.add_frame(pd.DataFrame({
                "game_id": d["game_id"], "file": d["game_id"].map(lambda g: r.sources.get(int(g))),
                "sheet": "events", "column": "play_detail", "category": "several_assists_one_goal",
                "severity": "warning",
                "message": f"goal event " + d["goal_event_id"].astype(int).astype(str) + f" has more than one {prefix}"
                + " (jersey " + d["jersey"].astype(str) + " is not the last one)",
                "action": "fact_goals shows the last one; each marked player keeps the credit in player stats",
            }))
        k = k.drop_duplicates(["game_id", "goal_event_id"], keep="last")
        k = k[["game_id", "goal_event_id", "player_id", "jersey"]].rename(columns={
            "goal_event_id": "event_id", "player_id": f"{prefix}_player_id", "jersey": f"{prefix}_jersey"})
        goals = goals.merge(k.astype({"event_id": "Int64"}), on=["game_id", "event_id"], how="left")
    if shifts_onice is not None and len(shifts_onice):
        man = shifts_onice.drop_duplicates(["game_id", "event_id"])[["game_id", "event_id", "home_skaters",
                                                                     "away_skaters"]]
        goals = goals.merge(man, on=["game_id", "event_id"], how="left")
        home = goals["home_skaters"].astype("Int64").astype(str)
        away = goals["away_skaters"].astype("Int64").astype(str)
        from_shift = pd.Series(np.where(goals["team_venue"] == "home", home + "v" + away, away + "v" + home),
                               index=goals.index).where(goals["home_skaters"].notna())
        goals["strength"] = from_shift.fillna(goals["strength"])
        goals = goals.drop(columns=["home_skaters", "away_skaters"])
        g = shifts_onice.loc[shifts_onice["is_goalie"]][["game_id", "event_id", "team_venue", "player_id"]]
        g = g.rename(columns={"team_venue": "goalie_venue", "player_id": "goalie_player_id"})
        goals = goals.merge(g, on=["game_id", "event_id"], how="left")
        goals = goals.loc[goals["goalie_venue"].isna() | (goals["goalie_venue"] != goals["team_venue"])]
        goals = goals.drop_duplicates(["game_id", "event_id"]).drop(columns=["goalie_venue"])
    else:
        goals["goalie_player_id"] = None
    return goals


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
    failed = z["event_detail"].str.lower().str.endswith("failed")  # 'Zone_Entry_Failed', 'Zone_Entryfailed'
    z["success"] = (~failed) & z["success"].fillna(True).astype(bool)
    z = z.merge(_player(r.event_players, "event", 1, "p"), on=["game_id", "event_id"], how="left")
    return z.rename(columns={"p_player_id": "player_id", "p_jersey": "jersey"})


def fact_zone_entries(r: Resolved) -> pd.DataFrame:
    return _zone(r, "Zone_Entry", "entry_type")


def fact_zone_exits(r: Resolved) -> pd.DataFrame:
    return _zone(r, "Zone_Exit", "exit_type")
