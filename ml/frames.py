"""Training frames from warehouse tables.

Inputs use the dashboard contract's column names (/work/shared/contracts/dashboard-reads.tsv): for
dim_schedule and fact_gameroster these are the league workbook's own sheet columns, so the same functions read
the warehouse tables in the database and the workbook sheets. Tracked shots come from the ETL's fact_shots and
fact_events; their column mapping lives in `shots_frame` only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REGULAR = "Regular"
PERIODS = (1, 2, 3)


class DataError(ValueError):
    """A warehouse frame lacks what a model needs; the message names the table and columns."""


def _require(df: pd.DataFrame, table: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"table {table}: missing columns {missing} (the dashboard contract names them)")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def _text(s: pd.Series) -> pd.Series:
    """Ids as text: 18969.0 (a number from a workbook cell) becomes '18969'."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        text = str(v).strip()
        return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else (text or None)
    return s.map(one)


def games_frame(schedule: pd.DataFrame) -> pd.DataFrame:
    """One row per game with official goals (played games only), sorted by date.

    Columns: game_id, season_id, date, game_type, home_team_id, away_team_id, home_goals, away_goals,
    home_p1..p3, away_p1..p3 (NaN where the scoresheet has no per-period goals), period_s, played (bool).
    """
    _require(schedule, "dim_schedule", ["game_id", "season_id", "date", "game_type", "home_team_id",
                                        "away_team_id", "home_total_goals", "away_total_goals"])
    out = pd.DataFrame({
        "game_id": _text(schedule["game_id"]),
        "season_id": _text(schedule["season_id"]),
        "date": pd.to_datetime(schedule["date"], errors="coerce"),
        "game_type": schedule["game_type"].astype("string").fillna(REGULAR),
        "home_team_id": _text(schedule["home_team_id"]),
        "away_team_id": _text(schedule["away_team_id"]),
        "home_goals": _num(schedule["home_total_goals"]),
        "away_goals": _num(schedule["away_total_goals"]),
    })
    for side in ("home", "away"):
        for p in PERIODS:
            col = f"{side}_team_period{p}_goals"
            out[f"{side}_p{p}"] = _num(schedule[col]) if col in schedule else np.nan
    out["period_s"] = (pd.to_timedelta(schedule["period_length"].astype("string"), errors="coerce").dt.total_seconds()
                       if "period_length" in schedule else np.nan)
    out = out.dropna(subset=["game_id", "date", "home_team_id", "away_team_id"])
    out["played"] = out["home_goals"].notna() & out["away_goals"].notna()
    return out.sort_values(["date", "game_id"], kind="stable").reset_index(drop=True)


def outcome_codes(games: pd.DataFrame) -> np.ndarray:
    """0 home win, 1 tie, 2 away win (final official goals, overtime included)."""
    diff = games["home_goals"].to_numpy() - games["away_goals"].to_numpy()
    return np.where(diff > 0, 0, np.where(diff == 0, 1, 2))


def roster_frame(roster: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Skater lines of the official scoresheet with the game's date and season (goalies left out).

    Columns: game_id, player_id, player_name, team_id, position, goals, assists, points, pim, date, season_id.
    """
    _require(roster, "fact_gameroster", ["game_id", "player_id", "team_id", "player_position", "goals", "assist"])
    out = pd.DataFrame({
        "game_id": _text(roster["game_id"]),
        "player_id": _text(roster["player_id"]),
        "player_name": roster["player_full_name"].astype("string") if "player_full_name" in roster else pd.NA,
        "team_id": _text(roster["team_id"]),
        "position": roster["player_position"].astype("string").fillna("Unknown"),
        "goals": _num(roster["goals"]).fillna(0),
        "assists": _num(roster["assist"]).fillna(0),
        "pim": _num(roster["pim"]).fillna(0) if "pim" in roster else 0.0,
    })
    out["points"] = out["goals"] + out["assists"]
    out = out.dropna(subset=["game_id", "player_id"])
    out = out[out["position"] != "Goalie"]
    meta = games[["game_id", "date", "season_id", "game_type"]]
    out = out.merge(meta, on="game_id", how="inner")
    return out.sort_values(["date", "game_id", "player_id"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------ tracked shots

SHOT_TYPES = ("Shot_Wrist", "Shot_Backhand", "Shot_Tip", "Shot_OneTime", "Shot_Slap", "Shot_Snap")
REBOUND_SECONDS = 3.0   # a shot this soon after a teammate's shot in the same period is a rebound shot
RUSH_SECONDS = 6.0      # a shot this soon after its team's zone entry is a rush shot


def shots_frame(shots: pd.DataFrame, events: pd.DataFrame | None = None,
                zone_entries: pd.DataFrame | None = None, rink_boxes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every tracked shot with the features xG uses. The ONE place that knows the ETL's shot column names.

    Today's ETL: fact_shots (game_id, event_id, period, clock_s (counts down), team_id, team_venue,
    shooter_player_id, event_detail_2 as shot_type, is_goal, x, y, distance_ft, angle_deg), fact_events
    (strength, zone), fact_zone_entries (clock_s, team_id). Columns: game_id, event_id, team_id, shooter_id,
    shot_type, strength, zone, danger, rebound, rush, distance_ft, angle_deg, is_goal.
    """
    _require(shots, "fact_shots", ["game_id", "event_id", "period", "clock_s", "team_id", "is_goal"])
    out = pd.DataFrame({
        "game_id": _text(shots["game_id"]),
        "event_id": _num(shots["event_id"]).astype("Int64"),
        "period": _num(shots["period"]),
        "clock_s": _num(shots["clock_s"]),
        "team_id": _text(shots["team_id"]),
        "shooter_id": _text(shots["shooter_player_id"]) if "shooter_player_id" in shots else None,
        "shot_type": shots["shot_type"].astype("string") if "shot_type" in shots else pd.NA,
        "is_goal": shots["is_goal"].astype(str).str.lower().isin(["true", "1", "1.0", "t"]).astype(int),
        "x": _num(shots["x"]) if "x" in shots else np.nan,
        "y": _num(shots["y"]) if "y" in shots else np.nan,
        "distance_ft": _num(shots["distance_ft"]) if "distance_ft" in shots else np.nan,
        "angle_deg": _num(shots["angle_deg"]) if "angle_deg" in shots else np.nan,
    })
    out["shot_type"] = out["shot_type"].where(out["shot_type"].isin(SHOT_TYPES), "other").fillna("other")
    out["strength"], out["zone"] = "unknown", "unknown"
    if events is not None and len(events):
        ev = pd.DataFrame({"game_id": _text(events["game_id"]), "event_id": _num(events["event_id"]).astype("Int64"),
                           "strength_e": events.get("strength"), "zone_e": events.get("zone")})
        out = out.merge(ev, on=["game_id", "event_id"], how="left")
        out["strength"] = np.where(out["strength_e"].astype(str) == "5v5", "even",
                                   np.where(out["strength_e"].notna(), "special", "unknown"))
        out["zone"] = np.where(out["zone_e"].astype(str).str.lower() == "o", "offensive",
                               np.where(out["zone_e"].notna(), "other", "unknown"))
        out = out.drop(columns=["strength_e", "zone_e"])
    out = out.sort_values(["game_id", "period", "clock_s"], ascending=[True, True, False], kind="stable")
    prev_gap = _seconds_since_previous(out, out)
    out["rebound"] = (prev_gap <= REBOUND_SECONDS).astype(int)
    out["rush"] = 0
    if zone_entries is not None and len(zone_entries):
        ze = pd.DataFrame({"game_id": _text(zone_entries["game_id"]), "period": _num(zone_entries["period"]),
                           "clock_s": _num(zone_entries["clock_s"]), "team_id": _text(zone_entries["team_id"])})
        out["rush"] = (_seconds_since_previous(out, ze, strict=False) <= RUSH_SECONDS).astype(int)
    out["danger"] = danger_of(out["x"], out["y"], rink_boxes)
    return out.reset_index(drop=True)


def _seconds_since_previous(shots: pd.DataFrame, earlier: pd.DataFrame, *, strict: bool = True) -> np.ndarray:
    """Seconds from the same team's latest `earlier` row (same game and period) to each shot; inf if none.
    Clocks count down, so earlier means a larger clock value."""
    gaps = np.full(len(shots), np.inf)
    groups = {k: g["clock_s"].to_numpy() for k, g in earlier.groupby(["game_id", "period", "team_id"])}
    for i, (key, clock) in enumerate(zip(zip(shots["game_id"], shots["period"], shots["team_id"]),
                                         shots["clock_s"].to_numpy())):
        before = groups.get(key)
        if before is None or np.isnan(clock):
            continue
        d = before - clock
        d = d[(d > 0) if strict else (d >= 0)]
        if len(d):
            gaps[i] = d.min()
    return gaps


def danger_of(x: pd.Series, y: pd.Series, rink_boxes: pd.DataFrame | None) -> np.ndarray:
    """The league's danger label (dim_rinkcoordzones: x_min..y_max -> danger) of each shot location, mirrored
    into the attacking half; 'unknown' without coordinates or boxes."""
    result = np.full(len(x), "unknown", dtype=object)
    if rink_boxes is None or not len(rink_boxes):
        return result
    b = rink_boxes
    zones = b[b["zone"].astype(str).str.lower() == "offensive"] if "zone" in b else b
    bx = np.column_stack([_num(zones[c]).to_numpy() for c in ("x_min", "x_max", "y_min", "y_max")])
    labels = zones["danger"].astype(str).to_numpy()
    xs, ys = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    sign = np.where(xs < 0, -1.0, 1.0)
    ax, ay = xs * sign, ys * sign
    for i in np.flatnonzero(~np.isnan(xs) & ~np.isnan(ys)):
        hit = (bx[:, 0] <= ax[i]) & (ax[i] <= bx[:, 1]) & (bx[:, 2] <= ay[i]) & (ay[i] <= bx[:, 3])
        if hit.any():
            result[i] = labels[np.argmax(hit)]
    return result


# --------------------------------------------------------------------------------- league workbook (tests)

def read_league_sheets(path: Path, sheets: tuple[str, ...] = ("dim_schedule", "fact_gameroster",
                                                              "dim_rinkcoordzones")) -> dict[str, pd.DataFrame]:
    """Sheets of a league workbook with their own column names (the contract's names for these tables)."""
    from etl.readers.sheets import open_workbook, read_sheet

    wb = open_workbook(Path(path))
    frames = {}
    for sheet in sheets:
        df = read_sheet(wb, Path(path), sheet, required=sheet != "dim_rinkcoordzones")
        if df is not None:
            frames[sheet] = df.drop(columns=["_row"])
    return frames
