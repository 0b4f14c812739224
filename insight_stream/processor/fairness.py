"""Fairness monitoring: alert rate, recommendation coverage and segment shares per group.

A group is one value of a protected attribute the profile stores (``age_band``,
``region``: the latest value of each). The churn model
never reads these attributes, but its features (spend, visit rhythm) can stand in for
them, so the outcome is measured per group rather than assumed neutral.

Cardinality is bounded whatever the input: per attribute only the ``max_groups`` most
populous values (ties by name) are reported, and a group needs ``min_users`` users to
enter a disparity ratio (smaller groups are too noisy to compare). Users without the
attribute are not a group. Counts are order independent, so the table is the same
however the user dict was built (restore, rebalance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from insight_stream.models.profile import KEPT_DEMOGRAPHICS
from insight_stream.processor.state import UserState

ATTRIBUTES: tuple[str, ...] = KEPT_DEMOGRAPHICS
"""Protected attributes monitored: the demographics the profile keeps. Gender is sent by
some shops but never stored (data minimisation, docs/privacy.md), so it cannot be monitored
live; device and channel describe the visit rather than the person."""
MAX_GROUPS = 8
"""Groups reported per attribute (the most populous); bounds metric cardinality."""
MIN_USERS = 100
"""Users a group needs to enter a disparity ratio."""
MIN_SEGMENT_SHARE = 0.05
"""A segment enters the segment-share disparity when it holds this share of the users."""
RATE_METRICS: tuple[str, ...] = ("alert_rate", "alert_precision", "rec_coverage")

Table = dict[str, dict[str, dict[str, Any]]]
"""attribute -> group -> {"users", "alert_rate", "rec_coverage", "segment_shares", ...}."""


def user_facts(u: UserState) -> tuple[bool, bool, int | None]:
    """(ever alerted, has personalised recommendations, segment) of one user.

    Personalised: the recommender holds items the user viewed or bought, so their list
    is not just the cold-start best sellers.
    """
    r = u.recs
    return u.churn.last_alert_ms >= 0, bool(r.recent or r.bought), u.segment


def group_table(
    rows: Iterable[tuple[Mapping[str, str], bool, bool, int | None]],
    attributes: tuple[str, ...] = ATTRIBUTES,
    max_groups: int = MAX_GROUPS,
) -> Table:
    """Per attribute and group: users, alert rate, recommendation coverage, segment shares.

    ``rows``: (demographics, alerted, personalised, segment) per user.

    >>> rows = [({"gender": "f"}, True, True, 0), ({"gender": "f"}, False, True, 1),
    ...         ({"gender": "m"}, False, False, 0), ({}, True, True, 0)]
    >>> t = group_table(rows, ("gender",))
    >>> t["gender"]["f"]["alert_rate"], t["gender"]["m"]["rec_coverage"]
    (0.5, 0.0)
    >>> t["gender"]["f"]["segment_shares"]
    {0: 0.5, 1: 0.5}
    """
    counts: dict[str, dict[str, list[Any]]] = {a: {} for a in attributes}
    for demo, alerted, covered, segment in rows:
        if not demo:
            continue
        for attr in attributes:
            value = demo.get(attr)
            if value is None:
                continue
            c = counts[attr].get(value)
            if c is None:
                c = counts[attr][value] = [0, 0, 0, {}]
            c[0] += 1
            c[1] += alerted
            c[2] += covered
            if segment is not None:
                c[3][segment] = c[3].get(segment, 0) + 1
    table: Table = {}
    for attr, groups in counts.items():
        kept = sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0]))[:max_groups]
        table[attr] = {
            group: {
                "users": n,
                "alert_rate": alerted / n,
                "rec_coverage": covered / n,
                "segment_shares": {s: segs[s] / n for s in sorted(segs)},
            }
            for group, (n, alerted, covered, segs) in sorted(kept)
        }
    return table


def disparity(table: Table, min_users: int = MIN_USERS) -> dict[str, dict[str, float | None]]:
    """Per attribute and metric, max/min over the groups with ``min_users`` users.

    ``segment_share`` is the worst ratio over segments holding at least
    :data:`MIN_SEGMENT_SHARE` of the users. A ratio needs two groups (else None); a
    minimum of 0 gives ``inf``.

    >>> t = {"region": {"n": {"users": 50, "alert_rate": 0.3, "segment_shares": {}},
    ...                 "s": {"users": 50, "alert_rate": 0.1, "segment_shares": {}}}}
    >>> round(disparity(t, min_users=10)["region"]["alert_rate"], 6)
    3.0
    """
    out: dict[str, dict[str, float | None]] = {}
    for attr, groups in table.items():
        big = [g for g in groups.values() if g["users"] >= min_users]
        ratios: dict[str, float | None] = {}
        for metric in RATE_METRICS:
            values = [g[metric] for g in big if g.get(metric) is not None]
            ratios[metric] = _ratio(values) if len(values) >= 2 else None
        total = sum(g["users"] for g in big) or 1
        segs = sorted({s for g in big for s in g["segment_shares"]})
        worst: float | None = None
        for s in segs:
            shares = [g["segment_shares"].get(s, 0.0) for g in big]
            if sum(sh * g["users"] for sh, g in zip(shares, big, strict=True)) / total < (
                MIN_SEGMENT_SHARE
            ):
                continue
            r = _ratio(shares) if len(shares) >= 2 else None
            if r is not None and (worst is None or r > worst):
                worst = r
        ratios["segment_share"] = worst
        out[attr] = ratios
    return out


def _ratio(values: list[float]) -> float:
    lo, hi = min(values), max(values)
    if lo <= 0.0:
        return 1.0 if hi <= 0.0 else float("inf")
    return hi / lo


class FairnessMonitor:
    """The live table, recomputed at most once per ``every_ms`` of event time.

    A scan costs ~1 us per user, so it is done per event-time day rather than per
    metrics scrape. Derived state only: nothing to checkpoint (a restored engine
    recomputes it from the restored users).
    """

    def __init__(self, every_ms: int = 86_400_000, min_users: int = MIN_USERS) -> None:
        self.every_ms = every_ms
        self.min_users = min_users
        self._at: int | None = None
        self._table: Table = {}

    def table(self, users: Iterable[UserState], now_ms: int) -> Table:
        """What the gauges export: every reported group's size, and its rates and segment
        shares only once it has ``min_users`` users (smaller groups are too noisy to
        compare, and their rates would come close to describing individuals)."""
        if self._at is None or now_ms // self.every_ms != self._at // self.every_ms:
            self._at = now_ms
            rows = (
                (dict(u.profile.demographics), *user_facts(u))
                for u in users
                if u.profile.demographics
            )
            full = group_table(rows)
            self._table = {
                attr: {
                    g: row if row["users"] >= self.min_users else {"users": row["users"]}
                    for g, row in groups.items()
                }
                for attr, groups in full.items()
            }
        return self._table
