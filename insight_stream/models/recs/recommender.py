"""The recommender: learns from clicks and orders, scores items for one user with a reason.

A user's score for item ``j`` blends four terms:

* **co-occurrence** -- for each of the ``max_seeds`` newest recent items ``i`` of the
  user (a seed, weighted by kind and by how long ago it was touched), ``sim(i, j)``
  from the decayed, popularity-corrected co-occurrence model (orders weigh 1,
  co-views ``session_weight``);
* **repeat** -- ``repeat_weight`` x the user's decayed share of orders containing
  ``j`` ("you buy this often"), which dominates for groceries;
* **favourite categories** -- ``category_weight`` x the user's affinity to ``j``'s
  category x ``j``'s popularity there (when the caller passes ``categories``);
* **popularity** -- ``popular_weight`` x the item's popularity in the user's segment
  (or globally), which is all a cold-start user gets.

Items bought once less than ``exclude_bought_days`` ago are dropped (the user's
staples, bought again and again, stay). Each item's reason is its largest single
contribution, worked out for the ``k`` winners only. Order cancellations and
returns only take the purchase back from the user's own counts: undoing a pair
count would need the original order time, and the co-purchase still says the
items go together.

``recommend`` runs once per published profile, so it is kept to ~100 dict updates:
the segment/global popularity part is the same for every user of a segment and is
memoised (:meth:`Popularity.blend`), lists are pre-truncated, and the top ``k`` comes
from a native sort of the bare scores (:func:`top_k`).
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence

from insight_stream.events.inputs import ClickEvent, OrderEvent
from insight_stream.models.recs.config import RecsConfig
from insight_stream.models.recs.cooccurrence import CoOccurrence, top_k
from insight_stream.models.recs.decay import DAY_MS, REBASE_AT, Inflation
from insight_stream.models.recs.popular import Popularity
from insight_stream.models.recs.user import BOUGHT, CART, VIEW, RecsUser

_intern = sys.intern
_CLICK_KINDS = {"product_view": VIEW, "add_to_cart": CART, "wishlist": CART}
_REPEAT, _POP_SEGMENT, _POP_GLOBAL, _POP_CATEGORY = -1, -2, -3, -4
_CATEGORY_REASON = "popular in {}, one of your favourite categories"

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
        self.by_category = Popularity(cfg.popular_per_category)
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
        if clock.t0 is not None:
            x = (ts - clock.t0) * clock.inv_tau
            if x <= REBASE_AT:  # the common case, inlined (one exp per event)
                return math.exp(x)
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
            by_category: dict[str, list[str]] = {}
            for line in event.lines:
                if line.category is not None:
                    by_category.setdefault(line.category, []).append(_intern(line.item_id))
            add_to = self.by_category.add_to
            for category, bought in by_category.items():
                add_to(category, bought, g)
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
        popular = self.popular
        pw = cfg.popular_weight
        base = popular.blend(segment_id, pw) if pw > 0.0 else {}
        scores = dict(base)  # segment + global popularity, the same for every user: memoised
        get = scores.get
        cats: list[tuple[float, dict[str, float], str]] = []
        if categories and cfg.category_weight > 0.0:
            shares = self.by_category.shares
            for category, share in categories:
                top = shares.get(category)
                if top:
                    w = cfg.category_weight * share
                    cats.append((w, top, category))
                    for item, s in top.items():
                        scores[item] = get(item, 0.0) + w * s
        seeds = self._seeds(u, now_ms)
        for _, w, ids, sims in seeds:
            for other, sim in zip(ids, sims, strict=True):
                scores[other] = get(other, 0.0) + w * sim
        bought = u.bought
        rw = 0.0
        if cfg.repeat_weight > 0.0 and u.orders > 0.0:
            rw = cfg.repeat_weight / u.orders
            for item, c in zip(bought, u.counts, strict=True):
                if c > 0.0:
                    scores[item] = get(item, 0.0) + rw * c
        if self._exclude_ms > 0.0 and bought:
            # Just bought once: hidden. Bought again and again (a staple): kept.
            cutoff = (now_ms - self._exclude_ms) // 60_000
            keep = cfg.exclude_keep_repeats * self._user_inflation(u, now_ms)
            pop = scores.pop
            for item, minute, c in zip(bought, u.last, u.counts, strict=True):
                if minute > cutoff and c < keep:
                    pop(item, None)
        top = top_k(scores, k)
        # Reasons for the k winners only: each item's largest single contribution (the
        # first on ties, in the order repeat, seeds newest first, segment, global,
        # categories).
        segment_top = popular.shares.get(segment_id) if segment_id is not None else None
        global_top = popular.shares.get(None, {})
        global_w = 0.5 * pw if segment_top else pw
        counts, recent, meta = u.counts, u.recent, u.recent_meta
        out: list[Recommendation] = []
        for item, score in top:
            src, best, category = _POP_GLOBAL, 0.0, None
            if rw > 0.0 and item in bought:
                best, src = rw * counts[bought.index(item)], _REPEAT
            for idx, w, ids, sims in seeds:
                if item in ids:
                    s = w * sims[ids.index(item)]
                    if s > best:
                        best, src = s, idx
            if segment_top and item in segment_top and pw * segment_top[item] > best:
                best, src = pw * segment_top[item], _POP_SEGMENT
            if item in global_top and global_w * global_top[item] > best:
                best, src = global_w * global_top[item], _POP_GLOBAL
            for w, shares_of, cat in cats:
                if item in shares_of and shares_of[item] * w > best:
                    best, src, category = shares_of[item] * w, _POP_CATEGORY, cat
            if src >= 0:
                seed = recent[src]
                verb = "bought with " if meta[src] & 3 == BOUGHT else "viewed with "
                out.append((item, score, verb + seed, seed))
            elif src == _REPEAT:
                out.append((item, score, self._repeat_reason(u, item, now_ms), None))
            elif src == _POP_CATEGORY:
                out.append((item, score, _CATEGORY_REASON.format(category), None))
            elif src == _POP_SEGMENT:
                out.append((item, score, "popular in your segment", None))
            else:
                out.append((item, score, "popular now", None))
        return out

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

    def _repeat_reason(self, u: RecsUser, item: str, now_ms: int) -> str:
        count = u.counts[u.bought.index(item)] / self._user_inflation(u, now_ms)
        return "you buy this often" if count >= 1.5 else "you bought this before"

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
