"""The dashboard's columns of the event, shift and game-stat tables: names joined from the league workbook,
clocks as the dashboard reads them, percentages, per-60 rates, game score, rushes, micro stats and saves.

Each function takes the frame another builder made (today's columns, kept) and returns it with the added
columns; a column whose data the league does not have (xG, WAR, ratings from models) is added empty.
Percentages are 0-100 (``save_pct`` stays a 0-1 fraction, as before). Definitions: docs/stats.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.builders.plays import MICRO_COLUMNS, pct
from etl.builders.qa import PERIOD_SECONDS
from etl.builders.resolve import Resolved

KEY = ["game_id", "player_id"]
MODEL_PLAYER_COLUMNS = ["adjusted_rating", "performance_index", "player_rating", "rating_diff", "war", "xg_for",
                        "rush_xg", "odd_man_rushes"]
MODEL_GOALIE_COLUMNS = ["goalie_gar_total", "goalie_war"]
MODEL_TEAM_COLUMNS = ["avg_adjusted_rating", "gar_total", "war", "xg_for"]
RUSH_COLUMNS = ["rush_shots", "rush_goals", "rush_assists", "rush_points", "rush_involvement",
                "rush_off_shot_generated", "rush_off_goal_generated", "rush_off_success", "breakaway_goals"]


def _ids(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """Id columns as int64 (game, event: never empty) or Int64 (a shift id can be empty in a bad file)."""
    return df.astype({c: ("Int64" if c == "shift_id" else "int64") for c in cols})


def attach(df: pd.DataFrame, right: pd.DataFrame, on: list[str], rename: dict[str, str] | None = None
           ) -> pd.DataFrame:
    """``df`` with ``right``'s other columns looked up by ``on`` (a left join on a key unique in ``right``),
    added column by column: a merge would copy every column of a wide table once per join."""
    right = right.drop_duplicates(on)
    keys = pd.MultiIndex.from_frame(df[on]) if len(on) > 1 else pd.Index(df[on[0]])
    looked = right.set_index(on).reindex(keys)
    out = df.copy(deep=False)
    for col in looked.columns:
        out[(rename or {}).get(col, col)] = looked[col].to_numpy()
    return out


def elapsed_seconds(period: pd.Series, clock: pd.Series) -> pd.Series:
    """Seconds since the game started: (period - 1) full periods plus the time gone in this one."""
    return (period.astype("float64") - 1) * PERIOD_SECONDS + (PERIOD_SECONDS - clock.astype("float64"))


def _game_names(games: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    t = teams.set_index("team_id")["team_name"]
    g = games[["game_id", "season_id", "date", "game_type", "home_team_id", "away_team_id"]].copy()
    g["game_id"] = g["game_id"].astype("int64")
    g["home_team"] = g["home_team_id"].map(t)
    g["away_team"] = g["away_team_id"].map(t)
    return g


def event_danger(r: Resolved, boxes: pd.DataFrame) -> pd.DataFrame:
    """(game_id, event_id, danger) of Shot and Goal events whose puck location is on the rink."""
    from etl.builders.locations import place

    ev = r.events
    m = ev["event_type"].isin(["Shot", "Goal"]) & (ev["puck_x"].abs() <= 100) & (ev["puck_y"].abs() <= 42.5)
    e = ev.loc[m, ["game_id", "event_id", "puck_x", "puck_y"]].reset_index(drop=True)
    e["danger"] = place(e["puck_x"], e["puck_y"], boxes)["danger"]
    return _ids(e[["game_id", "event_id", "danger"]], "game_id", "event_id")


def fact_events(events: pd.DataFrame, r: Resolved, games: pd.DataFrame, teams: pd.DataFrame,
                players: pd.DataFrame, at_event: pd.DataFrame, danger: pd.DataFrame,
                rush: pd.DataFrame) -> pd.DataFrame:
    ev = _ids(events, "game_id", "event_id")
    ev = attach(ev, _game_names(games, teams).drop(columns=["date", "game_type"]), ["game_id"])
    ev["event_start_min"], ev["event_start_sec"] = ev["clock_start_s"] // 60, ev["clock_start_s"] % 60
    ev["event_end_min"], ev["event_end_sec"] = ev["clock_end_s"] // 60, ev["clock_end_s"] % 60
    ev["time_start_total_seconds"] = elapsed_seconds(ev["period"], ev["clock_start_s"])
    ev["event_team_zone"] = ev["zone"]
    ev["is_goal"] = ev["event_type"] == "Goal"
    ev["is_save"] = ev["event_type"] == "Save"
    ev["is_rebound"] = ev["event_type"] == "Rebound"
    on_rush = pd.concat([rush[["game_id", "event_id"]],
                         rush[["game_id", "entry_event_id"]].rename(columns={"entry_event_id": "event_id"})])
    on_rush = _ids(on_rush, "game_id", "event_id").drop_duplicates().assign(is_rush=True)
    ev = attach(ev, on_rush, ["game_id", "event_id"])
    ev["is_rush"] = ev["is_rush"].fillna(False).astype(bool)
    ev["linked_event_key"] = (ev["game_id"].astype(str) + "_" + ev["linked_event_id"].astype("Int64").astype(str)
                              ).where(ev["linked_event_id"].notna())
    ev["puck_x_start"], ev["puck_y_start"] = ev["puck_x"], ev["puck_y"]
    for key, col in (("play_key", "play_id"), ("sequence_key", "sequence_id")):
        ev[key] = (ev["game_id"].astype(str) + "_" + ev[col].astype("Int64").astype(str)).where(ev[col].notna())
    ev["running_video_time"] = None  # the JSON's video timing is not read: null
    ep = _ids(r.event_players, "game_id", "event_id").sort_values(["game_id", "event_id", "side", "role_number"])
    ep = ep.loc[ep["player_id"].notna()]
    key = pd.MultiIndex.from_frame(ev[["game_id", "event_id"]])
    for side, col in (("event", "event_player_ids"), ("opp", "opp_player_ids")):
        ev[col] = _joined_ids(ep.loc[ep["side"] == side]).reindex(key).to_numpy()
    first = _ids(r.event_players, "game_id", "event_id")
    first = first.loc[(first["side"] == "event") & (first["role_number"] == 1)].drop_duplicates(
        ["game_id", "event_id"])
    first = first[["game_id", "event_id", "jersey", "player_id", "play_detail_1", "play_detail_2"]].rename(
        columns={"jersey": "player_game_number", "player_id": "ep1_id", "play_detail_1": "play_detail1"})
    ev = attach(ev, first, ["game_id", "event_id"])
    ev = attach(ev, players[["player_id", "player_name"]].rename(columns={"player_id": "ep1_id"}), ["ep1_id"])
    ev["player_role"] = pd.Series("event_player_1", index=ev.index).where(ev["player_game_number"].notna())
    ev["player_team"] = np.where(ev["team_venue"] == "home", ev["home_team"],
                                 np.where(ev["team_venue"] == "away", ev["away_team"], None))
    ev = attach(ev, at_event, ["game_id", "event_id"])
    return attach(ev, danger, ["game_id", "event_id"], {"danger": "danger_level"})


def even_strength_goals(onice: pd.DataFrame, goals: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id) skater: plus_ev / minus_ev, goals for / against on the ice with equal skaters."""
    sk = onice.loc[~onice["is_goalie"].astype(bool) & onice["player_id"].notna()]
    g = goals[["game_id", "event_id", "team_venue"]].rename(columns={"team_venue": "goal_venue"})
    gl = _ids(sk, "game_id", "event_id").merge(_ids(g, "game_id", "event_id"), on=["game_id", "event_id"])
    gl = gl.loc[gl["home_skaters"] == gl["away_skaters"]]
    mine = gl["team_venue"] == gl["goal_venue"]
    out = pd.DataFrame({"plus_ev": gl.loc[mine].groupby(["game_id", "player_id"]).size(),
                        "minus_ev": gl.loc[~mine].groupby(["game_id", "player_id"]).size()}).fillna(0)
    out.index = out.index.set_names(KEY)
    return out.reset_index()


def _joined_ids(ep: pd.DataFrame) -> pd.Series:
    """Per (game_id, event_id): the player ids in role order joined by ',' (vectorised over role columns)."""
    if ep.empty:
        return pd.Series(dtype=object, index=pd.MultiIndex.from_arrays([[], []], names=["game_id", "event_id"]))
    ep = ep.assign(rank=ep.groupby(["game_id", "event_id"]).cumcount())
    wide = ep.pivot(index=["game_id", "event_id"], columns="rank", values="player_id")
    out = wide[0].astype(object)
    for c in wide.columns[1:]:
        nxt = wide[c]
        out = out.where(nxt.isna(), out + "," + nxt.astype(object))
    return out


def fact_event_players(ep: pd.DataFrame) -> pd.DataFrame:
    return ep.assign(player_role=ep["role"])


def fact_shifts(shifts: pd.DataFrame, games: pd.DataFrame, teams: pd.DataFrame, at_event: pd.DataFrame,
                shots: pd.DataFrame, goals: pd.DataFrame, faceoffs: pd.DataFrame, events: pd.DataFrame
                ) -> pd.DataFrame:
    """Shifts with names, elapsed clocks, order in the game and the home team's on-ice shot counts."""
    sh = _ids(shifts, "game_id", "shift_id")
    sh = attach(sh, _game_names(games, teams).drop(columns=["date", "game_type"]), ["game_id"])
    sh["shift_start_total_seconds"] = elapsed_seconds(sh["period"], sh["clock_start_s"])
    sh["shift_end_total_seconds"] = elapsed_seconds(sh["period"], sh["clock_end_s"])
    sh["shift_index"] = sh.groupby("game_id")["shift_id"].rank(method="first").astype("int64")
    sh["player_id"] = None
    s = _ids(shots, "game_id", "event_id").merge(at_event, on=["game_id", "event_id"])
    home = s["team_venue"] == "home"
    unblocked = ~s["is_blocked"].astype(bool)
    on_goal = s["is_on_goal"].astype(bool)
    fo = _ids(faceoffs, "game_id", "event_id").merge(_ids(events[["game_id", "event_id", "team_venue"]],
                                                          "game_id", "event_id"), on=["game_id", "event_id"])
    fo = fo.merge(at_event, on=["game_id", "event_id"])
    counts = pd.DataFrame({
        "cf": s.loc[home].groupby(["game_id", "shift_id"]).size(),
        "ca": s.loc[~home].groupby(["game_id", "shift_id"]).size(),
        "ff": s.loc[home & unblocked].groupby(["game_id", "shift_id"]).size(),
        "fa": s.loc[~home & unblocked].groupby(["game_id", "shift_id"]).size(),
        "sa": s.loc[~home & on_goal].groupby(["game_id", "shift_id"]).size(),
        "fow": fo.loc[fo["team_venue"] == "home"].groupby(["game_id", "shift_id"]).size(),
        "fo": fo.groupby(["game_id", "shift_id"]).size(),
    })
    sh = sh.merge(counts, left_on=["game_id", "shift_id"], right_index=True, how="left")
    for c in ("cf", "ca", "ff", "fa", "sa", "fow", "fo"):
        sh[c] = sh[c].fillna(0)
    sh["cf_pct"] = pct(sh["cf"], sh["cf"] + sh["ca"])
    sh["ff_pct"] = pct(sh["ff"], sh["ff"] + sh["fa"])
    sh["fo_pct"] = pct(sh["fow"], sh["fo"])
    return sh


def fact_shift_players(sp: pd.DataFrame, shifts: pd.DataFrame) -> pd.DataFrame:
    """Shift players with their logical shift: consecutive shift rows (same period) of the same jersey and
    side are one stint on the ice; logical_shift_number counts stints per player in the game from 1."""
    order = shifts[["game_id", "shift_id", "period"]].astype({"game_id": "int64", "shift_id": "Int64"})
    order = order.sort_values(["game_id", "shift_id"])
    order["ordinal"] = order.groupby("game_id").cumcount()
    s = _ids(sp, "game_id", "shift_id").merge(order, on=["game_id", "shift_id"], how="left")
    s["_pos"] = np.arange(len(s))
    who = s["jersey"].astype("Int64").astype(str).where(s["jersey"].notna(), "slot " + s["slot"].astype(str))
    s["_who"] = s["team_venue"].astype(str) + "#" + who
    s = s.sort_values(["game_id", "_who", "ordinal"])
    g = s.groupby(["game_id", "_who"])
    prev, prev_period = g["ordinal"].shift(), g["period"].shift()
    first = (prev.isna() | (s["ordinal"] != prev + 1) | (s["period"] != prev_period)).fillna(True).astype(bool)
    s["is_first_segment"] = first
    s["logical_shift_number"] = first.astype("int64").groupby([s["game_id"], s["_who"]]).cumsum()
    return s.sort_values("_pos").drop(columns=["_pos", "_who", "ordinal", "period"])


def _fill(df: pd.DataFrame, cols: list[str], keep: pd.Series) -> None:
    for c in cols:
        if c not in df.columns:
            df[c] = 0
        df[c] = df[c].fillna(0).where(keep)


def penalties(r: Resolved) -> pd.DataFrame:
    """Per (game_id, player_id): penalties taken (event_player_1 of a 'Penalty' event) and drawn
    (opp_player_1 of it)."""
    ep = r.event_players
    pen = r.events.loc[r.events["event_type"] == "Penalty", ["game_id", "event_id"]]
    p = ep.merge(pen, on=["game_id", "event_id"])
    p = p.loc[p["player_id"].notna() & (p["role_number"] == 1)]
    out = pd.DataFrame({
        "penalties_taken": p.loc[p["side"] == "event"].groupby(["game_id", "player_id"]).size(),
        "penalties_drawn": p.loc[p["side"] == "opp"].groupby(["game_id", "player_id"]).size(),
    }).fillna(0)
    out.index = out.index.set_names(KEY)
    return out.reset_index()


def game_score(g, a1, a2, sog, blk, pd_, pt, fow, fol, gf, ga) -> pd.Series:
    """Dom Luszczyszyn's game score (2016): 0.75 G + 0.7 A1 + 0.55 A2 + 0.075 SOG + 0.05 BLK + 0.15 PD
    - 0.15 PT + 0.01 FOW - 0.01 FOL + 0.15 GF - 0.15 GA (GF/GA: even-strength goals on the ice)."""
    return (0.75 * g + 0.7 * a1 + 0.55 * a2 + 0.075 * sog + 0.05 * blk + 0.15 * pd_ - 0.15 * pt
            + 0.01 * fow - 0.01 * fol + 0.15 * gf - 0.15 * ga)


def goalie_game_score(goals_against, saves) -> pd.Series:
    """Luszczyszyn's goalie game score: -0.75 GA + 0.1 SV."""
    return -0.75 * goals_against + 0.1 * saves


def player_game_stats(pgs: pd.DataFrame, roster: pd.DataFrame, games: pd.DataFrame, teams: pd.DataFrame,
                      players: pd.DataFrame, extras: list[pd.DataFrame], onice_goals: pd.DataFrame,
                      team_corsi: pd.DataFrame, goalie_lines: pd.DataFrame, has_hits: set[int]) -> pd.DataFrame:
    """``pgs`` (stats.player_game_stats) with the dashboard's columns. ``extras``: per (game_id, player_id)
    frames (micro stats, rush stats, penalties, hits); ``onice_goals``: plus_ev / minus_ev per player;
    ``team_corsi``: (game_id, team_venue, team_cf, team_ca); ``goalie_lines``: goalie saves / goals against."""
    df = _ids(pgs, "game_id").copy()
    for x in extras + [onice_goals]:
        df = attach(df, _ids(x, "game_id"), KEY)
    names = _game_names(games, teams)
    df = attach(df, names[["game_id", "season_id", "date", "game_type", "home_team", "away_team"]], ["game_id"])
    df = attach(df, players[["player_id", "player_name", "skill_rating"]], ["player_id"])
    t = teams.set_index("team_id")["team_name"]
    df["team_name"] = df["team_id"].map(t)
    df["opponent_team_name"] = np.where(df["team_venue"] == "home", df["away_team"],
                                        np.where(df["team_venue"] == "away", df["home_team"], None))
    pim = roster[["game_id", "player_id", "pim"]].astype({"game_id": "int64"}).drop_duplicates(KEY)
    df = attach(df, pim, KEY)
    df["player_game_id"] = df["game_id"].astype(str) + "_" + df["player_id"].astype(str)
    tracked = df["game_status"] != "untracked"
    shifts_ok = tracked & df["has_shifts"].fillna(False).astype(bool)
    _fill(df, MICRO_COLUMNS + RUSH_COLUMNS + ["penalties_taken", "penalties_drawn"], tracked)
    for c in ("pass_pct", "play_success_rate", "rush_off_success"):  # rates: null where nothing to divide
        df[c] = df[c].where(tracked)
    _fill(df, ["plus_ev", "minus_ev"], shifts_ok)
    df["hits"] = df["hits"].fillna(0).where(tracked & df["game_id"].isin(list(has_hits))) \
        if "hits" in df.columns else np.nan
    df["g"], df["a"], df["pts"] = df["goals"], df["assists"], df["points"]
    df["primary_assists"], df["secondary_assists"] = df["tracked_primary_assists"], df["tracked_secondary_assists"]
    df["sog"] = df["shots_on_goal"]
    df["shooting_pct"] = pct(df["tracked_goals"], df["shots_on_goal"])
    df["fo_wins"], df["fo_losses"] = df["faceoff_wins"], df["faceoff_losses"]
    df["fo_total"] = df["fo_wins"] + df["fo_losses"]
    df["fo_pct"] = pct(df["fo_wins"], df["fo_total"])
    df["zone_entries_successful"], df["zone_exits_successful"] = df["zone_entries"], df["zone_exits"]
    df["plus_minus_total"] = df["plus_minus"]
    df["cf_pct"] = pct(df["corsi_for"], df["corsi_for"] + df["corsi_against"])
    df["ff_pct"] = pct(df["fenwick_for"], df["fenwick_for"] + df["fenwick_against"])
    df = attach(df, team_corsi, ["game_id", "team_venue"])
    off_cf, off_ca = df["team_cf"] - df["corsi_for"], df["team_ca"] - df["corsi_against"]
    off_ff, off_fa = df["team_ff"] - df["fenwick_for"], df["team_fa"] - df["fenwick_against"]
    df["cf_pct_rel"] = df["cf_pct"] - pct(off_cf, off_cf + off_ca)
    df["ff_pct_rel"] = df["ff_pct"] - pct(off_ff, off_ff + off_fa)
    toi = df["toi_seconds"].where(df["toi_seconds"] > 0)
    df["goals_per_60"] = df["tracked_goals"] * 3600 / toi
    df["assists_per_60"] = df["tracked_assists"] * 3600 / toi
    df["points_per_60"] = df["tracked_points"] * 3600 / toi
    df["avg_shift"] = (df["toi_seconds"] / df["shift_count"]).where(df["shift_count"] > 0)
    skater = game_score(df["tracked_goals"], df["tracked_primary_assists"], df["tracked_secondary_assists"],
                        df["shots_on_goal"], df["blocks"], df["penalties_drawn"], df["penalties_taken"],
                        df["faceoff_wins"], df["faceoff_losses"], df["plus_ev"].fillna(0),
                        df["minus_ev"].fillna(0))
    df = attach(df, goalie_lines, KEY)
    goalie = goalie_game_score(df["g_goals_against"], df["g_saves"])
    df["game_score"] = goalie.where(df["position"] == "Goalie", skater).where(tracked)
    for c in MODEL_PLAYER_COLUMNS:
        df[c] = np.nan
    return df


def goalie_game_stats(ggs: pd.DataFrame, games: pd.DataFrame, teams: pd.DataFrame, players: pd.DataFrame,
                      save_types: pd.DataFrame, league_save_pct: float | None) -> pd.DataFrame:
    """``ggs`` (stats.goalie_game_stats) with names, saves by type and goals saved above average
    (``league_save_pct``: saves / shots against over the run's complete games)."""
    df = _ids(ggs, "game_id").merge(_ids(save_types, "game_id"), on=KEY, how="left")
    df = df.merge(_game_names(games, teams)[["game_id", "date"]], on="game_id", how="left")
    df = df.merge(players[["player_id", "player_name"]], on="player_id", how="left")
    df["team_name"] = df["team_id"].map(teams.set_index("team_id")["team_name"])
    tracked = df["game_status"] != "untracked"
    _fill(df, [c for c in save_types.columns if c.startswith("saves_")], tracked)
    lg = league_save_pct if league_save_pct is not None else np.nan
    df["goals_saved_above_avg"] = (df["shots_against"] * (1 - lg) - df["goals_against"]).where(tracked)
    for c in MODEL_GOALIE_COLUMNS:
        df[c] = np.nan
    return df


def team_game_stats(tgs: pd.DataFrame, pgs: pd.DataFrame, roster: pd.DataFrame, games: pd.DataFrame,
                    teams: pd.DataFrame, blocks: pd.DataFrame, shifts: pd.DataFrame) -> pd.DataFrame:
    """``tgs`` (stats.team_game_stats) with names, official assists/points, and team sums of player stats."""
    df = _ids(tgs, "game_id").merge(_game_names(games, teams)[["game_id", "season_id", "game_type"]],
                                    on="game_id", how="left")
    df["team_name"] = df["team_id"].map(teams.set_index("team_id")["team_name"])
    off = roster.astype({"game_id": "int64"}).groupby(["game_id", "team_id"]).agg(
        assists=("assists", "sum"), roster_goals=("goals", "sum")).reset_index()
    df = df.merge(off, on=["game_id", "team_id"], how="left")
    df["points"] = df["roster_goals"] + df["assists"]
    g = pgs.groupby(["game_id", "team_id"])
    p = pd.DataFrame({"avg_game_score": g["game_score"].mean(), "plus_minus_total": g["plus_minus"].sum(),
                      "hits": g["hits"].sum(min_count=1)}).reset_index()
    df = df.merge(p, on=["game_id", "team_id"], how="left")
    b = blocks.assign(blocking_venue=blocks["team_venue"].map({"home": "away", "away": "home"}))
    nb = b.groupby(["game_id", "blocking_venue"]).size().rename("blocks").reset_index().rename(
        columns={"blocking_venue": "team_venue"})
    df = df.merge(_ids(nb, "game_id"), on=["game_id", "team_venue"], how="left")
    tracked = df["game_status"] != "untracked"
    df["blocks"] = df["blocks"].fillna(0).where(tracked)
    df["sog"] = df["shots_on_goal"]
    df["shooting_pct"] = pct(df["tracked_goals"], df["shots_on_goal"])
    df["cf_pct"] = pct(df["corsi_for"], df["corsi_for"] + df["corsi_against"])
    toi = shifts.astype({"game_id": "int64"}).groupby("game_id")["duration_s"].sum().rename("toi_seconds")
    df = df.merge(toi, left_on="game_id", right_index=True, how="left")
    df["toi_seconds"] = df["toi_seconds"].where(df["has_shifts"].fillna(False).astype(bool))
    for c in MODEL_TEAM_COLUMNS:
        df[c] = np.nan
    return df
