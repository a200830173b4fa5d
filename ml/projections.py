"""Player projections: rest-of-season goals, assists and points with 80% intervals.

Each skater's per-game rate of a stat gets a Gamma prior fitted by the method of moments to the players of
the same position (empirical Bayes; league-wide for a position with too few players); the posterior after g
games and x events is Gamma(alpha + x, beta + g), and n more games follow its negative-binomial predictive
distribution (mean and 10th/90th percentiles). Backtest: every season cut at the middle date of its games;
the first half predicts each player's second half (for the games he then played), beside the naive
season-to-date rate (with a Poisson interval around it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ml.distributions import nbinom_ppf
from ml.frames import REGULAR
from ml.model import InvalidInput, Model, UnknownEntity, frame_hash

NAME = "player_projection"
STATS = ("goals", "assists", "points")
LEVEL = 0.8
MIN_PLAYERS = 8


def player_totals(roster: pd.DataFrame) -> pd.DataFrame:
    """Games and stat totals per player (and position, his most frequent)."""
    agg = roster.groupby("player_id").agg(games=("game_id", "nunique"), goals=("goals", "sum"),
                                          assists=("assists", "sum"), points=("points", "sum"))
    agg["position"] = roster.groupby("player_id")["position"].agg(lambda s: s.mode().iloc[0])
    return agg


def fit_priors(totals: pd.DataFrame) -> dict:
    """Gamma(alpha, beta) per position and stat, plus 'league' (method of moments, sampling noise removed)."""
    priors = {}
    groups = {"league": totals, **{p: t for p, t in totals.groupby("position") if len(t) >= MIN_PLAYERS}}
    for name, t in groups.items():
        t = t[t["games"] > 0]
        priors[name] = {}
        for stat in STATS:
            rate = t[stat] / t["games"]
            w = t["games"] / t["games"].sum()
            m = float((w * rate).sum())
            var = float((w * (rate - m) ** 2).sum())
            noise = m * float((w / t["games"]).sum())
            s2 = max(var - noise, m * m / 50 + 1e-6)  # at most 50 games' worth of prior weight
            priors[name][stat] = {"alpha": m * m / s2 if m > 0 else 0.01, "beta": m / s2 if m > 0 else 1.0}
    return priors


def project(prior: dict, games: float, total: float, remaining: float) -> dict:
    """Posterior-predictive mean and central LEVEL interval of the stat over `remaining` games."""
    a, b = prior["alpha"] + total, prior["beta"] + games
    rate = a / b
    if remaining <= 0:
        return {"rate": rate, "mean": 0.0, "low": 0.0, "high": 0.0}
    p = b / (b + remaining)
    q = (1 - LEVEL) / 2
    return {"rate": rate, "mean": rate * remaining, "low": nbinom_ppf(q, a, p), "high": nbinom_ppf(1 - q, a, p)}


def backtest(roster: pd.DataFrame) -> dict:
    err = {s: [] for s in STATS}
    naive_err = {s: [] for s in STATS}
    cover = {s: [] for s in STATS}
    naive_cover = {s: [] for s in STATS}
    q = (1 - LEVEL) / 2
    for season, r in roster.groupby("season_id"):
        dates = np.sort(r["date"].unique())
        if len(dates) < 4:
            continue
        cut = dates[len(dates) // 2]
        first, second = player_totals(r[r["date"] < cut]), player_totals(r[r["date"] >= cut])
        both = first.join(second.add_suffix("_2"), how="inner")
        priors = fit_priors(first)
        for pid, row in both.iterrows():
            prior_set = priors.get(row["position"], priors["league"])
            for stat in STATS:
                pr = project(prior_set[stat], row["games"], row[stat], row["games_2"])
                actual = row[f"{stat}_2"]
                naive = row[stat] / row["games"] * row["games_2"]
                err[stat].append(abs(pr["mean"] - actual))
                naive_err[stat].append(abs(naive - actual))
                cover[stat].append(pr["low"] <= actual <= pr["high"])
                naive_cover[stat].append(poisson.ppf(q, naive) <= actual <= poisson.ppf(1 - q, naive))
    n = len(err["goals"])
    if not n:
        return {"held_out_player_halves": 0, "baselines": {}}
    model = {f"{s}_mae": round(float(np.mean(err[s])), 4) for s in STATS}
    model.update({f"{s}_coverage_80": round(float(np.mean(cover[s])), 4) for s in STATS})
    naive = {f"{s}_mae": round(float(np.mean(naive_err[s])), 4) for s in STATS}
    naive.update({f"{s}_coverage_80": round(float(np.mean(naive_cover[s])), 4) for s in STATS})
    return {"held_out_player_halves": n, "model": model, "baselines": {"season-to-date rate": naive}}


def train(roster: pd.DataFrame, games: pd.DataFrame) -> Model:
    result = backtest(roster)
    m, b = result.get("model"), result["baselines"].get("season-to-date rate")
    beats = bool(m) and all(m[f"{s}_mae"] < b[f"{s}_mae"] for s in STATS)
    seasons = {}
    for season, r in roster.groupby("season_id"):
        t = player_totals(r)
        team = r.sort_values("date").groupby("player_id")["team_id"].last()
        seasons[season] = {pid: {"games": int(row["games"]), "goals": float(row["goals"]),
                                 "assists": float(row["assists"]), "points": float(row["points"]),
                                 "position": row["position"], "team_id": team[pid]} for pid, row in t.iterrows()}
    unplayed = games[~games["played"] & (games["game_type"] == REGULAR)]
    remaining = {}
    for side in ("home_team_id", "away_team_id"):
        for (season, team), n in unplayed.groupby(["season_id", side]).size().items():
            remaining.setdefault(season, {}).setdefault(team, 0)
            remaining[season][team] += int(n)
    latest = roster.sort_values("date").groupby("player_id")["season_id"].last().to_dict()
    params = {"priors": fit_priors(player_totals(roster)), "seasons": seasons, "remaining_games": remaining,
              "latest_season": latest, "level": LEVEL}
    return Model(NAME, params, {"interval": LEVEL, "min_players_per_position_prior": MIN_PLAYERS},
                 result, beats, int(len(roster)), frame_hash(roster),
                 notes="Gamma-Poisson empirical Bayes per position; negative-binomial intervals")


def predict(params: dict, player_id: str, season_id: str, games_remaining: int | None) -> dict:
    season = params["seasons"].get(season_id)
    if season is None:
        raise UnknownEntity(f"season {season_id!r} has no scoresheet lines in the model's data")
    line = season.get(player_id)
    if line is None:
        raise UnknownEntity(f"player {player_id!r} has no games as a skater in season {season_id!r}")
    if games_remaining is None:
        games_remaining = params["remaining_games"].get(season_id, {}).get(line["team_id"], 0)
    if games_remaining < 0:
        raise InvalidInput("games_remaining cannot be negative")
    prior_set = params["priors"].get(line["position"], params["priors"]["league"])
    out = {"games_played": line["games"], "games_remaining": int(games_remaining), "position": line["position"]}
    for stat in STATS:
        out[stat] = project(prior_set[stat], line["games"], line[stat], games_remaining)
    return out
