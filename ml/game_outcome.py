"""Game outcome: a Poisson team-strength model with home advantage and time decay (Maher 1982; Dixon and
Coles 1997 for the time weights).

Goals of the home team ~ Poisson(exp(mu + home + attack[home] + defence[away])), of the away team
~ Poisson(exp(mu + attack[away] + defence[home])); games weigh exp(-ln 2 * age / half_life) and a ridge
penalty pulls every team toward the league average (so a new team starts at 0). Outcome probabilities
(home win / tie / away win) come from the two Poisson distributions. Backtest: walk forward by date over the
held-out seasons, refitting before each game day on everything earlier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from ml import metrics
from ml.distributions import poisson_pmf
from ml.frames import outcome_codes
from ml.model import Model, UnknownEntity, frame_hash

NAME = "game_outcome"
MAX_GOALS = 20
# Teams are re-drafted every season, so a team's strength is per season (team_id|season_id): a ridge pulls
# each team-season toward the league average until its games say otherwise.
GRID = [{"half_life_days": 365.0, "ridge": r} for r in (25.0, 10.0, 60.0)]  # the first: without a validation season


def team_key(team: pd.Series | str, season: pd.Series | str):
    return team + "|" + season


@dataclass
class Strengths:
    teams: list[str]
    mu: float
    home: float
    attack: np.ndarray
    defence: np.ndarray

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.teams)}

    def rates(self, home_team: str, away_team: str, season_id: str) -> tuple[float, float]:
        """Expected goals of both teams in season_id (a team-season the model has seen)."""
        index = self.index
        for t in (home_team, away_team):
            if team_key(t, season_id) not in index:
                raise UnknownEntity(f"team {t!r} has no games in season {season_id!r} in the model's data")
        h, a = index[team_key(home_team, season_id)], index[team_key(away_team, season_id)]
        return (float(np.exp(self.mu + self.home + self.attack[h] + self.defence[a])),
                float(np.exp(self.mu + self.attack[a] + self.defence[h])))


def fit(games: pd.DataFrame, as_of: pd.Timestamp, half_life_days: float, ridge: float, home_ridge: float = 0.0,
        ) -> Strengths:
    """Maximise the time-weighted Poisson likelihood minus the ridge penalty (L-BFGS, exact gradient)."""
    home_keys, away_keys = team_key(games["home_team_id"], games["season_id"]), team_key(games["away_team_id"], games["season_id"])
    teams = sorted(set(home_keys) | set(away_keys))
    index = {t: i for i, t in enumerate(teams)}
    h = home_keys.map(index).to_numpy()
    a = away_keys.map(index).to_numpy()
    gh = games["home_goals"].to_numpy(float)
    ga = games["away_goals"].to_numpy(float)
    age = (as_of - games["date"]).dt.days.to_numpy(float)
    w = np.exp(-np.log(2) * np.maximum(age, 0) / half_life_days)
    n = len(teams)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        mu, home, att, dfn = x[0], x[1], x[2:2 + n], x[2 + n:]
        eta_h = mu + home + att[h] + dfn[a]
        eta_a = mu + att[a] + dfn[h]
        lh, la = np.exp(eta_h), np.exp(eta_a)
        nll = np.sum(w * (lh - gh * eta_h)) + np.sum(w * (la - ga * eta_a))
        nll += ridge * (att @ att + dfn @ dfn) / 2 + home_ridge * home * home / 2
        rh, ra = w * (lh - gh), w * (la - ga)
        g = np.zeros_like(x)
        g[0] = rh.sum() + ra.sum()
        g[1] = rh.sum()
        g_att = np.bincount(h, rh, n) + np.bincount(a, ra, n)
        g_def = np.bincount(a, rh, n) + np.bincount(h, ra, n)
        g[1] += home_ridge * home
        g[2:2 + n] = g_att + ridge * att
        g[2 + n:] = g_def + ridge * dfn
        return nll, g

    x0 = np.zeros(2 + 2 * n)
    x0[0] = np.log(max((gh.mean() + ga.mean()) / 2, 0.1))
    res = minimize(objective, x0, jac=True, method="L-BFGS-B")
    x = res.x
    return Strengths(teams, float(x[0]), float(x[1]), x[2:2 + n], x[2 + n:])


def outcome_probs(lh: float | np.ndarray, la: float | np.ndarray) -> np.ndarray:
    """(n, 3) probabilities of home win, tie, away win for independent Poisson goals."""
    lh, la = np.atleast_1d(lh), np.atleast_1d(la)
    k = np.arange(MAX_GOALS + 1)
    ph = poisson_pmf(k[None, :], lh[:, None])
    pa = poisson_pmf(k[None, :], la[:, None])
    joint = ph[:, :, None] * pa[:, None, :]
    home = np.tril(np.ones((len(k), len(k))), -1)
    tie = np.eye(len(k))
    p = np.column_stack([(joint * home).sum((1, 2)), (joint * tie).sum((1, 2)), (joint * home.T).sum((1, 2))])
    return p / p.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------------------------------------ baselines

def league_rates(past: pd.DataFrame) -> np.ndarray:
    """Baseline 1: the league's home win / tie / away win rates so far (Laplace-smoothed)."""
    counts = np.bincount(outcome_codes(past), minlength=3) + 1.0
    return counts / counts.sum()


def points_pct_probs(past: pd.DataFrame, day: pd.DataFrame) -> np.ndarray:
    """Baseline 2: season-to-date points % (2 a win, 1 a tie; +1 point of 2 as a prior), turned into odds
    with the league's home share of decisive games, and the league tie rate."""
    rates = league_rates(past)
    home_share = rates[0] / (rates[0] + rates[2])
    season = past[past["season_id"].isin(day["season_id"].unique())]
    d = (season["home_goals"] - season["away_goals"]).to_numpy()
    long = pd.DataFrame({
        "key": np.concatenate([team_key(season["home_team_id"], season["season_id"]),
                               team_key(season["away_team_id"], season["season_id"])]),
        "pts": np.concatenate([np.where(d > 0, 2, np.where(d == 0, 1, 0)), np.where(d < 0, 2, np.where(d == 0, 1, 0))]),
    })
    table = long.groupby("key")["pts"].agg(["sum", "size"])
    pct = ((table["sum"] + 1.0) / (2.0 * table["size"] + 2.0)).to_dict()
    ph = team_key(day["home_team_id"], day["season_id"]).map(pct).fillna(0.5).to_numpy()
    pa = team_key(day["away_team_id"], day["season_id"]).map(pct).fillna(0.5).to_numpy()
    dec = home_share * ph / (home_share * ph + (1 - home_share) * pa)
    return np.column_stack([(1 - rates[1]) * dec, np.full(len(day), rates[1]), (1 - rates[1]) * (1 - dec)])


# -------------------------------------------------------------------------------------------------- backtest

def season_split(games: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Seasons by first date: the second is the validation season (hyperparameters), the third on are
    held out; the first only trains. Seasons of fewer than 10 games (a summer one-off) are in neither."""
    sizes = games.groupby("season_id").size()
    order = [s for s in games.groupby("season_id")["date"].min().sort_values().index if sizes[s] >= 10]
    if len(order) < 3:  # too few seasons to spare one for validation: the grid's first entry is used
        return [], order[1:]
    return order[1:2], order[2:]


def walk_forward(games: pd.DataFrame, seasons: list[str], hyper: dict) -> dict:
    """Predict every game of `seasons` from all games before its date; model and baselines side by side."""
    played = games[games["played"]]
    target = played[played["season_id"].isin(seasons)]
    probs, base_league, base_points, ys, lams = [], [], [], [], []
    for day, todays in target.groupby("date", sort=True):
        past = played[played["date"] < day]
        if len(past) < 20:
            continue
        st = fit(past, day, **hyper)
        lh, la = np.array([_rates_or_league(st, team_key(g.home_team_id, g.season_id),
                                            team_key(g.away_team_id, g.season_id)) for g in todays.itertuples()]).T
        probs.append(outcome_probs(lh, la))
        base_league.append(np.tile(league_rates(past), (len(todays), 1)))
        base_points.append(points_pct_probs(past, todays))
        ys.append(outcome_codes(todays))
        lams.append(np.column_stack([lh, la, todays["home_goals"], todays["away_goals"]]))
    if not ys:
        return {"held_out_games": 0, "baselines": {}}
    y = np.concatenate(ys)
    p = np.concatenate(probs)
    lam = np.concatenate(lams)
    return {
        "held_out_games": int(len(y)),
        "model": {**metrics.summary(p, y),
                  "goals_mae": round(float(np.mean(np.abs(lam[:, :2] - lam[:, 2:]))), 4)},
        "baselines": {"league home/away/tie rates": metrics.summary(np.concatenate(base_league), y),
                      "season-to-date points %": metrics.summary(np.concatenate(base_points), y)},
        "calibration_home_win": metrics.calibration(p[:, 0], (y == 0).astype(int), bins=10),
        "_probs": p, "_y": y,
    }


def _rates_or_league(st: Strengths, home: str, away: str) -> tuple[float, float]:
    """A team without earlier games plays at the league average (strength 0)."""
    index = st.index
    ah = st.attack[index[home]] if home in index else 0.0
    dh = st.defence[index[home]] if home in index else 0.0
    aa = st.attack[index[away]] if away in index else 0.0
    da = st.defence[index[away]] if away in index else 0.0
    return float(np.exp(st.mu + st.home + ah + da)), float(np.exp(st.mu + aa + dh))


def beats(result: dict) -> bool:
    m = result.get("model")
    if not m:
        return False
    return all(m["log_loss"] < b["log_loss"] and m["brier"] < b["brier"] for b in result["baselines"].values())


# ------------------------------------------------------------------------------------------------ train/serve

def train(games: pd.DataFrame, grid: list[dict] = GRID) -> tuple[Model, dict]:
    """Choose the penalties on the validation season, report the held-out seasons, fit on all games."""
    played = games[games["played"]]
    validation, test = season_split(played)
    tried = []
    for hyper in grid:
        r = walk_forward(played, validation, hyper) if validation else {}
        tried.append({**hyper, "validation_log_loss": r["model"]["log_loss"] if r.get("model") else None})
    scored = [t for t in tried if t["validation_log_loss"] is not None]
    best = min(scored, key=lambda t: t["validation_log_loss"]) if scored else {**grid[0]}
    hyper = {k: best[k] for k in grid[0]}
    result = walk_forward(played, test, hyper)
    as_of = played["date"].max()
    st = fit(played, as_of, **hyper)
    params = {"teams": st.teams, "mu": st.mu, "home": st.home, "attack": st.attack.tolist(),
              "defence": st.defence.tolist(), "as_of": as_of.date().isoformat(), "max_goals": MAX_GOALS,
              "latest_season": {t: s for t, s in _latest_seasons(played).items()}}
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    public.update(validation_seasons=validation, test_seasons=test, hyperparameter_search=tried)
    model = Model(NAME, params, hyper, public, beats(result), int(len(played)),
                  frame_hash(played.drop(columns=["played"])),
                  notes="Poisson team-season strengths (attack, defence) and home advantage, ridge-shrunk")
    return model, result


def _latest_seasons(played: pd.DataFrame) -> dict[str, str]:
    """Each team's latest season (the default season of a prediction)."""
    long = pd.concat([played[["home_team_id", "season_id", "date"]].set_axis(["team", "season_id", "date"], axis=1),
                      played[["away_team_id", "season_id", "date"]].set_axis(["team", "season_id", "date"], axis=1)])
    return long.sort_values("date").groupby("team")["season_id"].last().to_dict()


def load(params: dict) -> Strengths:
    return Strengths(params["teams"], params["mu"], params["home"], np.array(params["attack"]),
                     np.array(params["defence"]))


def predict(st: Strengths, home_team_id: str, away_team_id: str, season_id: str) -> dict:
    lh, la = st.rates(home_team_id, away_team_id, season_id)
    p = outcome_probs(lh, la)[0]
    total = lh + la
    line = np.floor(total) + 0.5
    over = float(1 - poisson_pmf(np.arange(np.floor(total) + 1), total).sum())
    return {"home_win_probability": float(p[0]), "tie_probability": float(p[1]),
            "away_win_probability": float(p[2]), "predicted_home_goals": lh, "predicted_away_goals": la,
            "predicted_total_goals": total, "over_under_line": float(line), "over_probability": over,
            "under_probability": 1 - over}
