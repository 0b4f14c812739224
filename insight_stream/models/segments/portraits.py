"""Readable segment portraits: a name, a description in original units, an action.

Names come from archetype scores on the standardised centroid and are assigned
one-to-one, best match first, so two segments never share a name.
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
}
DEFAULT_ACTION = "personalised recommendations; monitor engagement"


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
        if seg in out or name in used:
            continue
        out[seg] = (name, ARCHETYPES[name][1])
        used.add(name)
    for seg in centroids_z:
        out.setdefault(seg, (f"mainstream #{seg}", DEFAULT_ACTION))
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
