"""Dimension tables, mostly from the league workbook's sheets, in the workbook's own column names (the
vocabulary the league's dashboard reads); columns the dashboard reads that the workbook lacks are derived or null."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.issues import Issues
from etl.readers.league_workbook import League


def _pick(df: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Columns renamed source -> target; absent source columns become empty."""
    return pd.DataFrame({tgt: (df[src] if src in df.columns else pd.Series([None] * len(df), index=df.index))
                         for src, tgt in mapping.items()}).reset_index(drop=True)


def _unique(df: pd.DataFrame, key: str, table: str, league: League, issues: Issues) -> pd.DataFrame:
    df = df.loc[df[key].notna()]
    dup = df.duplicated(key)
    if dup.any():
        for value in df.loc[dup, key].astype(str).unique():
            issues.add("duplicate_key", f"{table}: {key} {value} appears more than once", "first row kept",
                       file=league.source_file, sheet=table, column=key)
    return df.loc[~dup]


def dim_league(league: League, issues: Issues) -> pd.DataFrame:
    return _unique(_pick(league.sheet("dim_league"), {"league_id": "league_id", "league": "league_name"}),
                   "league_id", "dim_league", league, issues)


def dim_season(league: League, issues: Issues) -> pd.DataFrame:
    return _unique(_pick(league.sheet("dim_season"), {
        "season_id": "season_id", "season": "season", "session": "session", "league_id": "league_id",
        "start_date": "start_date"}), "season_id", "dim_season", league, issues)


def dim_team(league: League, issues: Issues) -> pd.DataFrame:
    cols = ["team_id", "team_name", "long_team_name", "team_cd", "league_id", "team_color1", "team_color2",
            "team_color3", "team_color4", "team_logo", "team_url"]
    df = _pick(league.sheet("dim_team"), {c: c for c in cols})
    df["primary_color"] = df["team_color1"]
    return _unique(df, "team_id", "dim_team", league, issues)


def dim_player(league: League, issues: Issues) -> pd.DataFrame:
    cols = ["player_id", "player_full_name", "player_first_name", "player_last_name", "player_primary_position",
            "current_skill_rating", "player_rating_ly", "highest_beer_league", "player_norad_current_team",
            "player_norad_current_team_id", "random_player_full_name", "player_url", "other_url", "player_image"]
    df = _pick(league.sheet("dim_player"), {c: c for c in cols} | {"player_norad_primary_number": "jersey_number"})
    df["player_name"] = df["player_full_name"]
    df["team_id"] = df["player_norad_current_team_id"]
    df["birth_year"] = None  # personal fields are not in the shared data
    df["player_gender"] = None
    return _unique(df, "player_id", "dim_player", league, issues)


_SCHEDULE_AS_IS = ["game_id", "season_id", "season", "date", "game_time", "home_team_id", "away_team_id",
                   "home_team_name", "away_team_name", "game_type", "playoff_round", "last_period_type",
                   "home_total_goals", "away_total_goals", "game_url"] + [
    f"{venue}_team_period{p}_goals" for venue in ("home", "away") for p in ("1", "2", "3")]


def dim_schedule(league: League, games: pd.DataFrame, issues: Issues) -> pd.DataFrame:
    """The schedule in its own columns, plus the scoresheet's official goals (``games``) and the season's
    league; power-play counts are not in the league data (null)."""
    sheet = league.sheet("dim_schedule")
    s = _pick(sheet, {c: c for c in _SCHEDULE_AS_IS} | {
        "home_team_periodOT_goals": "home_team_periodot_goals", "away_team_periodOT_goals": "away_team_periodot_goals",
        "video_url": "video_url_1", "video_start_time": "video_start_offset"})
    s["game_time"] = s["game_time"].astype("str").where(s["game_time"].notna())
    s["schedule_type"] = s["game_type"]
    s["video_url_2"] = None
    s["video_start_offset"] = _seconds(s["video_start_offset"])
    seasons = league.sheet("dim_season")
    league_of = dict(zip(seasons["season_id"], seasons["league_id"])) if "league_id" in seasons.columns else {}
    s["league_id"] = s["season_id"].map(league_of)
    # the scoresheet's goals keyed by team: a schedule row whose venues are swapped keeps its own home team
    g = games.set_index("game_id").reindex(s["game_id"].to_numpy())
    for venue in ("home", "away"):
        team = s[f"{venue}_team_id"].to_numpy()
        s[f"official_{venue}_goals"] = np.select(
            [team == g["home_team_id"].to_numpy(), team == g["away_team_id"].to_numpy()],
            [g["official_home_goals"].to_numpy(), g["official_away_goals"].to_numpy()], np.nan)
    for venue in ("home", "away"):
        for col in ("pp_goals", "pp_opportunities", "pk_goals_against", "pk_opportunities"):
            s[f"{venue}_{col}"] = None
    return s


def _seconds(values: pd.Series) -> pd.Series:
    """Seconds from a time of day / duration cell ('0:01:30', a time) or a number of seconds."""
    as_number = pd.to_numeric(values, errors="coerce")
    as_time = pd.to_timedelta(values.where(as_number.isna()).astype("str"), errors="coerce").dt.total_seconds()
    return as_number.fillna(as_time)


def _vocab(league: League, sheet: str, mapping: dict[str, str], key: str, issues: Issues) -> pd.DataFrame:
    return _unique(_pick(league.sheet(sheet), mapping), key, sheet, league, issues)


def dim_event_type(league: League, issues: Issues) -> pd.DataFrame:
    cols = ["event_type_id", "event_type_code", "event_type_name", "event_category", "description", "is_corsi",
            "is_fenwick"]
    return _vocab(league, "dim_event_type", {c: c for c in cols}, "event_type_id", issues)


def dim_event_detail(league: League, issues: Issues) -> pd.DataFrame:
    cols = ["event_detail_id", "event_detail_code", "event_detail_name", "event_type", "category", "description",
            "is_shot_on_goal", "is_goal", "is_miss", "is_block", "danger_potential"]
    return _vocab(league, "dim_event_detail", {c: c for c in cols}, "event_detail_id", issues)


def dim_event_detail_2(league: League, issues: Issues) -> pd.DataFrame:
    cols = ["event_detail_2_id", "event_detail_2_code", "event_detail_2_name", "event_type", "event_type_macro",
            "category", "description", "is_shot_on_goal", "is_goal", "is_miss", "is_block", "danger_potential"]
    return _vocab(league, "dim_event_detail_2", {c: c for c in cols}, "event_detail_2_id", issues)


def dim_play_detail(league: League, issues: Issues, sheet: str = "dim_play_detail") -> pd.DataFrame:
    cols = ["play_detail_id", "play_detail_code", "play_detail_name", "play_category", "skill_level", "description"]
    return _vocab(league, sheet, {c: c for c in cols}, "play_detail_id", issues)


def dim_play_detail_2(league: League, issues: Issues) -> pd.DataFrame:
    return dim_play_detail(league, issues, "dim_play_detail_2")


def dim_period() -> pd.DataFrame:
    return pd.DataFrame({
        "period_id": [1, 2, 3, 4, 5],
        "period_name": ["1st", "2nd", "3rd", "OT", "SO"],
        "period_type": ["regulation", "regulation", "regulation", "overtime", "shootout"],
    })


def dim_strength(observed: list[str]) -> pd.DataFrame:
    standard = [f"{a}v{b}" for a in range(3, 7) for b in range(3, 7)]
    names = sorted(set(standard) | {s for s in observed if isinstance(s, str)})
    parts = pd.Series(names).str.extract(r"^(\d+)v(\d+)")
    df = pd.DataFrame({"strength": names, "skaters_for": pd.to_numeric(parts[0], errors="coerce"),
                       "skaters_against": pd.to_numeric(parts[1], errors="coerce")})
    df["is_even"] = df["skaters_for"] == df["skaters_against"]
    df["situation"] = pd.Series(
        [("even" if a == b else "power play" if a > b else "short handed") if a == a and b == b else "other"
         for a, b in zip(df["skaters_for"], df["skaters_against"])])
    return df
