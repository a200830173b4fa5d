"""In-game win probability from the score, the period and the time left.

The goals still to come are two Poisson processes whose per-period rates (home and away, goals per second of
each regulation period) are fitted from the official per-period goals; the final margin is the current one
plus the difference of the remaining goals (a Skellam distribution). A game level after regulation is split
into tie / home win / away win by the shares the league's tied-after-regulation games ended with.
Backtest on the held-out seasons' states at the start and after periods 1 and 2, beside the league's
home/away/tie rates (ignores the score) and a score-state table (outcome frequencies by period and margin in
the training games).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import metrics
from ml.distributions import margin_pmf
from ml.frames import PERIODS, outcome_codes
from ml.game_outcome import league_rates, season_split
from ml.model import InvalidInput, Model, frame_hash

NAME = "win_probability"
MAX_MARGIN = 3  # the score-state table clips the margin to +-3


def _with_periods(games: pd.DataFrame) -> pd.DataFrame:
    cols = [f"{s}_p{p}" for s in ("home", "away") for p in PERIODS]
    g = games[games["played"]].dropna(subset=cols)
    return g[(g[cols[:3]].sum(axis=1) <= g["home_goals"]) & (g[cols[3:]].sum(axis=1) <= g["away_goals"])]


def fit(games: pd.DataFrame) -> dict:
    g = _with_periods(games)
    period_s = float(np.nanmedian(games["period_s"])) if games["period_s"].notna().any() else 1080.0
    rates = {side: [float(g[f"{side}_p{p}"].mean() / period_s) for p in PERIODS] for side in ("home", "away")}
    reg_h = g[[f"home_p{p}" for p in PERIODS]].sum(axis=1)
    reg_a = g[[f"away_p{p}" for p in PERIODS]].sum(axis=1)
    level = g[reg_h == reg_a]
    codes = np.bincount(outcome_codes(level), minlength=3) + np.array([0.5, 1.0, 0.5])  # prior: mostly ties stay
    return {"period_s": period_s, "rates": rates, "after_regulation_level": (codes / codes.sum()).tolist(),
            "games": int(len(g))}


def probs(params: dict, home_score, away_score, period, seconds_left) -> np.ndarray:
    """(n, 3) home win / tie / away win for game states (arrays or scalars)."""
    hs, as_, per, left = (np.atleast_1d(np.asarray(v, float)) for v in (home_score, away_score, period, seconds_left))
    P = params["period_s"]
    if np.any(hs < 0) or np.any(as_ < 0):
        raise InvalidInput("scores cannot be negative")
    if np.any((per < 1) | (per > len(PERIODS)) | (per != np.round(per))):
        raise InvalidInput(f"period must be 1..{len(PERIODS)} (regulation)")
    if np.any((left < 0) | (left > P)):
        raise InvalidInput(f"seconds left in the period must be 0..{P:g}")
    mu = {}
    for side in ("home", "away"):
        r = np.asarray(params["rates"][side], float)
        later = np.concatenate([np.cumsum(r[::-1])[::-1][1:], [0.0]]) * P  # goals expected in the periods after
        i = per.astype(int) - 1
        mu[side] = r[i] * left + later[i]
    margin = hs - as_
    k, pm = margin_pmf(mu["home"], mu["away"])
    final = margin[:, None] + k[None, :]
    win, tie, loss = (pm * (final > 0)).sum(1), (pm * (final == 0)).sum(1), (pm * (final < 0)).sum(1)
    split = np.array(params["after_regulation_level"])
    out = np.column_stack([win + tie * split[0], tie * split[1], loss + tie * split[2]])
    return out / out.sum(axis=1, keepdims=True)


def states(games: pd.DataFrame) -> pd.DataFrame:
    """The start of each game and the end of periods 1 and 2, with the score then and the final outcome."""
    g = _with_periods(games)
    rows = []
    for period in PERIODS:
        hs = g[[f"home_p{p}" for p in PERIODS if p < period]].sum(axis=1)
        as_ = g[[f"away_p{p}" for p in PERIODS if p < period]].sum(axis=1)
        rows.append(pd.DataFrame({"season_id": g["season_id"], "home_score": hs, "away_score": as_,
                                  "period": period, "outcome": outcome_codes(g)}))
    return pd.concat(rows, ignore_index=True)


def backtest(games: pd.DataFrame, test_seasons: list[str]) -> dict:
    train = games[~games["season_id"].isin(test_seasons)]
    test = games[games["season_id"].isin(test_seasons)]
    params = fit(train)
    st = states(test)
    if not len(st):
        return {"held_out_states": 0, "baselines": {}}
    y = st["outcome"].to_numpy()
    p = probs(params, st["home_score"], st["away_score"], st["period"], params["period_s"])
    tr = states(train)
    tr["m"] = (tr["home_score"] - tr["away_score"]).clip(-MAX_MARGIN, MAX_MARGIN)
    st["m"] = (st["home_score"] - st["away_score"]).clip(-MAX_MARGIN, MAX_MARGIN)
    table = {k: (np.bincount(v["outcome"], minlength=3) + 1.0) for k, v in tr.groupby(["period", "m"])}
    base_table = np.array([table.get((r.period, r.m), np.ones(3)) for r in st.itertuples()])
    base_table = base_table / base_table.sum(axis=1, keepdims=True)
    base_league = np.tile(league_rates(train[train["played"]]), (len(st), 1))
    by_period = {f"period_{per}": metrics.summary(p[st["period"] == per], y[st["period"] == per])
                 for per in PERIODS}
    return {"held_out_states": int(len(y)), "model": {**metrics.summary(p, y), "by_period_start": by_period},
            "baselines": {"league home/away/tie rates": metrics.summary(base_league, y),
                          "score-state table": metrics.summary(base_table, y)},
            "calibration_home_win": metrics.calibration(p[:, 0], (y == 0).astype(int), bins=5)}


def train(games: pd.DataFrame) -> Model:
    _, test = season_split(games[games["played"]])
    result = backtest(games, test)
    m = result.get("model")
    beats = bool(m) and all(m["log_loss"] < b["log_loss"] for b in result["baselines"].values())
    params = fit(games)
    return Model(NAME, params, {"max_margin_table": MAX_MARGIN}, {**result, "test_seasons": test}, beats,
                 params["games"], frame_hash(_with_periods(games).drop(columns=["played"])),
                 notes="Poisson scoring rates per period (home, away) from the official per-period goals")
