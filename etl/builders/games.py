"""Per-game league tables in the workbook's vocabulary: the scoresheet (fact_gameroster), each game's
tracking status (fact_game_status) and the schedule's videos (fact_video).

The frames the builders pass around (the cleaned ``roster``, ``games``) keep the model's column names; the
league's names (``assist``, ``player_game_number``, ``player_position``) appear only here, at the mart edge.
"""

from __future__ import annotations

import pandas as pd

from etl.canonical import TrackedGame
from etl.readers.league_workbook import League

# workbook fact_gameroster columns carried as written (joined back by spreadsheet row)
_SHEET_COLUMNS = ["team_name", "opp_team_id", "opp_team_name", "player_full_name", "games_played", "shutouts",
                  "skill_rating", "date", "season"]


def fact_gameroster(league: League, roster: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """The cleaned scoresheet (``league.roster``: one row per game and player) with the sheet's descriptive
    columns and the league's names; season_id comes from the schedule."""
    sheet = league.sheet("fact_gameroster")
    extra = sheet.set_index("_row").reindex(roster["row"].to_numpy())
    out = pd.DataFrame({
        "game_id": roster["game_id"].to_numpy(), "player_id": roster["player_id"].to_numpy(),
        "team_id": roster["team_id"].to_numpy(), "team_venue": roster["team_venue"].to_numpy(),
        "player_game_number": roster["jersey"].to_numpy(), "player_game_number_raw": roster["jersey_raw"].to_numpy(),
        "player_position": roster["position"].to_numpy(), "goals": roster["goals"].to_numpy(),
        "assist": roster["assists"].to_numpy(), "pim": roster["pim"].to_numpy(),
        "goals_against": roster["goals_against"].to_numpy(), "is_sub": roster["is_sub"].to_numpy(),
    })
    for col in _SHEET_COLUMNS:
        out[col] = extra[col].to_numpy() if col in extra.columns else None
    out["points"] = out["goals"] + out["assist"]
    out["pim_total"] = out["pim"]
    out["sub"] = out["is_sub"].astype("int64")
    out["player_skill_rating"] = out["skill_rating"]
    out["games_played"] = pd.to_numeric(out["games_played"], errors="coerce")
    out["season_id"] = out["game_id"].map(games.set_index("game_id")["season_id"])
    return out


def fact_game_status(games: pd.DataFrame, completeness: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Every scheduled game with its home/away teams (the scoresheet's), official score and tracking status."""
    names = teams.set_index("team_id")["team_name"]
    c = completeness.set_index("game_id")
    g = games.loc[:, ["game_id", "season_id", "date", "home_team_id", "away_team_id", "official_home_goals",
                      "official_away_goals"]].rename(columns={"date": "game_date"})
    g["home_team"] = g["home_team_id"].map(names)
    g["away_team"] = g["away_team_id"].map(names)
    for col in ("tracked_home_goals", "tracked_away_goals", "has_shifts"):
        g[col] = g["game_id"].map(c[col])
    g["tracking_status"] = g["game_id"].map(c["status"]).fillna("untracked")
    g["has_shifts"] = g["has_shifts"].fillna(False).astype(bool)
    return g


def fact_video(schedule: pd.DataFrame, tracked: list[TrackedGame]) -> pd.DataFrame:
    """One row per game video: the schedule's (``dim_schedule`` as built: video_url_1, video_start_offset)
    and the tracker exports' video links."""
    v = schedule.loc[schedule["video_url_1"].notna(), ["game_id", "video_url_1", "video_start_offset"]]
    from_schedule = pd.DataFrame({
        "video_key": v["game_id"].astype("int64").astype(str) + "-schedule",
        "game_id": v["game_id"], "video_type_id": "schedule", "video_url": v["video_url_1"],
        "period_1_start": v["video_start_offset"],
    })
    from_tracker = pd.DataFrame([{**video, "game_id": t.game_id} for t in tracked for video in t.videos],
                                columns=list(from_schedule.columns))
    return pd.concat([from_schedule, from_tracker], ignore_index=True).drop_duplicates("video_key")
