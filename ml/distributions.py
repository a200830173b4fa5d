"""The few distributions the models answer with, as numpy over scipy.special (the scipy.stats wrappers cost
about a millisecond a call in argument checks, which the API's latency budget cannot spend)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln


def poisson_pmf(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """P(X = k) for X ~ Poisson(lam), broadcasting k against lam."""
    lam = np.maximum(np.asarray(lam, float), 1e-12)
    return np.exp(k * np.log(lam) - lam - gammaln(k + 1.0))


def margin_pmf(mu_home: np.ndarray, mu_away: np.ndarray, max_goals: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """The distribution of home minus away goals for independent Poisson counts (a Skellam distribution):
    (margins -max..max, (n, 2 max + 1) probabilities)."""
    k = np.arange(max_goals + 1)
    ph = poisson_pmf(k[None, :], np.atleast_1d(mu_home)[:, None])
    pa = poisson_pmf(k[None, :], np.atleast_1d(mu_away)[:, None])
    margins = np.arange(-max_goals, max_goals + 1)
    # P(H - A = d) = sum_a P(H = a + d) P(A = a): a convolution of ph with pa reversed
    out = np.array([np.convolve(h, a[::-1]) for h, a in zip(ph, pa)])
    return margins, out


def nbinom_ppf(q: float, r: float, p: float) -> float:
    """The smallest k with P(X <= k) >= q for X ~ NegBinomial(r, p) (failures before the r-th success)."""
    mean, var = r * (1 - p) / p, r * (1 - p) / (p * p)
    max_k = int(mean + 12 * np.sqrt(var) + 10)
    k = np.arange(max_k + 1)
    logpmf = gammaln(k + r) - gammaln(r) - gammaln(k + 1.0) + r * np.log(p) + k * np.log1p(-p)
    cdf = np.cumsum(np.exp(logpmf))
    idx = int(np.searchsorted(cdf, q - 1e-12))
    return float(min(idx, max_k))
