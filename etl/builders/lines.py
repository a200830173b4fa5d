"""Who played with and against whom, from shifts: line combinations, WOWY (with or without you) pairs and
quality of competition. Every figure is over shift rows: a shift's duration and the shot attempts and goals
of the events inside it (stats.event_shifts). Definitions: docs/stats.md ("Lines, WOWY, competition").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.builders.plays import pct
from etl.builders.resolve import Resolved

SHIFT_KEY = ["game_id", "shift_id"]
OTHER = {"home": "away", "away": "home"}


def shift_events(at_event: pd.DataFrame, shots: pd.DataFrame, goals: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, shift_id, venue): shot attempts (cf) and goals (gf) of that team in the shift."""
    a = shots[["game_id", "event_id", "team_venue"]].assign(cf=1, gf=0)
    g = goals[["game_id", "event_id", "team_venue"]].assign(cf=0, gf=1)
    e = pd.concat([a, g], ignore_index=True).astype({"game_id": "int64", "event_id": "int64"})
    e = e.merge(at_event, on=["game_id", "event_id"])
    out = e.groupby(SHIFT_KEY + ["team_venue"])[["cf", "gf"]].sum().reset_index()
    return out.rename(columns={"team_venue": "venue"})


def skaters_on_ice(r: Resolved, shifts: pd.DataFrame, at_event: pd.DataFrame, shots: pd.DataFrame,
                   goals: pd.DataFrame) -> pd.DataFrame:
    """One row per skater (known player, not the goalie) per shift, with the shift's duration and the
    attempts/goals for (cf, gf) and against (ca, ga) the skater's team in it."""
    sp = r.shift_players.loc[(r.shift_players["slot"] != "G") & r.shift_players["player_id"].notna(),
                             ["game_id", "shift_id", "team_venue", "slot", "player_id"]]
    sp = sp.astype({"game_id": "int64", "shift_id": "Int64"}).drop_duplicates(SHIFT_KEY + ["player_id"])
    sp = sp.rename(columns={"team_venue": "venue"})
    dur = shifts[["game_id", "shift_id", "duration_s"]].astype({"game_id": "int64", "shift_id": "Int64"})
    sp = sp.merge(dur, on=SHIFT_KEY, how="left")
    sp["duration_s"] = sp["duration_s"].fillna(0.0)
    se = shift_events(at_event, shots, goals)
    sp = sp.merge(se, on=SHIFT_KEY + ["venue"], how="left")
    against = se.assign(venue=se["venue"].map(OTHER)).rename(columns={"cf": "ca", "gf": "ga"})
    sp = sp.merge(against, on=SHIFT_KEY + ["venue"], how="left")
    for c in ("cf", "gf", "ca", "ga"):
        sp[c] = sp[c].fillna(0).astype("int64")
    return sp


def _game_teams(games: pd.DataFrame) -> pd.DataFrame:
    return games[["game_id", "season_id", "home_team_id", "away_team_id"]].astype({"game_id": "int64"})


def fact_line_combos(onice: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, venue, combo_type, forward_combo): the forwards (F1-F3) or defence pair (D1-D2) on the
    ice together, as their player ids sorted and joined by '-', with their shared time and results."""
    parts = []
    for combo_type, slots, size in (("forwards", ("F1", "F2", "F3"), 3), ("defense", ("D1", "D2"), 2)):
        s = onice.loc[onice["slot"].isin(slots)].sort_values("player_id")
        g = s.groupby(SHIFT_KEY + ["venue"])
        combo = g["player_id"].agg("-".join).rename("forward_combo")
        n = g.size().rename("n")
        first = g[["duration_s", "cf", "ca", "gf", "ga"]].first()
        c = pd.concat([combo, n, first], axis=1).reset_index()
        c = c.loc[c["n"] == size].assign(combo_type=combo_type)
        parts.append(c)
    c = pd.concat(parts, ignore_index=True)
    out = c.groupby(["game_id", "venue", "combo_type", "forward_combo"], as_index=False).agg(
        toi_together=("duration_s", "sum"), shifts=("shift_id", "nunique"), corsi_for=("cf", "sum"),
        corsi_against=("ca", "sum"), goals_for=("gf", "sum"), goals_against=("ga", "sum"))
    out["cf_pct"] = pct(out["corsi_for"], out["corsi_for"] + out["corsi_against"])
    out = out.merge(_game_teams(games), on="game_id", how="left")
    out["team_id"] = np.where(out["venue"] == "home", out["home_team_id"], out["away_team_id"])
    return out


def fact_wowy(onice: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_1_id, player_2_id) teammates (both orders): time and Corsi share with both on the
    ice (together) and with player 1 on the ice without player 2 (apart); delta = together - apart."""
    cols = SHIFT_KEY + ["venue", "player_id", "duration_s", "cf", "ca"]
    a = onice[cols]
    pairs = a.merge(a[SHIFT_KEY + ["venue", "player_id"]], on=SHIFT_KEY + ["venue"], suffixes=("_1", "_2"))
    pairs = pairs.loc[pairs["player_id_1"] != pairs["player_id_2"]]
    together = pairs.groupby(["game_id", "venue", "player_id_1", "player_id_2"], as_index=False).agg(
        toi_together=("duration_s", "sum"), cf_together=("cf", "sum"), ca_together=("ca", "sum"))
    alone = a.groupby(["game_id", "player_id"], as_index=False).agg(
        toi=("duration_s", "sum"), cf=("cf", "sum"), ca=("ca", "sum")).rename(columns={"player_id": "player_id_1"})
    w = together.merge(alone, on=["game_id", "player_id_1"], how="left")
    w["toi_apart"] = w["toi"] - w["toi_together"]
    w["cf_apart"], w["ca_apart"] = w["cf"] - w["cf_together"], w["ca"] - w["ca_together"]
    w["cf_pct_together"] = pct(w["cf_together"], w["cf_together"] + w["ca_together"])
    w["cf_pct_apart"] = pct(w["cf_apart"], w["cf_apart"] + w["ca_apart"])
    w["cf_pct_delta"] = w["cf_pct_together"] - w["cf_pct_apart"]
    w = w.rename(columns={"player_id_1": "player_1_id", "player_id_2": "player_2_id"})
    return w.merge(_game_teams(games), on="game_id", how="left")


def fact_player_qoc_summary(onice: pd.DataFrame, players: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id): the mean skill rating (league workbook) of the opposing skaters and of the
    teammates (without the player) on the ice, weighted by shift duration; rating_diff = own - opponents'."""
    rated = onice.merge(players[["player_id", "skill_rating"]], on="player_id", how="left")
    side = rated.groupby(SHIFT_KEY + ["venue"]).agg(r_sum=("skill_rating", "sum"), r_n=("skill_rating", "count"))
    side = side.reset_index()
    me = rated.merge(side, on=SHIFT_KEY + ["venue"], how="left")
    own_n = me["r_n"] - me["skill_rating"].notna()
    me["own"] = ((me["r_sum"] - me["skill_rating"].fillna(0)) / own_n).where(own_n > 0)
    opp = side.assign(venue=side["venue"].map(OTHER)).rename(columns={"r_sum": "o_sum", "r_n": "o_n"})
    me = me.merge(opp, on=SHIFT_KEY + ["venue"], how="left")
    me["opp"] = (me["o_sum"] / me["o_n"]).where(me["o_n"] > 0)
    w = me["duration_s"].where(me["duration_s"] > 0, 0.0)
    me = me.assign(w_own=w.where(me["own"].notna(), 0.0), w_opp=w.where(me["opp"].notna(), 0.0))
    me = me.assign(own_x=me["own"].fillna(0) * me["w_own"], opp_x=me["opp"].fillna(0) * me["w_opp"])
    out = me.groupby(["game_id", "player_id"], as_index=False).agg(
        team_venue=("venue", "first"), shifts_tracked=("shift_id", "nunique"), toi_seconds=("duration_s", "sum"),
        own_x=("own_x", "sum"), w_own=("w_own", "sum"), opp_x=("opp_x", "sum"), w_opp=("w_opp", "sum"))
    out["avg_own_rating"] = (out["own_x"] / out["w_own"]).where(out["w_own"] > 0)
    out["avg_opp_rating"] = (out["opp_x"] / out["w_opp"]).where(out["w_opp"] > 0)
    out["rating_diff"] = out["avg_own_rating"] - out["avg_opp_rating"]
    return out
