"""Season tables the dashboard's standings and leader pages read (the ``*_season_stats_basic`` tables), split
by game type: the schedule's ``Regular`` and ``Playoffs``, and ``All``.

Records come from official results only (the scoresheet's goals per team, ``games``): a win is 2 points, a
tie 1 (rows are unique per game and player or team, so games are counted as group sizes). A goalie's W-L-T
and shutouts are the team results of the games the goalie dressed for (scoresheet position Goalie); a
shutout is a game in which the team conceded no goal. Tracked columns (shots, shooting_pct, cf_pct, saves,
save_pct) are summed over complete tracked games only. Model columns (xg, war, gar, ratings) exist and are
null until the models fill them. Definitions: docs/stats.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALL_GAMES = "All"
KEY = ["season_id", "game_type"]


def team_results(games: pd.DataFrame, game_types: pd.Series) -> pd.DataFrame:
    """Two rows per game with an official score: (game_id, season_id, game_type, team_id, goals_for,
    goals_against, result W/L/T)."""
    scored = games.loc[games["official_home_goals"].notna() & games["official_away_goals"].notna()]
    rows = []
    for venue, other in (("home", "away"), ("away", "home")):
        rows.append(pd.DataFrame({
            "game_id": scored["game_id"].to_numpy(), "season_id": scored["season_id"].to_numpy(),
            "team_id": scored[f"{venue}_team_id"].to_numpy(),
            "goals_for": scored[f"official_{venue}_goals"].to_numpy(),
            "goals_against": scored[f"official_{other}_goals"].to_numpy()}))
    t = pd.concat(rows, ignore_index=True)
    t = t.loc[t["team_id"].notna()]
    t["game_type"] = t["game_id"].map(game_types).fillna("Regular")
    t["result"] = np.select([t["goals_for"] > t["goals_against"], t["goals_for"] < t["goals_against"]],
                            ["W", "L"], "T")
    return t


def _with_all(df: pd.DataFrame) -> pd.DataFrame:
    """The rows once under their own game type and once under 'All'."""
    return pd.concat([df, df.assign(game_type=ALL_GAMES)], ignore_index=True)


def _record(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    g = df.assign(w=df["result"].eq("W").astype("int64"), l=df["result"].eq("L").astype("int64"),
                  t=df["result"].eq("T").astype("int64")).groupby(by)
    return g.agg(games_played=("game_id", "size"), wins=("w", "sum"), losses=("l", "sum"), ties=("t", "sum"))


def _names(out: pd.DataFrame, seasons: pd.DataFrame, teams: pd.DataFrame, players: pd.DataFrame | None) -> None:
    out["season"] = out["season_id"].map(seasons.set_index("season_id")["season"])
    out["team_name"] = out["team_id"].map(teams.set_index("team_id")["team_name"])
    if players is not None:
        out["player_name"] = out["player_id"].map(players.set_index("player_id")["player_full_name"])


def _main_team(rows: pd.DataFrame, by: list[str]) -> pd.Series:
    """The team a player played most games for in the group (ties: the later game's team)."""
    counts = rows.groupby(by + ["team_id"]).agg(n=("game_id", "size"), last=("game_id", "max")).reset_index()
    counts = counts.sort_values(by + ["n", "last"]).drop_duplicates(by, keep="last")
    return counts.set_index(by)["team_id"]


def _most_common(rows: pd.DataFrame, by: list[str], column: str) -> pd.Series:
    """The most frequent non-null value of ``column`` per group (ties: the first in sort order)."""
    counts = rows.dropna(subset=[column]).groupby(by + [column]).size().rename("n").reset_index()
    counts = counts.sort_values(by + ["n"], ascending=[True] * len(by) + [False], kind="stable")
    return counts.drop_duplicates(by).set_index(by)[column]


def team_season_basic(results: pd.DataFrame, seasons: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    r = _with_all(results)
    by = KEY + ["team_id"]
    out = _record(r, by).join(r.groupby(by)[["goals_for", "goals_against"]].sum()).reset_index()
    out["points"] = 2 * out["wins"] + out["ties"]
    out["goal_diff"] = out["goals_for"] - out["goals_against"]
    out["win_pct"] = out["wins"] / out["games_played"]
    out["goals_for_per_game"] = out["goals_for"] / out["games_played"]
    out["goals_against_per_game"] = out["goals_against"] / out["games_played"]
    _names(out, seasons, teams, None)
    return out


def player_season_basic(roster: pd.DataFrame, games: pd.DataFrame, game_types: pd.Series, pgs: pd.DataFrame,
                        seasons: pd.DataFrame, teams: pd.DataFrame, players: pd.DataFrame) -> pd.DataFrame:
    """Skaters (scoresheet rows whose position is not Goalie): games, goals, assists, points, pim per season
    and game type; shots and shooting % over complete tracked games, cf_pct over those with shifts."""
    season_of = games.set_index("game_id")["season_id"]
    sk = roster.loc[roster["position"].ne("Goalie"),
                    ["game_id", "player_id", "team_id", "position", "goals", "assists", "pim"]].copy()
    sk["season_id"] = sk["game_id"].map(season_of)
    sk = _with_all(sk.loc[sk["season_id"].notna()].assign(game_type=sk["game_id"].map(game_types).fillna("Regular")))
    by = KEY + ["player_id"]
    out = sk.groupby(by).agg(games_played=("game_id", "size"), goals=("goals", "sum"),
                             assists=("assists", "sum"), pim=("pim", "sum"))
    out["team_id"] = _main_team(sk, by)
    out["position"] = _most_common(sk, by, "position")
    out["points"] = out["goals"] + out["assists"]
    out["points_per_game"] = out["points"] / out["games_played"]
    tracked = pgs.loc[pgs["game_status"].eq("complete"),
                      ["game_id", "player_id", "tracked_goals", "shots", "corsi_for", "corsi_against"]].copy()
    tracked["season_id"] = tracked["game_id"].map(season_of)
    tracked = _with_all(tracked.assign(game_type=tracked["game_id"].map(game_types).fillna("Regular")))
    tr = tracked.groupby(by).agg(tracked_games=("game_id", "size"), tracked_goals=("tracked_goals", "sum"),
                                 shots=("shots", "sum"), cf=("corsi_for", "sum"), ca=("corsi_against", "sum"),
                                 with_shifts=("corsi_for", "count"))
    tr[["cf", "ca"]] = tr[["cf", "ca"]].where(tr["with_shifts"] > 0)  # corsi needs shifts: null without any
    out = out.join(tr.drop(columns="with_shifts"), how="left").reset_index()
    out["tracked_games"] = out["tracked_games"].fillna(0)
    out["shooting_pct"] = (out["tracked_goals"] / out["shots"]).where(out["shots"] > 0)
    out["cf_pct"] = (out["cf"] / (out["cf"] + out["ca"])).where((out["cf"] + out["ca"]) > 0)
    for col in ("xg_for", "xg_per_game", "xg_adj", "goals_above_expected", "war", "gar", "player_rating"):
        out[col] = np.nan  # filled by the models (issue: ML)
    _names(out, seasons, teams, players)
    return out


def goalie_season_basic(roster: pd.DataFrame, results: pd.DataFrame, ggs: pd.DataFrame, games: pd.DataFrame,
                        game_types: pd.Series, seasons: pd.DataFrame, teams: pd.DataFrame,
                        players: pd.DataFrame) -> pd.DataFrame:
    """Goalies (scoresheet position Goalie) joined to their team's result in each game."""
    gk = roster.loc[roster["position"].eq("Goalie"), ["game_id", "player_id", "team_id", "goals_against"]]
    gk = gk.merge(results[["game_id", "team_id", "season_id", "game_type", "result",
                           "goals_against"]].rename(columns={"goals_against": "team_goals_against"}),
                  on=["game_id", "team_id"], how="inner")
    gk["shutout"] = gk["team_goals_against"].eq(0).astype("int64")
    gk = _with_all(gk)
    by = KEY + ["player_id"]
    out = _record(gk, by).join(gk.groupby(by).agg(shutouts=("shutout", "sum"), goals_against=("goals_against", "sum")))
    out["team_id"] = _main_team(gk, by)
    season_of = games.set_index("game_id")["season_id"]
    tracked = ggs.loc[ggs["game_status"].eq("complete"), ["game_id", "player_id", "saves", "shots_against"]].copy()
    tracked["season_id"] = tracked["game_id"].map(season_of)
    tracked = _with_all(tracked.assign(game_type=tracked["game_id"].map(game_types).fillna("Regular")))
    tr = tracked.groupby(by).agg(tracked_games=("game_id", "size"), saves=("saves", "sum"),
                                 shots_against=("shots_against", "sum"))
    out = out.join(tr, how="left").reset_index()
    out["tracked_games"] = out["tracked_games"].fillna(0)
    out["gaa"] = out["goals_against"] / out["games_played"]
    out["win_pct"] = out["wins"] / out["games_played"]
    out["save_pct"] = (out["saves"] / out["shots_against"]).where(out["shots_against"] > 0)
    out["goalie_war"] = np.nan  # filled by the models
    out["goalie_gar"] = np.nan
    _names(out, seasons, teams, players)
    return out
