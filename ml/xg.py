"""Expected goals (xG) per tracked shot: an L2-regularised logistic regression on what the tracker records.

Features (stored with the coefficients): strength (even / special / unknown),
zone of the event, the league's danger label of the shot location (dim_rinkcoordzones; 'unknown' without
coordinates), rebound and rush flags, and distance and angle where coordinates exist (standardised, 0 plus a
'has_location' flag where they do not). The penalty is chosen by cross-validation grouped by game inside each
training fold (nested), and the out-of-fold predictions of leave-one-game-out are scored: log loss, Brier,
AUC and calibration, beside the base rate (the training folds' goal share).

Shot type is NOT a feature: the tracker records the type of a goal on its goal event, not on the shot (24 of
the 25 tracked goals have no shot type, against 2 of 551 other shots), so a shot-type feature would read the
outcome off a missing value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import metrics
from ml.model import Model, frame_hash

NAME = "xg"
CATEGORIES = {
    "strength": ["even", "special", "unknown"],
    "zone": ["offensive", "other", "unknown"],
    "danger": ["high", "mid", "low", "unknown"],
}
FLAGS = ("rebound", "rush")
NUMERIC = ("distance_ft", "angle_deg")
C_GRID = (0.03, 0.3, 3.0)
INNER_FOLDS = 3


def feature_spec(shots: pd.DataFrame) -> dict:
    """The design: one-hot levels (first level dropped), flags, numeric means/scales from the training shots."""
    num = {}
    for c in NUMERIC:
        v = shots[c].dropna()
        num[c] = {"mean": float(v.mean()) if len(v) else 0.0, "scale": float(v.std()) if len(v) > 1 and v.std() > 0 else 1.0}
    return {"categories": CATEGORIES, "flags": list(FLAGS), "numeric": num}


def design(shots: pd.DataFrame, spec: dict) -> tuple[np.ndarray, list[str]]:
    cols, names = [], []
    for feat, levels in spec["categories"].items():
        values = shots[feat].astype(str).where(shots[feat].astype(str).isin(levels), levels[-1])
        for level in levels[1:]:
            cols.append((values == level).to_numpy(float))
            names.append(f"{feat}={level}")
    for flag in spec["flags"]:
        cols.append(shots[flag].to_numpy(float))
        names.append(flag)
    has = shots[list(spec["numeric"])].notna().all(axis=1).to_numpy(float)
    cols.append(has)
    names.append("has_location")
    for c, st in spec["numeric"].items():
        cols.append(np.nan_to_num((shots[c].to_numpy(float) - st["mean"]) / st["scale"]))
        names.append(c)
    return np.column_stack(cols), names


def _fit(X: np.ndarray, y: np.ndarray, C: float):
    from sklearn.linear_model import LogisticRegression  # training only: serving needs numpy alone

    return LogisticRegression(C=C, solver="newton-cholesky", max_iter=200).fit(X, y)


def _choose_c(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """The penalty with the best log loss over INNER_FOLDS folds of whole games."""
    best = (np.inf, C_GRID[0])
    games = np.unique(groups)
    fold_of = {g: i % INNER_FOLDS for i, g in enumerate(games)}
    folds = np.array([fold_of[g] for g in groups])
    for C in C_GRID:
        losses = []
        for f in range(min(INNER_FOLDS, len(games))):
            tr, te = folds != f, folds == f
            if y[tr].min() == y[tr].max():
                continue
            losses.append(metrics.log_loss(_fit(X[tr], y[tr], C).predict_proba(X[te])[:, 1], y[te]) * te.sum())
        score = np.sum(losses)
        if losses and score < best[0]:
            best = (score, C)
    return best[1]


def cross_validate(shots: pd.DataFrame) -> dict:
    y = shots["is_goal"].to_numpy(int)
    groups = shots["game_id"].to_numpy()
    games = np.unique(groups)
    if len(games) < 3 or y.sum() < 3:
        return {"held_out_shots": 0, "baselines": {}, "reason": "fewer than 3 tracked games or 3 goals"}
    oof, base = np.zeros(len(y)), np.zeros(len(y))
    for g in games:
        tr, te = groups != g, groups == g
        spec = feature_spec(shots[tr])
        X_tr, _ = design(shots[tr], spec)
        X_te, _ = design(shots[te], spec)
        C = _choose_c(X_tr, y[tr], groups[tr])
        oof[te] = _fit(X_tr, y[tr], C).predict_proba(X_te)[:, 1]
        base[te] = y[tr].mean()
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, oof)) if 0 < y.sum() < len(y) else None
    return {"held_out_shots": int(len(y)), "goals": int(y.sum()), "games": int(len(games)),
            "model": {**metrics.summary(oof, y), "auc": round(auc, 4) if auc is not None else None},
            "baselines": {"base rate": {**metrics.summary(base, y), "auc": 0.5}},
            "calibration": metrics.calibration(oof, y, bins=5), "_oof": oof, "_y": y}


def train(shots: pd.DataFrame) -> tuple[Model, dict]:
    result = cross_validate(shots)
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    m, b = result.get("model"), result["baselines"].get("base rate")
    beats = bool(m) and m["log_loss"] < b["log_loss"] and m["brier"] < b["brier"]
    y = shots["is_goal"].to_numpy(int)
    spec = feature_spec(shots)
    X, names = design(shots, spec)
    params: dict = {"spec": spec, "features": names}
    if len(y) and 0 < y.sum() < len(y):
        C = _choose_c(X, y, shots["game_id"].to_numpy())
        lr = _fit(X, y, C)
        params.update(intercept=float(lr.intercept_[0]), coef=lr.coef_[0].tolist(), C=C)
    else:
        C = None
        params.update(intercept=None, coef=None, C=None)
    params["base_rate"] = float(y.mean()) if len(y) else None
    model = Model(NAME, params, {"C_grid": list(C_GRID), "C": C,
                  "cv": f"leave-one-game-out; C chosen inside each fold by {INNER_FOLDS}-fold by game"},
                  public, beats, int(len(shots)),
                  frame_hash(shots[["game_id", "event_id", "is_goal", *CATEGORIES, *FLAGS, *NUMERIC]]),
                  notes="L2 logistic regression on strength, zone, danger, rebound, rush, distance, angle")
    return model, result


def predict(params: dict, shots: pd.DataFrame) -> np.ndarray:
    """xG of each shot from the stored coefficients (numpy only)."""
    if params.get("coef") is None:
        raise ValueError("the xG model has no coefficients (it was trained on too few shots)")
    X, _ = design(shots, params["spec"])
    z = params["intercept"] + X @ np.array(params["coef"])
    return 1 / (1 + np.exp(-z))


def predict_one(params: dict, shot: dict) -> float:
    """xG of one shot given as a dict of the feature columns (the API's path: no DataFrame)."""
    if params.get("coef") is None:
        raise ValueError("the xG model has no coefficients (it was trained on too few shots)")
    spec, x = params["spec"], []
    for feat, levels in spec["categories"].items():
        value = shot.get(feat) if shot.get(feat) in levels else levels[-1]
        x += [float(value == level) for level in levels[1:]]
    x += [float(shot.get(flag) or 0) for flag in spec["flags"]]
    located = all(shot.get(c) is not None for c in spec["numeric"])
    x.append(float(located))
    x += [(shot[c] - st["mean"]) / st["scale"] if located else 0.0 for c, st in spec["numeric"].items()]
    return float(1 / (1 + np.exp(-(params["intercept"] + np.dot(params["coef"], x)))))
