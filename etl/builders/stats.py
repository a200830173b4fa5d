"""Game and season statistics per player, goalie and team. Definitions: docs/stats.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.builders.events import linked_assists, shot_flags
from etl.builders.resolve import Resolved

KEY = ["game_id", "player_id"]

TRACKED_EVENT_STATS = [
    "tracked_goals", "tracked_primary_assists", "tracked_secondary_assists", "tracked_assists", "tracked_points",
    "shots", "shots_on_goal", "shots_blocked", "shots_missed", "faceoff_wins", "faceoff_losses", "giveaways",
    "takeaways", "zone_entries", "zone_exits",
]
TRACKED_SHIFT_STATS = ["corsi_for", "corsi_against", "fenwick_for", "fenwick_against", "toi_seconds", "shift_count",
                       "plus_minus", "plus_minus_ev"]


GOALIE_STOP = "Goalie Stopped"  # shift stop types 'Home Goalie Stopped (after Away SOG)', ...


def event_shifts(events: pd.DataFrame, shifts: pd.DataFrame) -> pd.DataFrame:
    """The shift each event happened in: (game_id, event_id, shift_id) for events inside a shift's clock interval
    (same period, start >= event clock >= end).

    At a boundary (the clock where one shift ends and the next starts) an event belongs to the shift it ends:
    a goal, or a shot or save when the ending shift's stop type is a goalie stop (the stop type says a shot on
    goal ended it); any other event belongs to the shift that starts there (the faceoff after a stoppage).
    Found with two sorted as-of joins (the latest shift ending at or before the clock, the earliest starting
    at or after it), so it costs a sort, not events x shifts."""
    ev = events.loc[events["clock_start_s"].notna() & events["period"].notna(),
                    ["game_id", "event_id", "period", "clock_start_s", "event_type"]]
    sh = shifts.loc[shifts["period"].notna() & shifts["clock_start_s"].notna() & shifts["clock_end_s"].notna(),
                    ["game_id", "shift_id", "period", "clock_start_s", "clock_end_s", "stop_type"]]
    out_cols = ["game_id", "event_id", "shift_id"]
    if ev.empty or sh.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in out_cols})
    ev = ev.astype({"game_id": "int64", "period": "int64"}).assign(c=ev["clock_start_s"].astype("float64"))
    sh = sh.astype({"game_id": "int64", "period": "int64"}).rename(
        columns={"clock_start_s": "s_start", "clock_end_s": "s_end"})
    sh = sh.loc[sh["s_start"] > sh["s_end"]]  # a shift of no duration (start = end) holds no event
    by = ["game_id", "period"]
    ending = pd.merge_asof(ev.sort_values("c"), sh.sort_values("s_end"), left_on="c", right_on="s_end", by=by,
                           direction="backward")
    ending = ending.loc[ending["c"] <= ending["s_start"]]
    starting = pd.merge_asof(ev.sort_values("c"), sh[by + ["shift_id", "s_start", "s_end"]].sort_values("s_start"),
                             left_on="c", right_on="s_start", by=by, direction="forward")
    starting = starting.loc[starting["s_end"] <= starting["c"]]
    key = ["game_id", "event_id"]
    both = ending[key + ["event_type", "shift_id", "stop_type", "s_end"]].merge(
        starting[key + ["shift_id"]].rename(columns={"shift_id": "start_shift"}), on=key, how="outer")
    stop = both["stop_type"].fillna("").str.contains(GOALIE_STOP, regex=False)
    ends_it = (both["event_type"] == "Goal") | (both["event_type"].isin(["Shot", "Save"]) & stop)
    pick_end = both["shift_id"].notna() & (ends_it | both["start_shift"].isna())
    both["chosen"] = both["shift_id"].where(pick_end, both["start_shift"])
    out = both.loc[both["chosen"].notna(), key + ["chosen"]].rename(columns={"chosen": "shift_id"})
    return out.astype({"shift_id": "Int64"}).sort_values(key).reset_index(drop=True)


def on_ice(r: Resolved, shifts: pd.DataFrame, event_types: tuple[str, ...] = ("Shot", "Goal"),
           at_event: pd.DataFrame | None = None) -> pd.DataFrame:
    """Players on the ice at each event of the given types: the players of its shift (``event_shifts``).
    ``at_event``: event_shifts(r.events, shifts) when the caller has it already."""
    ev = r.events.loc[r.events["event_type"].isin(event_types), ["game_id", "event_id"]]
    at = event_shifts(r.events, shifts) if at_event is None else at_event
    m = ev.astype({"game_id": "int64", "event_id": "int64"}).merge(at, on=["game_id", "event_id"])
    if m.empty:
        return pd.DataFrame(columns=["game_id", "event_id", "shift_id", "team_venue", "player_id", "jersey",
                                     "is_goalie", "home_skaters", "away_skaters"])
    man = shifts[["game_id", "shift_id", "home_skaters", "away_skaters"]].astype({"game_id": "int64",
                                                                                  "shift_id": "Int64"})
    m = m.merge(man, on=["game_id", "shift_id"], how="left")
    sp = r.shift_players[["game_id", "shift_id", "team_venue", "slot", "player_id", "jersey"]].astype(
        {"game_id": "int64", "shift_id": "Int64"})
    out = m.merge(sp, on=["game_id", "shift_id"], how="inner")
    out["is_goalie"] = out["slot"] == "G"
    return out


def _count(df: pd.DataFrame, name: str, player_col: str = "player_id", weight: pd.Series | None = None) -> pd.Series:
    d = df.loc[df[player_col].notna()]
    if weight is None:
        s = d.groupby(["game_id", player_col]).size()
    else:
        s = weight.loc[d.index].groupby([d["game_id"], d[player_col]]).sum()
    s.index = s.index.set_names(KEY)
    return s.rename(name)


def tracked_player_stats(r: Resolved, shifts: pd.DataFrame, onice: pd.DataFrame, shots: pd.DataFrame,
                         goals: pd.DataFrame, faceoffs: pd.DataFrame, entries: pd.DataFrame,
                         exits: pd.DataFrame, assists: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tracked stats per (game_id, player_id) for players with a known player_id.

    ``assists``: linked_assists(r.events, r.event_players) when the caller has it already."""
    ev, ep = r.events, r.event_players
    parts = [
        _count(goals, "tracked_goals", "scorer_player_id"),
    ]
    a = linked_assists(r.events, r.event_players) if assists is None else assists
    a = a.loc[a["goal_event_id"].notna()]
    parts.append(_count(a.loc[a["assist_kind"] == 1], "tracked_primary_assists"))
    parts.append(_count(a.loc[a["assist_kind"] == 2], "tracked_secondary_assists"))
    parts.append(_count(shots, "shots", "shooter_player_id"))
    parts.append(_count(shots.loc[shots["is_on_goal"]], "shots_on_goal", "shooter_player_id"))
    parts.append(_count(shots.loc[shots["is_blocked"]], "shots_blocked", "shooter_player_id"))
    parts.append(_count(shots.loc[shots["is_missed"]], "shots_missed", "shooter_player_id"))
    parts.append(_count(faceoffs, "faceoff_wins", "winner_player_id"))
    parts.append(_count(faceoffs, "faceoff_losses", "loser_player_id"))
    first = ep.loc[(ep["side"] == "event") & (ep["role_number"] == 1), ["game_id", "event_id", "player_id"]]
    turn = ev[["game_id", "event_id", "event_detail"]].merge(first, on=["game_id", "event_id"])
    parts.append(_count(turn.loc[turn["event_detail"] == "Turnover_Giveaway"], "giveaways"))
    parts.append(_count(turn.loc[turn["event_detail"] == "Turnover_Takeaway"], "takeaways"))
    parts.append(_count(entries.loc[entries["success"]], "zone_entries"))
    parts.append(_count(exits.loc[exits["success"]], "zone_exits"))

    # on-ice stats (need shifts): corsi / fenwick for skaters, plus-minus
    sk = onice.loc[~onice["is_goalie"].astype(bool)]
    att = sk.merge(shots[["game_id", "event_id", "team_venue", "is_blocked"]].rename(
        columns={"team_venue": "shot_venue"}), on=["game_id", "event_id"])
    for_ = att["team_venue"] == att["shot_venue"]
    parts.append(_count(att.loc[for_], "corsi_for"))
    parts.append(_count(att.loc[~for_], "corsi_against"))
    parts.append(_count(att.loc[for_ & ~att["is_blocked"]], "fenwick_for"))
    parts.append(_count(att.loc[~for_ & ~att["is_blocked"]], "fenwick_against"))
    gl = sk.merge(goals[["game_id", "event_id", "team_venue"]].rename(columns={"team_venue": "goal_venue"}),
                  on=["game_id", "event_id"])
    sign = pd.Series(np.where(gl["team_venue"] == gl["goal_venue"], 1, -1), index=gl.index)
    parts.append(_count(gl, "plus_minus", weight=sign))
    even = gl["home_skaters"] == gl["away_skaters"]
    parts.append(_count(gl.loc[even], "plus_minus_ev", weight=sign.loc[even]))

    # time on ice and shift count (consecutive shift rows on the ice count as one shift)
    sp = r.shift_players.loc[r.shift_players["slot"].notna(), ["game_id", "shift_id", "player_id", "team_venue"]]
    sp = sp.merge(shifts[["game_id", "shift_id", "period", "duration_s"]], on=["game_id", "shift_id"])
    sp = sp.drop_duplicates(["game_id", "shift_id", "player_id"])
    parts.append(_count(sp, "toi_seconds", weight=sp["duration_s"].fillna(0)))
    order = shifts[["game_id", "shift_id", "period"]].sort_values(["game_id", "shift_id"]).copy()
    order["ordinal"] = order.groupby("game_id").cumcount()
    sp = sp.merge(order[["game_id", "shift_id", "ordinal"]], on=["game_id", "shift_id"])
    sp = sp.loc[sp["player_id"].notna()].sort_values(["game_id", "player_id", "ordinal"])
    prev = sp.groupby(["game_id", "player_id"])["ordinal"].shift()
    prev_period = sp.groupby(["game_id", "player_id"])["period"].shift()
    new_stint = prev.isna() | (sp["ordinal"] != prev + 1) | (sp["period"] != prev_period)
    parts.append(_count(sp.loc[new_stint], "shift_count"))

    out = pd.concat(parts, axis=1).fillna(0)
    for col in TRACKED_EVENT_STATS + TRACKED_SHIFT_STATS:
        if col not in out.columns:
            out[col] = 0
    out["tracked_assists"] = out["tracked_primary_assists"] + out["tracked_secondary_assists"]
    out["tracked_points"] = out["tracked_goals"] + out["tracked_assists"]
    return out.reset_index()


def player_game_stats(official: pd.DataFrame, tracked: pd.DataFrame, player_teams: pd.DataFrame,
                      status: pd.DataFrame) -> pd.DataFrame:
    """official: scoresheet rows; tracked: tracked_player_stats; player_teams: (game, player) -> team, venue,
    jersey for tracked players; status: game_id -> game_status, has_shifts."""
    base = official[["game_id", "player_id", "team_id", "team_venue", "jersey", "position", "goals", "assists"]]
    extra = player_teams.loc[~player_teams.set_index(KEY).index.isin(base.set_index(KEY).index)]
    extra = extra.assign(position=None, goals=np.nan, assists=np.nan)
    base = pd.concat([base, extra[base.columns]], ignore_index=True)
    base["points"] = base["goals"] + base["assists"]
    df = base.merge(tracked, on=KEY, how="left").merge(status, on="game_id", how="left")
    df["game_status"] = df["game_status"].fillna("untracked")
    tracked_game = df["game_status"] != "untracked"
    for col in TRACKED_EVENT_STATS:
        df[col] = df[col].fillna(0).where(tracked_game)
    with_shifts = df["has_shifts"].fillna(False).astype(bool)
    for col in TRACKED_SHIFT_STATS:
        df[col] = df[col].fillna(0).where(tracked_game & with_shifts)
    return df


def goalie_game_stats(official: pd.DataFrame, shots: pd.DataFrame, goals: pd.DataFrame, onice: pd.DataFrame,
                      status: pd.DataFrame, toi: pd.DataFrame, danger: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tracked shots against / saves / goals against per goalie; each on-goal attempt and goal is charged to the
    goalie on the ice (shifts), or to the team's scoresheet goalie when the game has no usable shifts.
    ``danger`` (game_id, event_id, danger): hd_shots_against / hd_saves count the 'high' ones, in games
    whose shots have locations (null elsewhere)."""
    gk = official.loc[official["position"] == "Goalie", ["game_id", "player_id", "team_id", "team_venue",
                                                         "goals_against"]]
    gk = gk.rename(columns={"goals_against": "official_goals_against"})
    primary = gk.drop_duplicates(["game_id", "team_venue"])[["game_id", "team_venue", "player_id"]]
    against = pd.concat([
        shots.loc[shots["result"] == "saved", ["game_id", "event_id", "team_venue"]].assign(save=1, goal=0),
        goals[["game_id", "event_id", "team_venue"]].assign(save=0, goal=1),
    ], ignore_index=True)
    against["def_venue"] = against["team_venue"].map({"home": "away", "away": "home"})
    in_net = onice.loc[onice["is_goalie"].astype(bool), ["game_id", "event_id", "team_venue", "player_id"]]
    against = against.merge(in_net.rename(columns={"team_venue": "def_venue", "player_id": "net_player"}),
                            on=["game_id", "event_id", "def_venue"], how="left")
    against = against.merge(primary.rename(columns={"team_venue": "def_venue", "player_id": "roster_goalie"}),
                            on=["game_id", "def_venue"], how="left")
    against["player_id"] = against["net_player"].fillna(against["roster_goalie"])
    located: set[int] = set()
    if danger is not None and len(danger):
        against = against.astype({"game_id": "int64", "event_id": "int64"}).merge(
            danger, on=["game_id", "event_id"], how="left")
        located = set(danger["game_id"].astype("int64"))
        high = (against["danger"] == "high").astype("int64")
        against = against.assign(hd=high, hd_save=high * against["save"])
    else:
        against = against.assign(hd=0, hd_save=0)
    agg = against.dropna(subset=["player_id"]).groupby(KEY)[["save", "goal", "hd", "hd_save"]].sum()
    agg = agg.rename(columns={"save": "saves", "goal": "goals_against", "hd": "hd_shots_against",
                              "hd_save": "hd_saves"}).reset_index()
    df = gk.merge(agg, on=KEY, how="outer").merge(status, on="game_id", how="left")
    df = df.merge(toi, on=KEY, how="left")
    df["game_status"] = df["game_status"].fillna("untracked")
    tracked_game = df["game_status"] != "untracked"
    df["saves"] = df["saves"].fillna(0).where(tracked_game)
    df["goals_against"] = df["goals_against"].fillna(0).where(tracked_game)
    df["shots_against"] = df["saves"] + df["goals_against"]
    with_xy = tracked_game & df["game_id"].astype("int64").isin(list(located))
    for col in ("hd_shots_against", "hd_saves"):
        df[col] = df[col].fillna(0).where(with_xy)
    df["save_pct"] = (df["saves"] / df["shots_against"]).where(df["shots_against"] > 0)
    df = df.loc[df["team_id"].notna() | tracked_game]
    return df


def team_game_stats(games: pd.DataFrame, shots: pd.DataFrame, goals: pd.DataFrame, faceoffs: pd.DataFrame,
                    events: pd.DataFrame, entries: pd.DataFrame, exits: pd.DataFrame,
                    status: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for venue, other in (("home", "away"), ("away", "home")):
        rows.append(pd.DataFrame({
            "game_id": games["game_id"], "team_id": games[f"{venue}_team_id"],
            "opponent_team_id": games[f"{other}_team_id"], "team_venue": venue,
            "goals": games[f"official_{venue}_goals"], "goals_against": games[f"official_{other}_goals"],
        }))
    t = pd.concat(rows, ignore_index=True)
    t["result"] = np.select([t["goals"] > t["goals_against"], t["goals"] < t["goals_against"],
                             t["goals"].notna()], ["W", "L", "T"], None)

    def by_venue(df: pd.DataFrame, name: str, venue_col: str = "team_venue") -> pd.Series:
        return df.groupby(["game_id", venue_col]).size().rename(name).rename_axis(["game_id", "team_venue"])

    first_ev = events[["game_id", "event_id", "team_venue", "event_detail"]]
    parts = [
        by_venue(goals, "tracked_goals"),
        by_venue(shots, "shots"),  # attempts; renamed below
        by_venue(shots.loc[shots["is_on_goal"]], "shots_on_goal"),
        by_venue(shots.loc[~shots["is_blocked"]], "fenwick_for"),
        by_venue(first_ev.loc[first_ev["event_detail"] == "Turnover_Giveaway"], "giveaways"),
        by_venue(first_ev.loc[first_ev["event_detail"] == "Turnover_Takeaway"], "takeaways"),
        by_venue(entries.loc[entries["success"]].merge(events[["game_id", "event_id", "team_venue"]],
                                                      on=["game_id", "event_id"]), "zone_entries"),
        by_venue(exits.loc[exits["success"]].merge(events[["game_id", "event_id", "team_venue"]],
                                                  on=["game_id", "event_id"]), "zone_exits"),
        by_venue(faceoffs.merge(events[["game_id", "event_id", "team_venue"]], on=["game_id", "event_id"]),
                 "faceoff_wins"),
    ]
    tr = pd.concat(parts, axis=1).fillna(0).reset_index()
    tr["corsi_for"] = tr["shots"]
    opp = tr.assign(team_venue=tr["team_venue"].map({"home": "away", "away": "home"}))[
        ["game_id", "team_venue", "tracked_goals", "corsi_for", "fenwick_for", "faceoff_wins"]].rename(
        columns={"tracked_goals": "tracked_goals_against", "corsi_for": "corsi_against",
                 "fenwick_for": "fenwick_against", "faceoff_wins": "faceoff_losses"})
    tr = tr.merge(opp, on=["game_id", "team_venue"], how="outer").fillna(0)
    tr["game_id"] = tr["game_id"].astype("int64")
    t = t.merge(tr, on=["game_id", "team_venue"], how="left").merge(status, on="game_id", how="left")
    t["game_status"] = t["game_status"].fillna("untracked")
    tracked_game = t["game_status"] != "untracked"
    for col in ["tracked_goals", "tracked_goals_against", "shots", "shots_on_goal", "corsi_for", "corsi_against",
                "fenwick_for", "fenwick_against", "faceoff_wins", "faceoff_losses", "giveaways", "takeaways",
                "zone_entries", "zone_exits"]:
        t[col] = t[col].fillna(0).where(tracked_game)
    return t.loc[t["team_id"].notna()]


def player_season_stats(pgs: pd.DataFrame, seasons: pd.Series) -> pd.DataFrame:
    """Official totals over every game; tracked totals over complete games only."""
    df = pgs.assign(season_id=pgs["game_id"].map(seasons))
    df = df.loc[df["season_id"].notna()]
    official = df.groupby(["season_id", "player_id"]).agg(
        games_played=("game_id", "nunique"), goals=("goals", "sum"), assists=("assists", "sum"))
    official["points"] = official["goals"] + official["assists"]
    complete = df.loc[df["game_status"] == "complete"]
    cols = TRACKED_EVENT_STATS + TRACKED_SHIFT_STATS
    tracked = complete.groupby(["season_id", "player_id"])[cols].sum(min_count=1)
    tracked["tracked_games"] = complete.groupby(["season_id", "player_id"])["game_id"].nunique()
    out = official.join(tracked, how="left").reset_index()
    out["tracked_games"] = out["tracked_games"].fillna(0)
    return out


def goalie_season_stats(ggs: pd.DataFrame, seasons: pd.Series) -> pd.DataFrame:
    df = ggs.assign(season_id=ggs["game_id"].map(seasons))
    df = df.loc[df["season_id"].notna()]
    official = df.groupby(["season_id", "player_id"]).agg(
        games_played=("game_id", "nunique"), official_goals_against=("official_goals_against", "sum"))
    complete = df.loc[df["game_status"] == "complete"]
    tracked = complete.groupby(["season_id", "player_id"])[["shots_against", "saves", "goals_against"]].sum()
    tracked["tracked_games"] = complete.groupby(["season_id", "player_id"])["game_id"].nunique()
    out = official.join(tracked, how="left").reset_index()
    out["tracked_games"] = out["tracked_games"].fillna(0)
    out["save_pct"] = (out["saves"] / out["shots_against"]).where(out["shots_against"] > 0)
    return out


def team_season_stats(tgs: pd.DataFrame, seasons: pd.Series) -> pd.DataFrame:
    df = tgs.assign(season_id=tgs["game_id"].map(seasons), wins=(tgs["result"] == "W").astype("int64"),
                    losses=(tgs["result"] == "L").astype("int64"), ties=(tgs["result"] == "T").astype("int64"))
    df = df.loc[df["season_id"].notna()]
    official = df.groupby(["season_id", "team_id"]).agg(
        games_played=("game_id", "nunique"), wins=("wins", "sum"), losses=("losses", "sum"), ties=("ties", "sum"),
        goals_for=("goals", "sum"), goals_against=("goals_against", "sum"))
    complete = df.loc[df["game_status"] == "complete"]
    cols = ["shots", "shots_on_goal", "corsi_for", "corsi_against", "fenwick_for", "fenwick_against",
            "faceoff_wins", "faceoff_losses"]
    tracked = complete.groupby(["season_id", "team_id"])[cols].sum()
    tracked["tracked_games"] = complete.groupby(["season_id", "team_id"])["game_id"].nunique()
    out = official.join(tracked, how="left").reset_index()
    out["tracked_games"] = out["tracked_games"].fillna(0)
    return out


__all__ = ["event_shifts", "on_ice", "tracked_player_stats", "player_game_stats", "goalie_game_stats", "team_game_stats",
           "player_season_stats", "goalie_season_stats", "team_season_stats", "shot_flags"]
