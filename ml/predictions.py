"""The prediction tables ml_predict writes, from the latest models and the warehouse frames (pure).

Tables: ml_shot_xg (every tracked shot), ml_player_game_xg (ixG and goals above expected), ml_team_game_xg
(xGF, xGA), ml_goalie_game_gsax (goals saved above expected), ml_team_strengths (the latest season's
team-season strengths), ml_game_predictions (unplayed games), ml_player_projections (the latest season's
skaters: shrunken per-game rates and rest-of-season totals), ml_playoff_probabilities (the latest season).
`XG_COLUMNS` says which dashboard columns the xG tables fill where the warehouse has them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import game_outcome, playoffs, projections, xg
from ml.frames import _text, games_frame, roster_frame, shots_frame
from ml.serving import Predictors, served_xg, xg_method

# (warehouse table, key columns, column) <- (prediction table, its key columns, its column)
XG_COLUMNS = (
    (("fact_shots", ("game_id", "event_id"), "xg"), ("ml_shot_xg", ("game_id", "event_id"), "xg")),
    (("fact_player_game_stats", ("game_id", "player_id"), "xg_for"), ("ml_player_game_xg", ("game_id", "player_id"), "ixg")),
    (("fact_team_game_stats", ("game_id", "team_id"), "xg_for"), ("ml_team_game_xg", ("game_id", "team_id"), "xgf")),
    (("fact_goalie_game_stats", ("game_id", "player_id"), "goals_saved_above_avg"),
     ("ml_goalie_game_gsax", ("game_id", "player_id"), "gsax")),
)


def prediction_tables(records: list[dict], tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    pred = Predictors(records)
    games = games_frame(tables["dim_schedule"])
    roster = roster_frame(tables["fact_gameroster"], games)
    out: dict[str, pd.DataFrame] = {}
    if xg.NAME in pred.records and tables.get("fact_shots") is not None:
        shots = shots_frame(tables["fact_shots"], tables.get("fact_events"), tables.get("fact_zone_entries"),
                            tables.get("dim_rinkcoordzones"))
        out.update(_xg_tables(pred.records[xg.NAME], shots, games, tables["fact_gameroster"]))
    if pred.strengths is not None:
        out.update(_game_tables(pred, games))
    if projections.NAME in pred.records:
        out["ml_player_projections"] = _projections(pred.records[projections.NAME], roster)
    if playoffs.NAME in pred.records and pred.strengths is not None:
        out["ml_playoff_probabilities"] = _playoffs(pred, games)
    return out


def _xg_tables(record: dict, shots: pd.DataFrame, games: pd.DataFrame, raw_roster: pd.DataFrame) -> dict:
    version = record["version"]
    s = shots.assign(xg=served_xg(record, shots), xg_method=xg_method(record), model_version=version)
    shot_xg = s[["game_id", "event_id", "team_id", "shooter_id", "xg", "is_goal", "xg_method", "model_version"]]
    player = (s.dropna(subset=["shooter_id"]).groupby(["game_id", "shooter_id"])
              .agg(shots=("xg", "size"), ixg=("xg", "sum"), goals=("is_goal", "sum")).reset_index()
              .rename(columns={"shooter_id": "player_id"}))
    player["goals_above_expected"] = player["goals"] - player["ixg"]
    teams = games.set_index("game_id")[["home_team_id", "away_team_id"]]
    s = s.join(teams, on="game_id")
    s["opponent_id"] = np.where(s["team_id"] == s["home_team_id"], s["away_team_id"], s["home_team_id"])
    made = s.groupby(["game_id", "team_id"]).agg(shots_for=("xg", "size"), xgf=("xg", "sum"),
                                                 goals_for=("is_goal", "sum"))
    against = (s.groupby(["game_id", "opponent_id"]).agg(shots_against=("xg", "size"), xga=("xg", "sum"),
                                                          goals_against=("is_goal", "sum"))
               .rename_axis(["game_id", "team_id"]))
    team = made.join(against, how="outer").fillna(0).reset_index()
    goalies = pd.DataFrame({"game_id": _text(raw_roster["game_id"]), "player_id": _text(raw_roster["player_id"]),
                            "team_id": _text(raw_roster["team_id"]),
                            "position": raw_roster["player_position"].astype(str)})
    goalies = goalies[goalies["position"] == "Goalie"].drop(columns="position")
    goalie = goalies.merge(team[["game_id", "team_id", "shots_against", "xga", "goals_against"]],
                           on=["game_id", "team_id"], how="inner")
    goalie["gsax"] = goalie["xga"] - goalie["goals_against"]
    return {"ml_shot_xg": shot_xg.reset_index(drop=True), "ml_player_game_xg": player,
            "ml_team_game_xg": team, "ml_goalie_game_gsax": goalie.reset_index(drop=True)}


def _game_tables(pred: Predictors, games: pd.DataFrame) -> dict:
    st = pred.strengths
    version = pred.records[game_outcome.NAME]["version"]
    rows = []
    for key, att, dfn in zip(st.teams, st.attack, st.defence):
        team, season = key.split("|", 1)
        rows.append({"team_id": team, "season_id": season, "attack": att, "defence": dfn,
                     "goals_for_per_game": float(np.exp(st.mu + st.home / 2 + att)),
                     "goals_against_per_game": float(np.exp(st.mu + st.home / 2 + dfn)), "model_version": version})
    strengths = pd.DataFrame(rows)
    upcoming = []
    for g in games[~games["played"]].itertuples():
        try:
            p = game_outcome.predict(st, g.home_team_id, g.away_team_id, g.season_id)
        except LookupError:
            continue  # a team-season without games yet: no strength to predict from
        upcoming.append({"game_id": g.game_id, "season_id": g.season_id, "date": g.date.date().isoformat(),
                         "home_team_id": g.home_team_id, "away_team_id": g.away_team_id,
                         **{k: p[k] for k in ("home_win_probability", "tie_probability", "away_win_probability",
                                              "predicted_home_goals", "predicted_away_goals")},
                         "model_version": version})
    cols = ["game_id", "season_id", "date", "home_team_id", "away_team_id", "home_win_probability",
            "tie_probability", "away_win_probability", "predicted_home_goals", "predicted_away_goals", "model_version"]
    return {"ml_team_strengths": strengths, "ml_game_predictions": pd.DataFrame(upcoming, columns=cols)}


def _latest_season(frame: pd.DataFrame) -> str | None:
    return frame.sort_values("date")["season_id"].iloc[-1] if len(frame) else None


def _projections(record: dict, roster: pd.DataFrame) -> pd.DataFrame:
    season = _latest_season(roster)
    rows = []
    for pid in sorted(record["params"]["seasons"].get(season, {})):
        p = projections.predict(record["params"], pid, season, None)
        row = {"player_id": pid, "season_id": season, "games_played": p["games_played"],
               "games_remaining": p["games_remaining"]}
        for stat in projections.STATS:
            row.update({f"{stat}_per_game": p[stat]["rate"], f"{stat}_rest_of_season": p[stat]["mean"],
                        f"{stat}_low": p[stat]["low"], f"{stat}_high": p[stat]["high"]})
        rows.append({**row, "model_version": record["version"]})
    return pd.DataFrame(rows)


def _playoffs(pred: Predictors, games: pd.DataFrame) -> pd.DataFrame:
    season = _latest_season(games)
    record = pred.records[playoffs.NAME]
    teams = sorted(set(games.loc[games["season_id"] == season, "home_team_id"])
                   | set(games.loc[games["season_id"] == season, "away_team_id"]))
    if not teams:
        return pd.DataFrame()
    any_team = pred.predict(playoffs.NAME, _inputs(teams[0], season))["prediction"]
    return pd.DataFrame([{"season_id": season, "team_id": t, "playoff_probability": v["playoffs"],
                          "first_place_probability": v["first"], "expected_rank": v["mean_rank"],
                          "as_of": any_team["as_of"], "model_version": record["version"]}
                         for t, v in any_team["all_teams"].items()])


def _inputs(team: str, season: str):
    from ml.serving import PlayoffInputs
    return PlayoffInputs(team_id=team, season_id=season)
