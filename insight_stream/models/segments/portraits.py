"""Readable segment portraits: a name, a description in original units, an action.

Names come from archetype scores on the standardised centroid and are assigned
one-to-one, best match first, so two segments never share a name. A segment gets an
archetype's name only when the centroid really scores on it (>= :data:`NAME_MIN`
and its defining, largest-weight features leaning the archetype's way); otherwise, e.g. when k
exceeds the archetypes or a world has types no archetype knows, the name says what
the centroid's most distinctive feature is ("high view->cart", "low sessions/week").
"""

from __future__ import annotations

from insight_stream.models.segments.features import FEATURES

# archetype -> (weights on standardised features, suggested marketing action)
ARCHETYPES: dict[str, tuple[dict[str, float], str]] = {
    "high-value loyal": (
        {"orders_per_week": 1.0, "avg_order_value": 0.5, "sessions_per_week": 0.5},
        "VIP programme: early access and loyalty points; avoid blanket discounts",
    ),
    "bargain hunters": (
        {"coupon_share": 1.5, "avg_item_price": -0.5},
        "targeted coupons on their favourite category; price-drop alerts",
    ),
    "window shoppers": (
        {"events_per_session": 1.0, "view_to_cart": 0.3, "session_to_order": -1.0},
        "nudge to purchase: cart reminders, social proof, free-shipping threshold",
    ),
    "big-ticket occasional": (
        {"avg_order_value": 1.0, "avg_item_price": 1.0, "orders_per_week": -0.5},
        "premium recommendations and financing offers around high-value launches",
    ),
    "serial returners": (
        {"return_rate": 1.0},
        "fit/size guidance and better product information before purchase",
    ),
    "casual regulars": (
        {"sessions_per_week": -0.5, "events_per_session": -0.5, "coupon_share": -0.3},
        "re-engagement newsletter with personalised picks",
    ),
    "cart abandoners": (
        {"view_to_cart": 1.0, "session_to_order": -0.7},
        "abandoned-cart reminders with a time-limited incentive; simplify checkout",
    ),
    "mission shoppers": (
        {
            "sessions_per_week": 1.0,
            "events_per_session": -1.0,
            "session_to_order": 0.5,
            "avg_order_value": -0.7,
        },
        "one-click reorder, subscriptions and fast delivery slots",
    ),
}
DEFAULT_ACTION = "personalised recommendations; monitor engagement"
NAME_MIN = 0.5
"""Smallest archetype score (on standardised features) that earns the archetype's name."""
LABELS = {
    "orders_per_week": "orders/week",
    "sessions_per_week": "sessions/week",
    "events_per_session": "events/session",
    "view_to_cart": "view->cart",
    "session_to_order": "session->order",
    "avg_order_value": "order value",
    "avg_item_price": "item price",
    "coupon_share": "coupon use",
    "return_rate": "returns",
}


def archetype_fits(name: str, z: list[float]) -> bool:
    """True when the standardised centroid ``z`` deserves archetype ``name``.

    >>> z = [0.0] * len(FEATURES); z[7] = 2.0
    >>> archetype_fits("bargain hunters", z), archetype_fits("serial returners", z)
    (True, False)
    """
    index = {f.name: i for i, f in enumerate(FEATURES)}
    weights = ARCHETYPES[name][0]
    score = sum(w * z[index[f]] for f, w in weights.items())
    # the defining features (largest |weight|) must lean the archetype's way
    top = max(abs(w) for w in weights.values())
    leaning = all(w * z[index[f]] > 0 for f, w in weights.items() if abs(w) == top)
    return score >= NAME_MIN and leaning


def feature_name(z: list[float], taken: set[str]) -> str:
    """A name from the centroid's most distinctive features, e.g. ``"high view->cart"``.

    >>> z = [0.0] * len(FEATURES); z[3] = 1.5; z[1] = -0.8
    >>> feature_name(z, set()), feature_name(z, {"high view->cart"})
    ('high view->cart', 'high view->cart, low sessions/week')
    """
    order = sorted(range(len(FEATURES)), key=lambda i: -abs(z[i]))
    parts: list[str] = []
    for i in order:
        parts.append(f"{'high' if z[i] >= 0 else 'low'} {LABELS[FEATURES[i].name]}")
        name = ", ".join(parts)
        if name not in taken:
            return name
    return ", ".join(parts)


def name_segments(centroids_z: dict[int, list[float]]) -> dict[int, tuple[str, str]]:
    """Map segment id -> (name, action), one archetype per segment, best score first.

    >>> z = [0.0] * len(FEATURES)
    >>> coupon = list(z); coupon[7] = 2.0
    >>> loyal = list(z); loyal[0] = 2.0
    >>> names = name_segments({0: coupon, 1: loyal})
    >>> names[0][0], names[1][0]
    ('bargain hunters', 'high-value loyal')
    """
    index = {f.name: i for i, f in enumerate(FEATURES)}
    scored = []
    for seg, z in centroids_z.items():
        for name, (weights, _) in ARCHETYPES.items():
            s = sum(w * z[index[f]] for f, w in weights.items())
            scored.append((-s, seg, name))
    scored.sort()
    out: dict[int, tuple[str, str]] = {}
    used: set[str] = set()
    for _, seg, name in scored:
        if seg in out or name in used or not archetype_fits(name, centroids_z[seg]):
            continue
        out[seg] = (name, ARCHETYPES[name][1])
        used.add(name)
    for seg, z in centroids_z.items():
        if seg not in out:
            name = feature_name(z, used)
            used.add(name)
            out[seg] = (name, DEFAULT_ACTION)
    return out


def describe(values: list[float]) -> str:
    """One line in original units from an untransformed centroid."""
    v = {f.name: x for f, x in zip(FEATURES, values, strict=True)}
    return (
        f"{v['orders_per_week']:.2f} orders/week, {v['sessions_per_week']:.1f} sessions/week, "
        f"{v['events_per_session']:.1f} events/session, AOV ${v['avg_order_value']:.0f}, "
        f"items ~${v['avg_item_price']:.0f}, view->cart {100 * v['view_to_cart']:.0f}%, "
        f"session->order {100 * v['session_to_order']:.0f}%, "
        f"coupons on {100 * v['coupon_share']:.0f}% of orders, "
        f"{100 * v['return_rate']:.0f}% returned"
    )
