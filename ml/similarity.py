"""Similar players: nearest neighbours on standardised per-game profiles of a season.

This is a similarity, not a prediction: it says whose scoresheet lines look alike (goals, assists, points and
penalty minutes per game, games played, share of games at forward), nothing about what will happen, so it has
no backtest. Each feature is standardised over the season's skaters with at least MIN_GAMES games; the score is
100 * exp(-d^2 / (2 * features)) for the Euclidean distance d between two z-score vectors (100 = identical).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.model import Model, UnknownEntity, frame_hash

NAME = "similar_players"
FEATURES = ("goals_per_game", "assists_per_game", "points_per_game", "pim_per_game", "games", "forward_share")
MIN_GAMES = 3


def profiles(roster: pd.DataFrame) -> dict:
    out = {}
    for season, r in roster.groupby("season_id"):
        g = r.groupby("player_id")
        t = pd.DataFrame({"games": g["game_id"].nunique(), "goals": g["goals"].sum(), "assists": g["assists"].sum(),
                          "pim": g["pim"].sum(), "forward_share": g["position"].agg(lambda s: (s == "Forward").mean()),
                          "name": g["player_name"].last()})
        t = t[t["games"] >= MIN_GAMES]
        if len(t) < 2:
            continue
        for stat in ("goals", "assists", "pim"):
            t[f"{stat}_per_game"] = t[stat] / t["games"]
        t["points_per_game"] = t["goals_per_game"] + t["assists_per_game"]
        X = t[list(FEATURES)].to_numpy(float)
        mean, sd = X.mean(0), X.std(0)
        sd[sd == 0] = 1.0
        out[season] = {"players": t.index.tolist(), "names": t["name"].astype(str).tolist(),
                       "z": ((X - mean) / sd).round(4).tolist(), "mean": mean.tolist(), "sd": sd.tolist()}
    return out


def train(roster: pd.DataFrame) -> Model:
    return Model(NAME, {"features": list(FEATURES), "seasons": profiles(roster)}, {"min_games": MIN_GAMES},
                 {"note": "a similarity, not a prediction: nothing to backtest"}, None, int(len(roster)),
                 frame_hash(roster), notes="nearest neighbours on standardised per-game scoresheet profiles")


def nearest(params: dict, player_id: str, season_id: str, limit: int = 10, min_similarity: float = 0.0) -> dict:
    season = params["seasons"].get(season_id)
    if season is None:
        raise UnknownEntity(f"season {season_id!r} has no player profiles")
    if player_id not in season["players"]:
        raise UnknownEntity(f"player {player_id!r} has fewer than {MIN_GAMES} games as a skater in {season_id!r}")
    z = np.array(season["z"])
    i = season["players"].index(player_id)
    d2 = ((z - z[i]) ** 2).sum(1)
    score = 100 * np.exp(-d2 / (2 * z.shape[1]))
    order = [j for j in np.argsort(-score) if j != i and score[j] >= min_similarity][:limit]
    feats = params["features"]
    similar = []
    for j in order:
        diff = np.abs(z[j] - z[i])
        similar.append({"player_id": season["players"][j], "player_name": season["names"][j],
                        "similarity_score": round(float(score[j]), 2),
                        "similar_stats": [f for f, v in zip(feats, diff) if v < 0.5],
                        "different_stats": [f for f, v in zip(feats, diff) if v > 1.0]})
    return {"player_id": player_id, "player_name": season["names"][i], "similar_players": similar}
