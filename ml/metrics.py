"""Scores for probabilistic predictions, the same for every model and baseline."""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def log_loss(probs: np.ndarray, outcomes: np.ndarray) -> float:
    """Mean negative log probability of what happened; probs is (n, k) for k classes (or (n,) for binary)."""
    p = np.asarray(probs, float)
    y = np.asarray(outcomes, int)
    if p.ndim == 1:
        p = np.column_stack([1 - p, p])
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], EPS, 1.0))))


def brier(probs: np.ndarray, outcomes: np.ndarray) -> float:
    """Mean squared distance between the probability vector and the one-hot outcome (summed over classes)."""
    p = np.asarray(probs, float)
    y = np.asarray(outcomes, int)
    if p.ndim == 1:
        return float(np.mean((p - y) ** 2))
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def calibration(probs: np.ndarray, outcomes: np.ndarray, bins: int = 5) -> list[dict]:
    """Predicted vs observed rate in quantile bins of the predicted probability (binary)."""
    p, y = np.asarray(probs, float), np.asarray(outcomes, float)
    if not len(p):
        return []
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    out = []
    for b in np.unique(idx):
        m = idx == b
        out.append({"n": int(m.sum()), "predicted": float(p[m].mean()), "observed": float(y[m].mean())})
    return out


def summary(probs: np.ndarray, outcomes: np.ndarray) -> dict:
    return {"log_loss": round(log_loss(probs, outcomes), 4), "brier": round(brier(probs, outcomes), 4)}
