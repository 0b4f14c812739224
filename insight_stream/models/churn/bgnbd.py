"""BG/NBD ("beta-geometric / negative binomial") model of repeat buying.

Fader, Hardie & Lee (2005), "Counting your customers the easy way". While alive a
customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase they
drop out with probability p ~ Beta(a, b). Everything a customer tells the model is
(x, t_x, T): repeat transactions, time of the last one and age, all measured from
the first purchase. So the per-user state is O(1) and the population params are a
4-parameter maximum-likelihood fit over those triples.

Scalar functions (``p_alive``, ``expected_purchases``, ``p_no_purchase``) run per
customer when a score is needed; the vectorised log-likelihood runs at refit time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

Params = tuple[float, float, float, float]
"""(r, alpha, a, b)."""

_MAX_EXP = 700.0
_NEUTRAL: Params = (1.0, 1.0, 1.0, 1.0)


def p_alive(params: Params, x: float, t_x: float, T: float) -> float:
    """P(alive | x, t_x, T): probability the customer has not dropped out.

    A customer without repeat purchases cannot have dropped out (drop-outs happen
    right after a purchase), so BG/NBD gives 1 whatever their age.

    >>> round(p_alive((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86), 4)
    0.7266
    >>> round(p_alive((0.243, 4.414, 0.793, 2.426), 2, 5.0, 38.86), 4)
    0.1237
    >>> p_alive((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86)
    1.0
    """
    return p_alive_at(params, x, t_x)(T)


def p_alive_at(params: Params, x: float, t_x: float) -> Callable[[float], float]:
    """:func:`p_alive` as a function of the age ``T`` alone, its other terms computed once
    (an inactivity timer probes one customer at several ages).

    >>> round(p_alive_at((0.243, 4.414, 0.793, 2.426), 2, 30.43)(38.86), 4)
    0.7266
    """
    if x <= 0:
        return _always_alive
    r, alpha, a, b = params
    odds, power, at_last = math.log(a / (b + x - 1)), r + x, alpha + t_x
    log, exp = math.log, math.exp

    def at(T: float) -> float:
        return 1.0 / (1.0 + exp(min(odds + power * log((alpha + T) / at_last), _MAX_EXP)))

    return at


def _always_alive(T: float) -> float:
    return 1.0


def expected_purchases(params: Params, t: float, x: float, t_x: float, T: float) -> float:
    """E[X(T, T + t) | x, t_x, T]: expected transactions in the next ``t`` time units.

    >>> round(expected_purchases((0.243, 4.414, 0.793, 2.426), 39, 2, 30.43, 38.86), 4)
    1.226
    >>> expected_purchases((0.243, 4.414, 0.793, 2.426), 0, 2, 30.43, 38.86)
    0.0
    """
    if t <= 0:
        return 0.0
    r, alpha, a, b = params
    if abs(a - 1.0) < 1e-9:  # the closed form has a removable singularity at a = 1
        a = 1.0 + 1e-9
    ratio = math.exp(min((r + x) * math.log((alpha + T) / (alpha + T + t)), _MAX_EXP))
    h = float(hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + T + t)))
    numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - ratio * h)
    if x > 0:
        odds = math.exp(min((r + x) * math.log((alpha + T) / (alpha + t_x)), _MAX_EXP))
        return max(numerator / (1.0 + a / (b + x - 1.0) * odds), 0.0)
    return max(numerator, 0.0)


def p_no_purchase(params: Params, t: float, x: float, t_x: float, T: float) -> float:
    """P(no transaction in the next ``t``): dead, or alive with no Poisson arrival.

    Given alive at T, lambda's posterior is Gamma(r + x, alpha + T), hence
    E[exp(-lambda t)] = ((alpha + T) / (alpha + T + t)) ** (r + x).

    >>> round(p_no_purchase((0.243, 4.414, 0.793, 2.426), 39, 2, 30.43, 38.86), 4)
    0.4454
    """
    alive = p_alive(params, x, t_x, T)
    r, alpha, _, _ = params
    return 1.0 - alive + alive * ((alpha + T) / (alpha + T + t)) ** (r + x)


def log_likelihood(
    params: Sequence[float],
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    weights: np.ndarray | None = None,
) -> float:
    """Total BG/NBD log-likelihood of customers (x, t_x, T), optionally weighted counts.

    >>> x, t_x, T = np.array([0, 2]), np.array([0.0, 30.43]), np.array([38.86, 38.86])
    >>> round(log_likelihood((0.243, 4.414, 0.793, 2.426), x, t_x, T), 4)
    -10.0133
    """
    r, alpha, a, b = params
    base = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + betaln(a, b + x)
        - betaln(a, b)
        - (r + x) * np.log(alpha + T)
    )
    repeat = x > 0
    # log(1 + delta(x>0) * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)), stable via logaddexp
    log_odds = np.where(
        repeat,
        np.log(a)
        - np.log(b + np.maximum(x, 1) - 1.0)
        + (r + x) * np.log((alpha + T) / (alpha + t_x)),
        -np.inf,
    )
    per_customer = base + np.logaddexp(0.0, log_odds)
    if weights is not None:
        return float(np.dot(per_customer, weights))
    return float(per_customer.sum())


def fit(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    start: Params = (0.243, 4.414, 0.793, 2.426),
    weights: np.ndarray | None = None,
) -> Params:
    """Maximum-likelihood (r, alpha, a, b) over customers' (x, t_x, T).

    Optimises the log-params (so they stay positive) with L-BFGS-B from ``start``
    (the current params when refitting) and from a neutral point, keeping the better
    optimum: a warm start alone can stay in a degenerate corner (a -> 0, b -> inf)
    that early, drop-out-free data favoured. Falls back to Nelder-Mead.
    Raises ``ValueError`` if the optimum is not finite.

    >>> rng = np.random.default_rng(7)
    >>> x, t_x, T = simulate((0.5, 6.0, 0.7, 3.0), 3000, 52.0, rng)
    >>> [round(v, 1) for v in fit(x, t_x, T)]
    [0.5, 6.7, 0.7, 3.4]
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))

    def loss(theta: np.ndarray) -> float:
        value = -log_likelihood(np.exp(theta), x, t_x, T, weights)
        return value if math.isfinite(value) else 1e300

    simplex = {"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-9}
    bounds = [(-12.0, 12.0)] * 4
    best = None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for begin in dict.fromkeys((tuple(start), _NEUTRAL)):
            res = minimize(loss, np.log(begin), method="L-BFGS-B", bounds=bounds)
            if res.success and (best is None or res.fun < best.fun):
                best = res
        if best is None:  # no quasi-Newton run converged: the simplex does not get stuck
            res = minimize(loss, np.log(start), method="Nelder-Mead", options=simplex)
            best = minimize(loss, res.x, method="L-BFGS-B", bounds=bounds)
    res = best
    theta = res.x
    if not np.all(np.isfinite(theta)) or loss(theta) >= 1e300:
        raise ValueError("BG/NBD fit did not converge to a finite optimum")
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return (r, alpha, a, b)


def simulate(
    params: Params, n: int, T: float | np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (x, t_x, T) for ``n`` customers observed for ``T`` after their first purchase.

    Used to check that :func:`fit` recovers known params.

    >>> x, t_x, T = simulate((0.243, 4.414, 0.793, 2.426), 5, 39.0, np.random.default_rng(0))
    >>> x.shape, bool((t_x <= T).all())
    ((5,), True)
    """
    r, alpha, a, b = params
    ages = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    xs = np.zeros(n)
    last = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam[i]) if lam[i] > 0 else math.inf
            if t > ages[i]:
                break
            xs[i] += 1
            last[i] = t
            if rng.random() < p[i]:
                break
    return xs, last, ages
