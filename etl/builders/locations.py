"""Where things happened on the ice: shot locations with the league's danger zones, and puck/player paths.

Coordinates are feet from centre ice (x along the rink, -100..100; y across, -42.5..42.5), as the 25.0 JSON
export writes them; workbooks and JSON 23.8 carry none, so these tables hold the JSON 25.0 games only.
The danger zones are the league's own boxes (``dim_rinkcoordzones``, finer, then ``dim_rinkboxcoord``) in
the league workbook, drawn for the attacking half: a shot at x < 0 (at the other net) is turned 180 degrees
(x, y) -> (-x, -y) before it is placed. Definitions: docs/stats.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.builders.resolve import Resolved

WIDE_POINTS = 10  # puck points spread into columns by fact_puck_xy_wide (all points are in fact_puck_xy_long)


def rink_boxes(sheets: list[pd.DataFrame]) -> pd.DataFrame:
    """The boxes of the given workbook sheets (finest first): box_id, x_min, x_max, y_min, y_max, danger."""
    parts = []
    for rank, df in enumerate(sheets):
        if df is None or df.empty or not {"box_id", "x_min", "x_max", "y_min", "y_max", "danger"} <= set(df.columns):
            continue
        b = pd.DataFrame({
            "box_id": df["box_id"].astype("str"), "danger": df["danger"].astype("str").str.lower(),
            **{c: pd.to_numeric(df[c], errors="coerce") for c in ("x_min", "x_max", "y_min", "y_max")},
        }).assign(rank=rank)
        parts.append(b.loc[df["box_id"].notna() & b[["x_min", "x_max", "y_min", "y_max"]].notna().all(axis=1)])
    cols = ["box_id", "danger", "x_min", "x_max", "y_min", "y_max", "rank"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def place(x: pd.Series, y: pd.Series, boxes: pd.DataFrame) -> pd.DataFrame:
    """Box and danger of each point, attacking half (x < 0 turned 180 degrees); the first (finest) box that
    holds the point, edges included. One vectorised comparison of points x boxes (a few hundred boxes)."""
    flip = np.where(x.to_numpy(dtype="float64") < 0, -1.0, 1.0)
    ax, ay = x.to_numpy(dtype="float64") * flip, y.to_numpy(dtype="float64") * flip
    out = pd.DataFrame({"box_id": pd.Series(None, index=x.index, dtype=object),
                        "danger": pd.Series(None, index=x.index, dtype=object)})
    if boxes.empty or len(x) == 0:
        return out
    inside = ((boxes["x_min"].to_numpy() <= ax[:, None]) & (ax[:, None] <= boxes["x_max"].to_numpy())
              & (boxes["y_min"].to_numpy() <= ay[:, None]) & (ay[:, None] <= boxes["y_max"].to_numpy()))
    found = inside.any(axis=1)
    first = inside.argmax(axis=1)
    out.loc[found, "box_id"] = boxes["box_id"].to_numpy()[first[found]]
    out.loc[found, "danger"] = boxes["danger"].to_numpy()[first[found]]
    return out


def fact_shot_xy(shots: pd.DataFrame, boxes: pd.DataFrame) -> pd.DataFrame:
    """One row per shot attempt with a location (fact_shots x/y): its box and danger zone."""
    s = shots.loc[shots["x"].notna() & shots["y"].notna()].reset_index(drop=True)
    where = place(s["x"], s["y"], boxes)
    return pd.DataFrame({
        "game_id": s["game_id"], "event_id": s["event_id"],
        "shot_id": s["game_id"].astype("int64").astype(str) + "_" + s["event_id"].astype("int64").astype(str),
        "player_id": s["shooter_player_id"], "team_id": s["team_id"], "team_venue": s["team_venue"],
        "period": s["period"], "shot_x": s["x"], "shot_y": s["y"], "distance_ft": s["distance_ft"],
        "angle_deg": s["angle_deg"], "box_id": where["box_id"], "danger_zone": where["danger"],
        "result": s["result"], "is_goal": s["is_goal"],
    })


def shot_danger(shots: pd.DataFrame, boxes: pd.DataFrame) -> pd.DataFrame:
    """(game_id, event_id, danger) of every shot attempt with a location."""
    xy = fact_shot_xy(shots, boxes)
    return xy[["game_id", "event_id", "danger_zone"]].rename(columns={"danger_zone": "danger"})


def _points(r: Resolved, subject: str) -> pd.DataFrame:
    xy = r.xy
    return xy.loc[(xy["subject"] == subject) & xy["x"].notna() & xy["y"].notna()]


def fact_puck_xy_long(r: Resolved) -> pd.DataFrame:
    p = _points(r, "puck")
    return p[["game_id", "event_id", "point_number", "x", "y"]].drop_duplicates(
        ["game_id", "event_id", "point_number"]).reset_index(drop=True)


def fact_puck_xy_wide(r: Resolved) -> pd.DataFrame:
    """One row per event with a puck path: the event's type, detail and period, and the first WIDE_POINTS
    points as columns x_1, y_1, ... (null where the path is shorter)."""
    p = fact_puck_xy_long(r)
    ev = r.events[["game_id", "event_id", "period", "event_type", "event_detail"]]
    keys = p[["game_id", "event_id"]].drop_duplicates()
    out = keys.merge(ev, on=["game_id", "event_id"], how="left")
    out = out.merge(p.groupby(["game_id", "event_id"]).size().rename("point_count").reset_index(),
                    on=["game_id", "event_id"], how="left")
    first = p.loc[p["point_number"] <= WIDE_POINTS]
    wide = first.pivot_table(index=["game_id", "event_id"], columns="point_number", values=["x", "y"],
                             aggfunc="first")
    for n in range(1, WIDE_POINTS + 1):
        for axis in ("x", "y"):
            col = wide[(axis, n)] if (axis, n) in wide.columns else pd.Series(dtype="float64")
            idx = pd.MultiIndex.from_frame(out[["game_id", "event_id"]])
            out[f"{axis}_{n}"] = col.reindex(idx).to_numpy()
    return out


def fact_player_xy_long(r: Resolved, players: pd.DataFrame) -> pd.DataFrame:
    """One row per point of a player's path in an event, with the player (resolved from the event_players
    row the path belongs to) and name."""
    p = _points(r, "player")
    ep = r.event_players[["game_id", "event_id", "seq", "player_id", "jersey", "team_venue", "side",
                          "role_number"]]
    out = p.merge(ep, on=["game_id", "event_id", "seq"], how="left")
    out = out.merge(players[["player_id", "player_name"]], on="player_id", how="left")
    out["player_role"] = np.where(out["side"] == "event", "event_player_", "opp_player_") + \
        out["role_number"].astype("Int64").astype(str)
    out["player_role"] = out["player_role"].where(out["role_number"].notna())
    return out.drop_duplicates(["game_id", "event_id", "seq", "point_number"]).reset_index(drop=True)
