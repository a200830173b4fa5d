"""Per-file summaries of canonical tracked frames: assist marks linked to goals, and per-jersey totals.

This is the model layer (canonical frames in, small frames out): ``canonical.TrackedGame.summary`` and the
builders both use it, so it imports neither (layering runs readers -> canonical -> builders, one way).
Definitions: docs/stats.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def assist_marks(events: pd.DataFrame, event_players: pd.DataFrame) -> pd.DataFrame:
    """Player rows whose play detail names an assist, with its kind (1 primary, 2 secondary)."""
    ep = event_players.loc[event_players["play_detail_1"].notna() | event_players["play_detail_2"].notna()]
    marks = ep["play_detail_1"].fillna("") + " " + ep["play_detail_2"].fillna("")
    kind = np.select([marks.str.contains("AssistPrimary", regex=False),
                      marks.str.contains("AssistSecondary", regex=False)], [1, 2], 0)
    cols = [c for c in ("game_id", "event_id", "player_id", "jersey", "team_id", "team_venue") if c in ep.columns]
    a = ep.loc[kind > 0, cols].copy()
    a["assist_kind"] = kind[kind > 0]
    return a.merge(events[["game_id", "event_id", "period"]], on=["game_id", "event_id"], how="left")


def linked_assists(events: pd.DataFrame, event_players: pd.DataFrame) -> pd.DataFrame:
    """Assist marks linked to the goal they set up: the next 'Goal' event of the same team in the same period
    (by event order). One row per (goal, kind, player); a mark not followed by such a goal has goal_event_id
    null. A player marked twice for the same goal is credited once."""
    a = assist_marks(events, event_players)
    goals = events.loc[events["event_type"] == "Goal", ["game_id", "event_id", "team_venue", "period"]]
    if a.empty:
        return a.assign(goal_event_id=pd.Series(dtype="Int64"))
    left = a.assign(order=a["event_id"].astype("int64"), gv=a["team_venue"].fillna("?")).sort_values("order")
    right = goals.rename(columns={"event_id": "goal_event_id", "period": "goal_period"})
    right = right.assign(order=right["goal_event_id"].astype("int64"), gv=right["team_venue"].fillna("?"))
    right = right.drop(columns=["team_venue"]).sort_values("order")
    m = pd.merge_asof(left, right, on="order", by=["game_id", "gv"], direction="forward")
    ok = m["goal_event_id"].notna() & (m["goal_period"] == m["period"])
    m["goal_event_id"] = m["goal_event_id"].where(ok)
    linked = m.loc[ok].drop_duplicates(["game_id", "goal_event_id", "assist_kind", "jersey", "team_venue"])
    return pd.concat([linked, m.loc[~ok]], ignore_index=True).drop(columns=["order", "gv", "goal_period"])



SUMMARY_STATS = ["goals", "primary_assists", "secondary_assists", "shots", "toi_seconds"]


def tracked_summary(events: pd.DataFrame, event_players: pd.DataFrame, shifts: pd.DataFrame,
                    shift_players: pd.DataFrame) -> pd.DataFrame:
    """Per (team_venue, jersey) of one file: goals, primary/secondary assists, shot attempts and TOI, with the
    same definitions as the game stats (docs/stats.md). Used to compare two files of the same game."""
    ep = event_players.dropna(subset=["jersey"])
    first = ep.loc[(ep["side"] == "event") & (ep["role_number"] == 1)].drop_duplicates("event_id")
    first = first.merge(events[["event_id", "event_type"]], on="event_id")
    key = ["team_venue", "jersey"]
    la = linked_assists(events, event_players)
    la = la.loc[la["goal_event_id"].notna()]
    dur = (shifts["clock_start_s"] - shifts["clock_end_s"]).clip(lower=0)
    sp = shift_players.drop_duplicates(["shift_id", "team_venue", "jersey"]).merge(
        shifts[["shift_id"]].assign(d=dur.to_numpy()), on="shift_id")
    parts = [
        first.loc[first["event_type"] == "Goal"].groupby(key).size().rename("goals"),
        la.loc[la["assist_kind"] == 1].groupby(key).size().rename("primary_assists"),
        la.loc[la["assist_kind"] == 2].groupby(key).size().rename("secondary_assists"),
        first.loc[first["event_type"] == "Shot"].groupby(key).size().rename("shots"),
        sp.groupby(key)["d"].sum().rename("toi_seconds"),
    ]
    out = pd.concat(parts, axis=1).fillna(0)
    for col in SUMMARY_STATS:
        if col not in out.columns:
            out[col] = 0.0
    return out[SUMMARY_STATS]
