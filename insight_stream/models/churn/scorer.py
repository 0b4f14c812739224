"""Churn risk: a logistic blend of BG/NBD with recency, decayed activity and browsing.

BG/NBD alone ranks poorly: it calls every one-time buyer certainly alive, and it
ignores browsing. The blend reads features of one state snapshot (see
:func:`features`) and returns risk = P(no order in the next H days). Its weights
start hand-set and are then learned by ridge logistic regression on delayed labels
from the stream itself (see :class:`ChurnModel`), so the score adapts to the shop.
Each reason is backed by a fact and shown only when its features push risk up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import mul

import numpy as np

from insight_stream.models.churn.bgnbd import Params, p_alive_at
from insight_stream.models.churn.config import ChurnConfig
from insight_stream.models.churn.state import DAY_MS, Snapshot

_LN2 = math.log(2.0)

FEATURES: tuple[str, ...] = (
    "log_days_since_order",  # log1p(days since the last purchase)
    "log_repeat_days",  # log1p(x): repeat purchase days
    "one_time_buyer",  # x == 0 (BG/NBD's blind spot: it calls them surely alive)
    "log_bgnbd_dead",  # log(1 - P(alive) + 0.001)
    "never_ordered",
    "log_browse_silence",  # log1p(days since last click / usual click gap); orders if no clicks
    "log_decayed_browsing",  # recency-weighted count of click days
    "never_browsed",
    "log_days_since_event",  # log1p(days since the last event of any kind)
    "browsing_trend",  # log of recent browsing over what the lifetime rate predicts
)
_GROUPS: dict[str, tuple[int, ...]] = {
    "orders": (0, 1, 3),
    "one_time": (2,),
    "browsing": (5, 6, 8, 9),
}
N_FEATURES = len(FEATURES)

# Hand-set before the first learned fit (and whenever the matured labels hold too few
# churners to learn from): silence since the last event and fading browsing dominate;
# long order silences, few repeats, low P(alive) and stopped browsing add. Bias first.
# The older eight weights are halved and the bias re-centred so that risk is ~0.5 after
# about a month of silence at a steady browsing rate.
DEFAULT_WEIGHTS: tuple[float, ...] = (
    -13.0,
    0.1,
    -0.15,
    0.5,
    0.15,
    0.15,
    1.5,
    -0.15,
    0.0,
    3.0,
    -5.0,
)
DEFAULT_CENTER: tuple[float, ...] = (2.5, 0.5, 0.5, -1.0, 0.0, 1.0, 0.5, 0.0, 3.4, 0.0)


def features(
    s: Snapshot,
    now_day: int,
    params: Params,
    config: ChurnConfig,
    order_silence_fallback: bool = False,
) -> list[float]:
    """Feature vector of a state snapshot ``s`` seen at day ``now_day``.

    With ``order_silence_fallback``, customers without any clickstream get their
    browsing-silence features from their orders instead (silence against their own
    purchase rhythm). The hand-set default weights lean on browsing silence, so this
    keeps order-only customers scored sensibly before the blend has learned; the
    learned blend sees the plain features, which it can weigh itself.

    Only signals whose meaning does not drift with the customer's age: the blend
    is learned on younger snapshots than it scores (labels take H days to mature),
    and an age-dependent BG/NBD expectation ranked worse in that setting on CDNOW.

    >>> from insight_stream.models.churn.state import ChurnUser
    >>> u = ChurnUser()
    >>> u.first_day, u.last_day, u.x, u.value = 100, 130, 3, 80.0
    >>> f = features(u.snapshot(), 190, (0.243, 4.414, 0.793, 2.426), ChurnConfig())
    >>> [round(v, 2) for v in f]
    [4.11, 1.39, 0.0, -0.47, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    """
    return feature_curve(s, params, config, order_silence_fallback)(now_day)


def feature_curve(
    s: Snapshot, params: Params, config: ChurnConfig, order_silence_fallback: bool = False
) -> Callable[[int], list[float]]:
    """:func:`features` of ``s`` as a function of the day alone: everything that does not
    depend on the day is computed once (an inactivity timer bisects a customer's silence
    over several days; the values are the same as :func:`features`, bit for bit).

    The last feature, the browsing trend, is log((decayed click days + 0.5) / (what the
    lifetime rate would give + 0.5)): a steady customer scores ~0, one whose visits fade
    (a slow churner, still active lately but less and less) scores below 0 well before a
    long silence shows; 0 without clickstream. It reads the stored counters only.

    >>> from insight_stream.models.churn.state import ChurnUser
    >>> u = ChurnUser()
    >>> u.click_first_day, u.click_last_day, u.click_days = 0, 99, 100
    >>> u.click_decay = sum(0.5 ** (d / 30) for d in range(100))  # every day: steady
    >>> trend = feature_curve(u.snapshot(), (0.243, 4.414, 0.793, 2.426), ChurnConfig())
    >>> round(trend(99)[-1], 2), round(trend(129)[-1], 2)  # then a month quiet
    (0.0, -0.47)
    """
    first, last, x, _, _, click_first, click_last, click_days, click_decay, last_ts = s
    log, log1p, exp = math.log, math.log1p, math.exp
    ordered = first >= 0
    unit = config.time_unit_days
    alive_at = p_alive_at(params, x, (last - first) / unit) if ordered else None
    log_x, one_time = log1p(x), 1.0 if x == 0 else 0.0
    half = config.click_half_life_days
    # silence against the usual gap: clicks, or (order-only customers, e.g. CDNOW, whose
    # activity *is* their orders) their own purchase rhythm; None: no browsing signal
    browse: tuple[int, float, float, float] | None = None
    if click_last >= 0:
        usual = (click_last - click_first) / (click_days - 1) if click_days > 1 else 7.0
        browse = (click_last, max(usual, 1.0), click_decay, 0.0)
    elif ordered and order_silence_fallback:
        usual = (last - first) / x if x > 0 else 30.0
        browse = (last, max(usual, 1.0), x + 1, 1.0)
    event_day = last_ts // DAY_MS if last_ts >= 0 else None
    k = _LN2 / half
    k_norm = 1.0 - exp(-k)
    no_orders = [0.0, 0.0, 0.0, log(0.001), 1.0]

    def at(now_day: int) -> list[float]:
        if alive_at is not None:
            alive = alive_at(max(now_day - first, 0) / unit)
            f = [log1p(max(now_day - last, 0)), log_x, one_time, log(1.0 - alive + 0.001), 0.0]
        else:
            f = no_orders.copy()
        if browse is not None:
            since, usual, amount, flag = browse
            quiet = max(now_day - since, 0)
            f += (log1p(quiet / usual), log1p(amount * 0.5 ** (quiet / half)), flag)
        else:
            f += (0.0, 0.0, 1.0)
        f.append(log1p(max(now_day - event_day, 0)) if event_day is not None else 0.0)
        if click_last < 0:
            f.append(0.0)
        else:
            recent = click_decay * 0.5 ** (max(now_day - click_last, 0) / half)
            age = max(now_day - click_first, 0) + 1
            expected = click_days / age * (1.0 - exp(-k * age)) / k_norm
            f.append(log((recent + 0.5) / (expected + 0.5)))
        return f

    return at


class LogisticBlend:
    """Risk = sigmoid(bias + w . f); learned by ridge logistic regression.

    >>> blend = LogisticBlend()
    >>> rng = np.random.default_rng(0)
    >>> F = rng.normal(size=(400, len(FEATURES)))
    >>> y = (F[:, 3] + 0.3 * rng.normal(size=400) > 0).astype(float)
    >>> blend.fit(F, y, l2=1.0)
    >>> blend.learned, blend.weights[4] > 1.0 > abs(blend.weights[1])
    (True, True)
    """

    __slots__ = ("center", "learned", "weights")

    def __init__(self) -> None:
        self.weights: tuple[float, ...] = DEFAULT_WEIGHTS
        self.center: tuple[float, ...] = DEFAULT_CENTER
        self.learned = False

    def __getstate__(self) -> tuple:
        return (self.weights, self.center, self.learned)

    def __setstate__(self, state: tuple) -> None:
        weights, center, learned = state
        missing = N_FEATURES - len(center)
        if missing > 0:  # a checkpoint from before the newer features: they weigh 0
            weights = (*weights, *([0.0] * missing))
            center = (*center, *([0.0] * missing))
        self.weights, self.center, self.learned = tuple(weights), tuple(center), learned

    def risk(self, f: Sequence[float]) -> float:
        """P(churn) for one feature vector."""
        w = self.weights
        z = w[0] + sum(map(mul, w[1:], f))  # lengths match: __setstate__ pads old weights
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def contributions(self, f: Sequence[float]) -> dict[str, float]:
        """Per reason group, how much it moves the log-odds above a typical customer."""
        w = self.weights[1:]
        c = self.center
        return {group: sum(w[i] * (f[i] - c[i]) for i in idx) for group, idx in _GROUPS.items()}

    def top_features(self, f: Sequence[float], n: int = 3) -> list[dict[str, float | str]]:
        """The ``n`` features that move the log-odds most, signed (> 0 raises risk).

        Each contribution is weight x (value - population centre): what the customer's
        value of that feature adds to the log-odds of a typical customer, so a person
        can see which fact drives the score and which way.

        >>> blend = LogisticBlend()
        >>> top = blend.top_features([4.1, 1.4, 0.0, -0.5, 0.0, 0.0, 0.0, 1.0, 4.4, 0.0], 2)
        >>> [(t["feature"], t["contribution"]) for t in top]
        [('log_days_since_event', 3.0), ('log_browse_silence', -1.5)]
        """
        w = self.weights[1:]
        c = self.center
        pushes = [wi * (fi - ci) for wi, fi, ci in zip(w, f, c, strict=True)]
        order = sorted(range(len(pushes)), key=lambda i: -abs(pushes[i]))[
            :n
        ]  # stable: ties by index
        return [
            {
                "feature": FEATURES[i],
                "value": _bounded(f[i]),
                "contribution": _bounded(pushes[i]),
            }
            for i in order
        ]

    def fit(self, F: np.ndarray, y: np.ndarray, l2: float) -> None:
        """Ridge logistic regression on standardized features (labels 1 = churned)."""
        F = np.asarray(F, dtype=float)
        y = np.asarray(y, dtype=float)
        mean = F.mean(axis=0)
        scale = F.std(axis=0)
        scale[scale < 1e-9] = np.inf  # constant columns get weight 0
        Z = np.c_[np.ones(len(F)), (F - mean) / scale]
        penalty = np.r_[0.0, np.full(F.shape[1], l2)]

        w = np.zeros(Z.shape[1])
        for _ in range(100):  # Newton-Raphson (IRLS): a handful of steps, deterministic
            p = 0.5 * (1.0 + np.tanh(0.5 * (Z @ w)))
            grad = Z.T @ (p - y) + penalty * w
            hess = (Z * (p * (1.0 - p))[:, None]).T @ Z + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.max(np.abs(step)) < 1e-8:
                break
        raw = w[1:] / scale
        bias = w[0] - float(np.dot(raw, mean))
        self.weights = (float(bias), *(float(v) for v in raw))
        self.center = tuple(float(v) for v in mean)
        self.learned = True


def _bounded(x: float, limit: float = 1e3) -> float:
    return round(x if -limit <= x <= limit else math.copysign(limit, x), 4)


def reasons(
    s: Snapshot, now_day: int, p_alive: float, contributions: dict[str, float]
) -> list[str]:
    """Readable reasons, strongest first, for the groups that push risk up.

    >>> s = (100, 130, 3, 2.5, 80.0, 100, 150, 20, 3.0, 0)
    >>> reasons(s, 193, 0.31, {"orders": 1.2, "one_time": 0.0, "browsing": 0.5})
    ['no order for 63 days (usual gap 10)', 'browsing stopped 43 days ago (usual gap 3)', \
'P(alive) 0.31']
    """
    first, last, x, _, _, click_first, click_last, click_days, _, _ = s
    found: list[tuple[float, str]] = []
    if first < 0:
        found.append((math.inf, "never ordered"))
    else:
        silence = now_day - last
        push = contributions["orders"]
        if x > 0 and push > 0:
            gap = (last - first) / x
            if silence > max(2.0 * gap, 14):
                found.append((push, f"no order for {silence} days (usual gap {gap:.0f})"))
        elif x == 0 and push + contributions["one_time"] > 0 and silence >= 14:
            found.append((push + contributions["one_time"], f"one order only, {silence} days ago"))
    if click_last >= 0 and contributions["browsing"] > 0:
        quiet = now_day - click_last
        usual = (click_last - click_first) / (click_days - 1) if click_days > 1 else None
        if quiet >= 14 and (usual is None or quiet > 2.0 * usual):
            tail = f" (usual gap {usual:.0f})" if usual is not None else ""
            found.append((contributions["browsing"], f"browsing stopped {quiet} days ago{tail}"))
    found.sort(key=lambda item: -item[0])
    out = [text for _, text in found]
    if first >= 0 and x > 0 and p_alive < 0.5:
        out.append(f"P(alive) {p_alive:.2f}")
    return out
