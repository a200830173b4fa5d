"""Dimension tables, mostly from the league workbook's sheets (renamed to the catalog's column names)."""

from __future__ import annotations

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
    return _unique(_pick(league.sheet("dim_team"), {
        "team_id": "team_id", "team_name": "team_name", "long_team_name": "long_team_name", "team_cd": "team_code",
        "league_id": "league_id", "team_color1": "color_primary", "team_color2": "color_secondary",
        "team_logo": "logo_url", "team_url": "team_url"}), "team_id", "dim_team", league, issues)


def dim_player(league: League, issues: Issues) -> pd.DataFrame:
    return _unique(_pick(league.sheet("dim_player"), {
        "player_id": "player_id", "player_full_name": "full_name", "player_first_name": "first_name",
        "player_last_name": "last_name", "player_primary_position": "primary_position",
        "current_skill_rating": "skill_rating", "player_norad_current_team_id": "current_team_id",
        "random_player_full_name": "anonymised_name", "player_url": "player_url", "player_image": "image_url"}),
        "player_id", "dim_player", league, issues)


def dim_schedule(league: League, issues: Issues) -> pd.DataFrame:
    s = _pick(league.sheet("dim_schedule"), {
        "game_id": "game_id", "season_id": "season_id", "date": "date", "game_time": "game_time",
        "home_team_id": "home_team_id", "away_team_id": "away_team_id", "home_team_name": "home_team_name",
        "away_team_name": "away_team_name", "game_type": "game_type", "playoff_round": "playoff_round",
        "last_period_type": "last_period_type", "home_total_goals": "home_total_goals",
        "away_total_goals": "away_total_goals", "game_url": "game_url"})
    s["game_time"] = s["game_time"].astype("str").where(s["game_time"].notna())
    return s


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


def fact_gameroster(league: League) -> pd.DataFrame:
    r = league.roster.copy()
    r["points"] = r["goals"] + r["assists"]
    return r
