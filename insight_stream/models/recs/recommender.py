"""The recommender: learns from clicks and orders, scores items for one user with a reason.

A user's score for item ``j`` blends three terms:

* **co-occurrence** -- for each recent item ``i`` of the user (a seed, weighted by
  kind and by how long ago it was touched), ``sim(i, j)`` from the decayed,
  popularity-corrected co-occurrence model (orders weigh 1, co-views
  ``session_weight``);
* **repeat** -- ``repeat_weight`` x the user's decayed share of orders containing
  ``j`` ("you buy this often"), which dominates for groceries;
* **popularity** -- ``popular_weight`` x the item's popularity in the user's segment
  (or globally), which is all a cold-start user gets.

Items bought less than ``exclude_bought_days`` ago are dropped. Each item's reason
is its largest single contribution. Order cancellations and returns only take the
purchase back from the user's own counts: undoing a pair count would need the
original order time, and the co-purchase still says the items go together.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence

from insight_stream.events.inputs import ClickEvent, OrderEvent
from insight_stream.models.recs.config import RecsConfig
from insight_stream.models.recs.cooccurrence import CoOccurrence, heaviest
from insight_stream.models.recs.decay import DAY_MS, Inflation
from insight_stream.models.recs.popular import Popularity
from insight_stream.models.recs.user import BOUGHT, CART, VIEW, RecsUser

_intern = sys.intern
_CLICK_KINDS = {"product_view": VIEW, "add_to_cart": CART, "wishlist": CART}
_REPEAT, _POP_SEGMENT, _POP_GLOBAL, _POP_CATEGORY = -1, -2, -3, -4

Recommendation = tuple[str, float, str, str | None]
"""(item_id, score, reason, because_of)."""


class Recommender:
    """Item co-occurrence recommendations with repeat purchases and cold start.

    Global state (co-occurrence, popularity, the decay clock) lives here; per-user
    state is a :class:`RecsUser` the caller keeps and passes in. Both pickle.

    Parameters
    ----------
    config
        Settings; the defaults are :class:`RecsConfig`'s.

    >>> from insight_stream.events import EVENT_ADAPTER
    >>> T = 1_700_000_000_000  # event time, epoch ms
    >>> def order(user, items, ts):
    ...     return EVENT_ADAPTER.validate_python(dict(event_id=f"{user}{ts}", user_id=user,
    ...         type="order_placed", order_id=f"o{user}{ts}", total=1.0, ts=T + ts,
    ...         lines=[dict(item_id=i, price=1.0) for i in items]))
    >>> r = Recommender(RecsConfig(exclude_bought_days=30))
    >>> users = {name: r.new_user() for name in ("ann", "bob", "cat")}
    >>> r.on_order(users["ann"], order("ann", ["tent", "stove"], 0), segment_id=1)
    >>> r.on_order(users["bob"], order("bob", ["tent", "stove", "mat"], 1000), segment_id=1)
    >>> r.on_order(users["cat"], order("cat", ["tent"], 2000), segment_id=1)
    >>> [(item, reason) for item, _, reason, _ in r.recommend(users["cat"], T + 3000, k=2)]
    [('stove', 'bought with tent'), ('mat', 'bought with tent')]
    >>> r.recommend(r.new_user(), T + 3000, k=1, segment_id=1)[0][::2]
    ('tent', 'popular in your segment')
    """

    __slots__ = (
        "_exclude_ms",
        "_gap_ms",
        "_recent_inv_tau",
        "_user_inv_tau",
        "by_category",
        "clock",
        "config",
        "cooc",
        "n_reversed",
        "popular",
    )

    def __init__(self, config: RecsConfig | None = None) -> None:
        cfg = config if config is not None else RecsConfig()
        self.config = cfg
        self.clock = Inflation(cfg.half_life_days)
        self.cooc = CoOccurrence(
            cfg.max_neighbours, cfg.max_candidates, cfg.similarity, cfg.shrinkage
        )
        self.popular = Popularity(cfg.popular_per_segment)
        self.by_category = Popularity(cfg.popular_per_segment)
        self.n_reversed = 0  # cancellations/returns folded in (user counts only)
        self._user_inv_tau = math.log(2.0) / (cfg.repeat_half_life_days * DAY_MS)
        self._recent_inv_tau = math.log(2.0) / (cfg.recent_half_life_days * DAY_MS)
        self._exclude_ms = cfg.exclude_bought_days * DAY_MS
        self._gap_ms = cfg.session_gap_minutes * 60_000

    # -- learning --------------------------------------------------------------------

    def new_user(self) -> RecsUser:
        """Fresh, empty per-user state."""
        return RecsUser()

    def _weight(self, ts: int) -> float:
        clock = self.clock
        if clock.needs_rebase(ts):
            factor = clock.rebase(ts)
            self.cooc.scale(factor)
            self.popular.scale(factor)
            self.by_category.scale(factor)
        return clock.weight(ts)

    def on_click(self, u: RecsUser, event: ClickEvent) -> None:
        """Views, carts and wishlists: the user's recent items and session co-occurrence."""
        kind = _CLICK_KINDS.get(event.type)
        item = event.item_id
        if kind is None or item is None:
            return
        cfg = self.config
        item = _intern(item)
        partners = u.touch(item, event.ts, kind, event.session_id, self._gap_ms, cfg.recent_items)
        if partners is None or cfg.session_weight <= 0.0:
            return
        g = self._weight(event.ts)
        pairs = partners[-cfg.session_pairs :] if cfg.session_pairs else []
        self.cooc.add_session_item(item, pairs, cfg.session_weight * g, g)

    def on_order(self, u: RecsUser, event: OrderEvent, segment_id: int | None = None) -> None:
        """Placed orders teach co-occurrence, popularity and the user's purchases;
        cancellations and returns take the purchase back from the user's counts only."""
        items = list(dict.fromkeys([_intern(line.item_id) for line in event.lines]))
        if not items:
            return
        cfg = self.config
        if event.type != "order_placed":
            u.unbuy(items, event.ts, self._user_inv_tau, event.type == "order_cancelled")
            self.n_reversed += 1
            return
        g = self._weight(event.ts)
        cooc = self.cooc
        cooc.add_basket(items, g, cfg.max_basket)
        self.popular.add(items, g, segment_id)
        if cfg.category_weight > 0.0:
            for line in event.lines:
                if line.category is not None:
                    self.by_category.add_to(line.category, [_intern(line.item_id)], g)
        n = min(u.session_n, cfg.session_pairs)
        if n and cfg.session_weight > 0.0 and event.ts - (u.recent_meta[-1] >> 2) <= self._gap_ms:
            # Items viewed in the session that led to this order ("viewed X, bought Y").
            basket = dict.fromkeys(items)
            w = cfg.session_weight * g
            for seed in u.recent[-n:]:
                if seed not in basket:
                    for item in items[: cfg.max_basket]:
                        cooc.add_pair(seed, item, w)
        u.buy(items, event.ts, self._user_inv_tau, cfg.max_user_items, cfg.recent_items)

    # -- scoring ---------------------------------------------------------------------

    def recommend(
        self,
        u: RecsUser,
        now_ms: int,
        k: int = 10,
        segment_id: int | None = None,
        categories: Sequence[tuple[str, float]] | None = None,
    ) -> list[Recommendation]:
        """Top ``k`` items for the user at event time ``now_ms``, best first.

        ``categories`` are the user's category affinities as shares (from the
        profile); with them, each category's best sellers count in proportion.

        Returns ``(item_id, score, reason, because_of)`` tuples; ties are broken by
        item id, so the same state always gives the same list. Read-only.
        """
        if k <= 0:
            return []
        cfg = self.config
        scores: dict[str, float] = {}
        get = scores.get
        rw = 0.0
        if cfg.repeat_weight > 0.0 and u.orders > 0.0:
            rw = cfg.repeat_weight / u.orders
            for item, c in zip(u.bought, u.counts, strict=True):
                if c > 0.0:
                    scores[item] = rw * c
        seeds = self._seeds(u, now_ms)
        for _, w, ids, sims in seeds:
            for other, sim in zip(ids, sims, strict=True):
                scores[other] = get(other, 0.0) + w * sim
        pops = self._popular_lists(segment_id, categories)
        for weight, top, _, _ in pops:
            for item, share in top.items():
                scores[item] = get(item, 0.0) + weight * share
        if self._exclude_ms > 0.0 and u.bought:
            # Just bought once: hidden. Bought again and again (a staple): kept.
            cutoff = (now_ms - self._exclude_ms) // 60_000
            keep = cfg.exclude_keep_repeats * self._user_inflation(u, now_ms)
            pop = scores.pop
            for item, minute, c in zip(u.bought, u.last, u.counts, strict=True):
                if minute > cutoff and c < keep:
                    pop(item, None)
        return [
            (item, score, *self._reason(u, item, rw, seeds, pops, now_ms))
            for item, score in heaviest(scores, k)
        ]

    def _user_inflation(self, u: RecsUser, now_ms: int) -> float:
        """Factor turning the user's stored purchase counts into decayed counts now."""
        return math.exp(max(0, now_ms - (u.base or now_ms)) * self._user_inv_tau)

    def _seeds(self, u: RecsUser, now_ms: int) -> list[tuple[int, float, tuple[str, ...], array]]:
        """The newest ``max_seeds`` recent items with a neighbour list, as
        ``(index in recent, weight, neighbour ids, similarities)``."""
        recent = u.recent
        if not recent:
            return []
        cfg = self.config
        meta, lists, seed_weights = u.recent_meta, self.cooc.lists, cfg.seed_weights
        inv_tau, exp = self._recent_inv_tau, math.exp
        out = []
        for idx in range(len(recent) - 1, max(len(recent) - cfg.max_seeds, 0) - 1, -1):
            entry = lists.get(recent[idx])
            if entry is None:
                continue
            m = meta[idx]
            age = now_ms - (m >> 2)
            w = seed_weights[m & 3] * (exp(-age * inv_tau) if age > 0 else 1.0)
            if w > 0.0:
                out.append((idx, w, entry[0], entry[1]))
        return out

    def _popular_lists(
        self, segment_id: int | None, categories: Sequence[tuple[str, float]] | None
    ) -> list[tuple[float, dict[str, float], int, str | None]]:
        """Popularity terms as ``(weight, {item: share}, source, category)``."""
        cfg = self.config
        tops = self.popular.shares
        out: list[tuple[float, dict[str, float], int, str | None]] = []
        if cfg.popular_weight > 0.0:
            w = cfg.popular_weight
            segment_top = tops.get(segment_id) if segment_id is not None else None
            if segment_top:
                out.append((w, segment_top, _POP_SEGMENT, None))
                w *= 0.5
            out.append((w, tops.get(None, {}), _POP_GLOBAL, None))
        if categories and cfg.category_weight > 0.0:
            by_category = self.by_category.shares
            for category, share in categories:
                top = by_category.get(category)
                if top:
                    out.append((cfg.category_weight * share, top, _POP_CATEGORY, category))
        return out

    def _reason(
        self,
        u: RecsUser,
        item: str,
        rw: float,
        seeds: list[tuple[int, float, tuple[str, ...], array]],
        pops: list[tuple[float, dict[str, float], int, str | None]],
        now_ms: int,
    ) -> tuple[str, str | None]:
        """Reason of ``item``: its largest single contribution (first one on ties, in
        the order repeat, seeds newest first, popularity lists)."""
        src, best, category = _POP_GLOBAL, 0.0, None
        if rw > 0.0 and item in u.bought:
            best = rw * u.counts[u.bought.index(item)]
            src = _REPEAT
        for idx, w, ids, sims in seeds:
            if item in ids:
                s = w * sims[ids.index(item)]
                if s > best:
                    best, src = s, idx
        for weight, top, kind, cat in pops:
            share = top.get(item)
            if share is not None and weight * share > best:
                best, src, category = weight * share, kind, cat
        if src >= 0:
            seed = u.recent[src]
            verb = "bought" if u.recent_meta[src] & 3 == BOUGHT else "viewed"
            return f"{verb} with {seed}", seed
        if src == _REPEAT:
            count = u.counts[u.bought.index(item)] / self._user_inflation(u, now_ms)
            return ("you buy this often" if count >= 1.5 else "you bought this before"), None
        if src == _POP_CATEGORY:
            return f"popular in {category}, one of your favourite categories", None
        if src == _POP_SEGMENT:
            return "popular in your segment", None
        return "popular now", None

    # -- introspection ---------------------------------------------------------------

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        """The item's most similar items (popularity-corrected), best first."""
        return self.cooc.neighbours(item)[:k]

    @property
    def n_items(self) -> int:
        """Number of distinct items seen in clicks and orders."""
        return self.cooc.n_items

    def coverage(self) -> float:
        """Share of known items that appear in some item's neighbour candidates."""
        return self.cooc.coverage()
