"""Playoff probability: Monte Carlo of the rest of a regular season with the game-outcome model.

Standings count 2 points a win and 1 a tie; the top K teams by points (random tie-break) make the playoffs,
K being the number of teams in that season's playoff games (or the median of earlier seasons while a season
has none yet). Every remaining regular-season game is drawn from the game-outcome model's probabilities
(team-season strengths fitted on games before `as_of`). Backtest: each past season with known playoff teams
from its middle date, Brier score beside the standings at that date (top K in, others out) and the constant
K / teams.

In the league's data so far every team of a season plays in its playoffs (K = teams), so the playoff
probability is 1 for every team and cannot be scored; the same simulation also gives each team's chance of
finishing first in the regular season (the top seed), which is what the backtest scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import game_outcome
from ml.frames import REGULAR
from ml.model import InvalidInput, Model, UnknownEntity, frame_hash

NAME = "playoff_probability"
SIMULATIONS = 5000
SCHEDULE_COLUMNS = ("game_id", "season_id", "date", "game_type", "home_team_id", "away_team_id", "home_goals",
                    "away_goals", "played")


def schedule_frame(params: dict) -> pd.DataFrame:
    """The schedule stored with the model, back as a games frame."""
    g = pd.DataFrame(params["schedule"])
    g["date"] = pd.to_datetime(g["date"])
    return g


def playoff_teams(games: pd.DataFrame) -> dict[str, list[str]]:
    po = games[games["game_type"] != REGULAR]
    return {s: sorted(set(g["home_team_id"]) | set(g["away_team_id"])) for s, g in po.groupby("season_id")}


def spots(games: pd.DataFrame, season_id: str) -> int:
    known = playoff_teams(games)
    if season_id in known:
        return len(known[season_id])
    return int(np.median([len(t) for t in known.values()])) if known else 0


def simulate(regular: pd.DataFrame, st: game_outcome.Strengths, as_of: pd.Timestamp, k: int,
             sims: int = SIMULATIONS, seed: int = 0) -> dict[str, dict]:
    """P(top k), P(first) and mean rank per team of one season's regular games; games before as_of count
    as played."""
    teams = sorted(set(regular["home_team_id"]) | set(regular["away_team_id"]))
    idx = {t: i for i, t in enumerate(teams)}
    done = regular[(regular["date"] < as_of) & regular["played"]]
    todo = regular[(regular["date"] >= as_of) | ~regular["played"]]
    base = np.zeros(len(teams))
    for g in done.itertuples():
        d = g.home_goals - g.away_goals
        base[idx[g.home_team_id]] += 2 if d > 0 else (1 if d == 0 else 0)
        base[idx[g.away_team_id]] += 2 if d < 0 else (1 if d == 0 else 0)
    pts = np.tile(base, (sims, 1))
    if len(todo):
        lam = np.array([game_outcome._rates_or_league(st, game_outcome.team_key(g.home_team_id, g.season_id),
                                                      game_outcome.team_key(g.away_team_id, g.season_id))
                        for g in todo.itertuples()])
        p = game_outcome.outcome_probs(lam[:, 0], lam[:, 1])
        u = np.random.default_rng(seed).random((sims, len(todo)))
        home_win, tie = u < p[:, 0], (u >= p[:, 0]) & (u < p[:, 0] + p[:, 1])
        h = todo["home_team_id"].map(idx).to_numpy()
        a = todo["away_team_id"].map(idx).to_numpy()
        for j in range(len(todo)):
            pts[:, h[j]] += np.where(home_win[:, j], 2, np.where(tie[:, j], 1, 0))
            pts[:, a[j]] += np.where(home_win[:, j], 0, np.where(tie[:, j], 1, 2))
    jitter = np.random.default_rng(seed + 1).random(pts.shape) * 0.5
    rank = np.argsort(np.argsort(-(pts + jitter), axis=1), axis=1)
    made, first, mean_rank = (rank < k).mean(axis=0), (rank == 0).mean(axis=0), rank.mean(axis=0) + 1
    return {t: {"playoffs": float(made[i]) if k else None, "first": float(first[i]), "mean_rank": float(mean_rank[i])}
            for i, t in enumerate(teams)}


def backtest(games: pd.DataFrame, hyper: dict) -> dict:
    known = playoff_teams(games)
    played = games[games["played"]]
    ys, ps, stand, const = [], [], [], []
    for season, teams_in in known.items():
        regular = games[(games["season_id"] == season) & (games["game_type"] == REGULAR)]
        dates = np.sort(regular["date"].unique())
        if len(dates) < 4:
            continue
        as_of = pd.Timestamp(dates[len(dates) // 2])
        past = played[played["date"] < as_of]
        if len(past) < 20:
            continue
        st = game_outcome.fit(past, as_of, **hyper)
        k = len(teams_in)
        prob = simulate(regular, st, as_of, k, sims=2000)
        now = simulate(regular[regular["date"] < as_of], st, as_of, k, sims=200)  # standings at as_of
        final = simulate(regular, st, regular["date"].max() + pd.Timedelta(days=1), k, sims=200)
        for t, p in prob.items():
            ys.append(final[t]["first"])
            ps.append(p["first"])
            stand.append(now.get(t, {"first": 0.0})["first"])
            const.append(1 / len(prob))
    if not ys:
        return {"held_out_team_seasons": 0, "baselines": {}}
    y = np.array(ys, float)  # shared first places are split by the random tie-break
    b = lambda p: round(float(np.mean((np.array(p) - y) ** 2)), 4)
    return {"held_out_team_seasons": int(len(y)), "target": "finishes first in the regular season",
            "model": {"brier": b(ps)},
            "baselines": {"standings at mid-season": {"brier": b(stand)}, "1 / teams": {"brier": b(const)}}}


def train(games: pd.DataFrame, outcome: Model) -> Model:
    result = backtest(games, outcome.hyperparameters)
    m = result.get("model")
    beats = bool(m) and all(m["brier"] < v["brier"] for v in result["baselines"].values())
    seasons = sorted(games["season_id"].dropna().unique())
    schedule = games[list(SCHEDULE_COLUMNS)].assign(date=games["date"].dt.date.astype(str))
    params = {"spots": {s: spots(games, s) for s in seasons}, "simulations": SIMULATIONS,
              "game_outcome_hash": outcome.data_hash, "schedule": schedule.to_dict(orient="list")}
    return Model(NAME, params, {"simulations": SIMULATIONS, "points": {"win": 2, "tie": 1}}, result, beats,
                 int(games["played"].sum()), frame_hash(games.drop(columns=["played"])),
                 notes="Monte Carlo of the remaining regular season with the game-outcome model")


def predict(params: dict, games: pd.DataFrame, st: game_outcome.Strengths, team_id: str, season_id: str,
            as_of: str | None = None) -> dict:
    regular = games[(games["season_id"] == season_id) & (games["game_type"] == REGULAR)]
    if not len(regular):
        raise UnknownEntity(f"season {season_id!r} has no regular-season games")
    if team_id not in set(regular["home_team_id"]) | set(regular["away_team_id"]):
        raise UnknownEntity(f"team {team_id!r} plays no regular-season game in season {season_id!r}")
    try:
        when = pd.Timestamp(as_of) if as_of else regular["date"].max() + pd.Timedelta(days=1)
    except ValueError:
        raise InvalidInput(f"as_of {as_of!r} is not a date") from None
    remaining = regular[(regular["date"] >= when) | ~regular["played"]]
    k = params["spots"].get(season_id) or spots(games, season_id)  # 0: no season has had playoffs yet
    probs = simulate(regular, st, when, k, sims=params["simulations"])
    return {"playoff_probability": probs[team_id]["playoffs"], "first_place_probability": probs[team_id]["first"],
            "expected_rank": probs[team_id]["mean_rank"], "playoff_spots": k, "teams": len(probs),
            "remaining_games": int(len(remaining)), "as_of": when.date().isoformat(), "all_teams": probs}
