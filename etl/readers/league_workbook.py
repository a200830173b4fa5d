"""The league workbook (BLB_Tables.xlsx): master data, the schedule and the official scoresheets.

Only the sheets the ETL uses are read, once, with python-calamine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from etl.issues import Issues
from etl.readers.sheets import numeric, open_workbook, read_sheet, require_columns, text

REQUIRED_SHEETS = {
    "dim_schedule": ["game_id", "season_id", "date", "home_team_id", "away_team_id", "home_total_goals",
                     "away_total_goals"],
    "fact_gameroster": ["game_id", "player_id", "team_id", "team_venue", "player_game_number", "goals",
                        "assist"],
    "dim_player": ["player_id"],
    "dim_team": ["team_id", "team_name"],
}
OPTIONAL_SHEETS = ["dim_league", "dim_season", "dim_event_type", "dim_event_detail", "dim_event_detail_2",
                   "dim_play_detail", "dim_play_detail_2", "dim_rinkcoordzones", "dim_rinkboxcoord"]


@dataclass
class League:
    """The league workbook's sheets the ETL uses, as read (plus the cleaned official roster)."""

    source_file: str
    sheets: dict[str, pd.DataFrame]
    roster: pd.DataFrame  # official scoresheet, cleaned: one row per game and player
    issues: Issues = field(default_factory=Issues)

    def sheet(self, name: str) -> pd.DataFrame:
        return self.sheets.get(name, pd.DataFrame())


def scheduled_games(path: Path) -> frozenset[int]:
    """The game ids of the workbook's dim_schedule sheet (InputError when it cannot be read): what callers
    check requested game ids against before a run."""
    path = Path(path)
    df = read_sheet(open_workbook(path), path, "dim_schedule", wanted={"game_id"})
    require_columns(df, ["game_id"], path, "dim_schedule")
    ids = numeric(df, "game_id").dropna()
    return frozenset(int(g) for g in ids if float(g).is_integer())


def read_league_workbook(path: Path) -> League:
    path = Path(path)
    wb = open_workbook(path)
    issues = Issues()
    sheets: dict[str, pd.DataFrame] = {}
    for name, columns in REQUIRED_SHEETS.items():
        df = read_sheet(wb, path, name)
        require_columns(df, columns, path, name)
        sheets[name] = df
    for name in OPTIONAL_SHEETS:
        df = read_sheet(wb, path, name, required=False)
        if df is None:
            issues.add("missing_sheet", f"league workbook {path.name} has no sheet {name!r}",
                       f"{name} written empty", file=path.name, sheet=name)
            df = pd.DataFrame()
        sheets[name] = df
    sheets["dim_schedule"] = _schedule(sheets["dim_schedule"], path, issues)
    roster = _official_roster(sheets["fact_gameroster"], path, issues)
    return League(source_file=path.name, sheets=sheets, roster=roster, issues=issues)


def _schedule(df: pd.DataFrame, path: Path, issues: Issues) -> pd.DataFrame:
    gid = numeric(df, "game_id")
    bad = gid.isna()
    if bad.any():
        issues.add_frame(pd.DataFrame({
            "file": path.name, "sheet": "dim_schedule", "row": df.loc[bad, "_row"], "column": "game_id",
            "category": "bad_value", "severity": "warning", "message": "schedule row without a numeric game_id",
            "action": "row dropped",
        }))
    df = df.loc[~bad].copy()
    df["game_id"] = gid[~bad].astype("int64")
    dup = df.duplicated("game_id")
    if dup.any():
        issues.add_frame(pd.DataFrame({
            "game_id": df.loc[dup, "game_id"], "file": path.name, "sheet": "dim_schedule",
            "row": df.loc[dup, "_row"], "column": "game_id", "category": "duplicate_row", "severity": "warning",
            "message": "game listed twice in the schedule", "action": "later row dropped",
        }))
        df = df.loc[~dup]
    return df


def _official_roster(df: pd.DataFrame, path: Path, issues: Issues) -> pd.DataFrame:
    fname = path.name
    out = pd.DataFrame({
        "game_id": numeric(df, "game_id"),
        "player_id": text(df, "player_id"),
        "team_id": text(df, "team_id"),
        "team_venue": text(df, "team_venue").str.lower(),
        "jersey_raw": text(df, "player_game_number"),
        "jersey": numeric(df, "player_game_number"),
        "position": text(df, "player_position"),
        "goals": numeric(df, "goals"),
        "assists": numeric(df, "assist"),
        "pim": numeric(df, "pim"),
        "goals_against": numeric(df, "goals_against"),
        "is_sub": numeric(df, "sub").fillna(0) > 0,
        "row": df["_row"],
    })
    unusable = out["game_id"].isna() | out["player_id"].isna()
    if unusable.any():
        issues.add_frame(pd.DataFrame({
            "file": fname, "sheet": "fact_gameroster", "row": out.loc[unusable, "row"], "column": "player_id",
            "category": "bad_value", "severity": "warning", "message": "roster row without game_id or player_id",
            "action": "row dropped",
        }))
        out = out.loc[~unusable]
    odd_jersey = out["jersey"].isna() | (out["jersey"] != out["jersey"].round())
    if odd_jersey.any():
        issues.add_frame(pd.DataFrame({
            "game_id": out.loc[odd_jersey, "game_id"], "file": fname, "sheet": "fact_gameroster",
            "row": out.loc[odd_jersey, "row"], "column": "player_game_number", "category": "bad_value",
            "severity": "info", "message": "jersey is not a number: " + out.loc[odd_jersey, "jersey_raw"].astype(str),
            "action": "player kept; cannot be matched to tracked jersey numbers",
        }))
        out.loc[odd_jersey, "jersey"] = np.nan
    for col, raw_col in (("goals", "goals"), ("assists", "assist"), ("pim", "pim"),
                         ("goals_against", "goals_against")):
        if raw_col not in df.columns:
            continue
        bad = df.loc[out.index, raw_col].notna() & out[col].isna()
        if bad.any():
            issues.add_frame(pd.DataFrame({
                "game_id": out.loc[bad, "game_id"], "file": fname, "sheet": "fact_gameroster",
                "row": out.loc[bad, "row"], "column": raw_col, "category": "bad_value", "severity": "warning",
                "message": f"{raw_col} is not a number", "action": "counted as 0",
            }))
    dup = out.duplicated(["game_id", "player_id"], keep="first")
    if dup.any():
        issues.add_frame(pd.DataFrame({
            "game_id": out.loc[dup, "game_id"], "file": fname, "sheet": "fact_gameroster",
            "row": out.loc[dup, "row"], "column": "player_id", "category": "duplicate_row", "severity": "warning",
            "message": "player " + out.loc[dup, "player_id"] + " listed twice on the scoresheet",
            "action": "later row dropped",
        }))
        out = out.loc[~dup]
    out["game_id"] = out["game_id"].astype("int64")
    for col in ("goals", "assists", "pim", "goals_against"):
        out[col] = out[col].fillna(0).astype("int64")
    return out.reset_index(drop=True)
