"""The recommender: learns from clicks and orders, scores items for one user with a reason.

Candidates come from two slot sources that compete for the top ``k``:

* **new items** (the *discovery ranking*, items the user does not hold), scored by
  co-occurrence at three reaches -- for each of the ``max_seeds`` newest recent items
  ``i``: the same-basket ``sim(i, j)`` and the same-session one (x
  ``session_weight``); for each of the user's ``held_seeds`` most-bought items, the
  same-basket ``sim(i, j)`` again, weighted by the item's purchase share (SAR's
  purchase-set reach); for each of the ``max_follow_seeds`` most recently bought
  items: the same-user "bought ``i``, then ``j`` within ``follow_days``"
  (:mod:`~insight_stream.models.recs.followup`, x ``follow_weight``) -- plus
  ``category_weight`` x popularity in the user's favourite categories and
  ``popular_weight`` x popularity in the user's segment (all a cold-start user
  gets). Every similarity is popularity-corrected.
* **repeat items** (the user holds them), from the user's decayed purchase shares.

With ``slots="learned"`` (the default), both become calibrated next-order hit
probabilities (:mod:`~insight_stream.models.recs.slots`), learned prequentially from
each order before it is learnt, with per-item and per-category re-buy rates
(:mod:`~insight_stream.models.recs.repeat`); the top ``k`` by probability shares
the slots accordingly. With ``slots="fixed"`` (the :meth:`RecsConfig.grocery`
preset), ``repeat_weight`` x share is added to one score and just-bought items are
excluded for ``exclude_bought_days``.

Each item's reason is its largest single contribution among the terms of the
source that put it in the list ("you buy this often" only for repeats, "bought
with X" for the basket reach, "viewed with X" for the session reach, "bought after
X" for the same-user reach, popularity otherwise), worked out for the ``k`` winners
only. Order cancellations and returns only take the purchase back from the user's
own counts.

``recommend`` runs once per published profile, so it is kept to a few hundred dict
updates: the segment/global popularity part is memoised
(:meth:`Popularity.blend`), lists are pre-truncated, and the top ``k`` comes from a
native sort of the bare scores (:func:`top_k`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

from insight_stream.events.inputs import ClickEvent, OrderEvent
from insight_stream.models.recs.config import RecsConfig
from insight_stream.models.recs.cooccurrence import CoOccurrence, top_k
from insight_stream.models.recs.decay import DAY_MS, REBASE_AT, Inflation
from insight_stream.models.recs.followup import FollowUp
from insight_stream.models.recs.popular import Popularity
from insight_stream.models.recs.repeat import RepeatRates
from insight_stream.models.recs.slots import USER_DECAY, SlotBlend, repeat_cell
from insight_stream.models.recs.sources import Scored, discovery, reason_of, top_new
from insight_stream.models.recs.user import CART, VIEW, RecsUser

_intern = sys.intern
_CLICK_KINDS = {"product_view": VIEW, "add_to_cart": CART, "wishlist": CART}
_MINUTE = 60_000
_OP_SESSION, _OP_ORDER, _OP_REVERSED = 0, 1, 2  # kinds of learning ops (see ``apply``)

Recommendation = tuple[str, float, str, str | None]
"""(item_id, score, reason, because_of)."""


class Recommender:
    """Item co-occurrence recommendations with learned repeat/discovery slots.

    Global state (co-occurrence at three reaches, popularity, re-buy rates, slot
    calibration, the decay clock) lives here; per-user state is a :class:`RecsUser`
    the caller keeps and passes in. Both pickle.

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
    >>> r = Recommender()
    >>> users = {name: r.new_user() for name in ("ann", "bob", "cat")}
    >>> r.on_order(users["ann"], order("ann", ["tent", "stove"], 0), segment_id=1)
    >>> r.on_order(users["bob"], order("bob", ["tent", "stove", "mat"], 1000), segment_id=1)
    >>> r.on_order(users["cat"], order("cat", ["tent"], 2000), segment_id=1)
    >>> [(item, reason) for item, _, reason, _ in r.recommend(users["cat"], T + 3000, k=3)]
    [('tent', 'you bought this before'), ('stove', 'bought with tent'), ('mat', 'bought with tent')]
    >>> r.recommend(r.new_user(), T + 3000, k=1, segment_id=1)[0][::2]
    ('tent', 'popular in your segment')
    """

    __slots__ = (
        "_exclude_ms",
        "_gap_ms",
        "_recent_inv_tau",
        "_user_inv_tau",
        "blend",
        "by_category",
        "clock",
        "config",
        "cooc",
        "follow",
        "n_reversed",
        "popular",
        "rates",
        "session",
    )

    def __init__(self, config: RecsConfig | None = None) -> None:
        cfg = config if config is not None else RecsConfig()
        self.config = cfg
        self.clock = Inflation(cfg.half_life_days)
        args = (cfg.max_neighbours, cfg.max_candidates, cfg.similarity, cfg.shrinkage)
        self.cooc = CoOccurrence(*args)  # same basket
        self.session = CoOccurrence(*args)  # same session (co-views, viewed -> bought)
        self.follow = FollowUp(*args)  # same user, later order
        self.popular = Popularity(cfg.popular_per_segment)
        self.by_category = Popularity(cfg.popular_per_category)
        self.rates = RepeatRates(cfg.calibration_prior)
        self.blend = SlotBlend(ranks=10, prior=cfg.calibration_prior)
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
            for part in (self.cooc, self.session, self.follow, self.popular, self.by_category):
                part.scale(factor)
            self.rates.scale(factor)
            self.blend.scale(factor)
        return clock.weight(ts)

    def _now_weight(self, ts: int) -> float:
        """Inflation weight at ``ts`` without rebasing (reads must not change state)."""
        clock = self.clock
        return 1.0 if clock.t0 is None else math.exp((ts - clock.t0) * clock.inv_tau)

    def on_click(self, u: RecsUser, event: ClickEvent) -> None:
        """Views, carts and wishlists: the user's recent items and session co-occurrence."""
        op = self.learn_click(u, event)
        if op is not None:
            self.apply(op)

    def on_order(self, u: RecsUser, event: OrderEvent, segment_id: int | None = None) -> None:
        """Placed orders first score the slot sources (prequential calibration), then
        teach co-occurrence at every reach, popularity, re-buy rates and the user's
        purchases; cancellations and returns take the purchase back from the user's
        counts only."""
        op = self.learn_order(u, event, segment_id)
        if op is not None:
            self.apply(op)

    # -- learning in two halves: the user's state now, the shared models at apply -------
    #
    # ``learn_*`` update the user's own state and return an *op*: plain data holding
    # all the shared models need, read from the user before the update and from the
    # shared models as they are (they are not changed). ``apply`` folds an op into the
    # shared models. ``on_click``/``on_order`` do both at once; the Processor queues
    # the ops and applies them at event-time epoch ends (processor/epochs.py), so every
    # read within an epoch sees the models as the epoch started.

    def learn_click(self, u: RecsUser, event: ClickEvent) -> tuple | None:
        """The user's recent items now; the op teaches session co-occurrence."""
        kind = _CLICK_KINDS.get(event.type)
        item = event.item_id
        if kind is None or item is None:
            return None
        cfg = self.config
        item = _intern(item)
        partners = u.touch(item, event.ts, kind, event.session_id, self._gap_ms, cfg.recent_items)
        if partners is None or cfg.session_weight <= 0.0:
            return None
        pairs = partners[-cfg.session_pairs :] if cfg.session_pairs else []
        return (_OP_SESSION, event.ts, item, pairs)

    def learn_order(
        self, u: RecsUser, event: OrderEvent, segment_id: int | None = None
    ) -> tuple | None:
        """The user's purchases (and calibration record) now; the op teaches the rest."""
        items = list(dict.fromkeys([_intern(line.item_id) for line in event.lines]))
        if not items:
            return None
        cfg = self.config
        ts = event.ts
        if event.type != "order_placed":
            u.unbuy(items, ts, self._user_inv_tau, event.type == "order_cancelled")
            return (_OP_REVERSED,)
        cats = [
            (_intern(line.item_id), _intern(line.category))
            for line in event.lines
            if line.category is not None
        ]
        calib = None
        if u.bought and u.orders > 0.0:
            calib = self._calibrate(u, items, ts, segment_id, self._now_weight(ts))
        seeds: list[str] = []
        n = min(u.session_n, cfg.session_pairs)
        if n and cfg.session_weight > 0.0 and ts - (u.recent_meta[-1] >> 2) <= self._gap_ms:
            # Items viewed in the session that led to this order ("viewed X, bought Y").
            basket = dict.fromkeys(items)
            seeds = [seed for seed in u.recent[-n:] if seed not in basket]
        adopted = before = None
        if cfg.follow_days > 0.0:
            held = dict.fromkeys(u.bought)
            adopted = [i for i in items if i not in held and not u.may_own(i)]
            before = [(i, m) for i, m in zip(u.bought, u.last, strict=True) if m > 0]
        u.buy(items, ts, self._user_inv_tau, cfg.max_user_items, cfg.recent_items)
        return (_OP_ORDER, ts, items, cats, segment_id, calib, seeds, adopted, before)

    def apply(self, op: tuple) -> None:
        """Fold an op of :meth:`learn_click` or :meth:`learn_order` into the shared models."""
        kind = op[0]
        if kind == _OP_SESSION:
            _, ts, item, pairs = op
            g = self._weight(ts)
            self.session.add_session_item(item, pairs, g, g)
            return
        if kind == _OP_REVERSED:
            self.n_reversed += 1
            return
        _, ts, items, cats, segment_id, calib, seeds, adopted, before = op
        cfg = self.config
        g = self._weight(ts)
        category = self.rates.category
        for item, cat in cats:
            category[item] = cat
        if calib is not None:
            repeats, trials, hits, scores = calib
            blend = self.blend
            for cell, x, hit in repeats:
                blend.observe_repeat(cell, x, hit, g)
            self.rates.observe(trials, g)
            blend.observe_new(hits, g, scores)
        self.cooc.add_basket(items, g, cfg.max_basket)
        self.popular.add(items, g, segment_id)
        if cfg.category_weight > 0.0 and cats:
            by_category: dict[str, list[str]] = {}
            for item, cat in cats:
                by_category.setdefault(cat, []).append(item)
            add_to = self.by_category.add_to
            for cat, bought in by_category.items():
                add_to(cat, bought, g)
        if seeds:
            add_pair, basket = self.session.add_pair, items[: cfg.max_basket]
            for seed in seeds:
                for item in basket:
                    add_pair(seed, item, g)
        if adopted is not None:
            self.follow.add_adoptions(
                adopted,
                before,
                ts // _MINUTE,
                g,
                cfg.follow_days * 1440,
                cfg.follow_half_life_days * 1440,
            )

    def _calibrate(
        self, u: RecsUser, items: list[str], ts: int, segment_id: int | None, g: float
    ) -> tuple:
        """Score both slot sources against this order before learning it: the user's
        discovery record now, the observations for the shared calibration in the op."""
        basket = set(items)
        minute = ts // _MINUTE
        rates = self.rates
        a = self.config.share_prior * self._user_inflation(u, ts)
        inv_orders = 1.0 / (u.orders + a)
        trials = []
        repeats = []
        for item, c, last in zip(u.bought, u.counts, u.last, strict=True):
            hit = item in basket
            trials.append((item, hit))
            rate = rates.rate(item, g)
            x = (c + a * rate) * inv_orders
            days = (minute - last) / 1440.0 if last > 0 else 1e9
            repeats.append((repeat_cell(rate, days, x), x, hit))
        scored = discovery(self, u, ts, segment_id, None, skip_session=True)
        ranked = top_new(scored, u, 10)
        hits = [item in basket for item, _ in ranked]
        u.disc_hits = USER_DECAY * u.disc_hits + sum(hits)
        u.disc_n = USER_DECAY * u.disc_n + 1.0
        return (repeats, trials, hits, [s for _, s in ranked])

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

        Returns ``(item_id, score, reason, because_of)`` tuples, ``score`` the
        calibrated next-order probability with learned slots; ties are broken by
        item id, so the same state always gives the same list. Read-only.
        """
        if k <= 0:
            return []
        scored = discovery(self, u, now_ms, segment_id, categories)
        if self.config.slots == "fixed":
            return self._fixed(u, now_ms, k, scored)
        g = self._now_weight(now_ms)
        held = dict.fromkeys(u.bought)
        probs: dict[str, float] = {}
        if held and u.orders > 0.0:
            rates, blend = self.rates, self.blend
            minute = now_ms // _MINUTE
            a = self.config.share_prior * self._user_inflation(u, now_ms)
            inv_orders = 1.0 / (u.orders + a)
            for item, c, last in zip(u.bought, u.counts, u.last, strict=True):
                rate = rates.rate(item, g)
                x = (c + a * rate) * inv_orders
                days = (minute - last) / 1440.0 if last > 0 else 1e9
                p = blend.p_repeat(repeat_cell(rate, days, x), x, g)
                if p > 0.0:
                    probs[item] = p
        new = top_new(scored, u, k)  # may_own: also what was evicted from ``bought``
        chances = self.blend.p_new(len(new), g, u.disc_hits, u.disc_n, [s for _, s in new])
        for (item, _), p in zip(new, chances, strict=True):
            probs[item] = p
        ranked = top_k(probs, k)
        reserve = min(self.config.min_new_slots, len(new), k)
        if reserve:  # exploration: the best new items take at least the last slots
            picked = dict(ranked)
            missing = [(i, probs[i]) for i, _ in new[:reserve] if i not in picked]
            if missing:
                repeats = [r for r in ranked if r[0] in held][: k - reserve]
                news = [r for r in ranked if r[0] not in held]
                ranked = sorted(repeats + news + missing, key=lambda r: (-r[1], r[0]))[:k]
        scored.by_seed([item for item, _ in ranked if item not in held])
        out: list[Recommendation] = []
        for item, p in ranked:
            if item in held:
                out.append((item, p, self._repeat_reason(u, item, now_ms), None))
            else:
                reason, because = reason_of(item, scored)
                out.append((item, p, reason or "popular now", because))
        return out

    def _fixed(self, u: RecsUser, now_ms: int, k: int, scored: Scored) -> list[Recommendation]:
        """The older additive blend: discovery terms + ``repeat_weight`` x share."""
        cfg = self.config
        scores = scored.scores
        get = scores.get
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
        out: list[Recommendation] = []
        counts = u.counts
        for item, score in top_k(scores, k):
            repeat = rw * counts[bought.index(item)] if rw > 0.0 and item in bought else 0.0
            reason, because = reason_of(item, scored, repeat)
            if not reason:
                reason = self._repeat_reason(u, item, now_ms) if repeat > 0.0 else "popular now"
            out.append((item, score, reason, because))
        return out

    def _user_inflation(self, u: RecsUser, now_ms: int) -> float:
        """Factor turning the user's stored purchase counts into decayed counts now."""
        return math.exp(max(0, now_ms - (u.base or now_ms)) * self._user_inv_tau)

    def _repeat_reason(self, u: RecsUser, item: str, now_ms: int) -> str:
        count = u.counts[u.bought.index(item)] / self._user_inflation(u, now_ms)
        return "you buy this often" if count >= 1.5 else "you bought this before"

    # -- introspection ---------------------------------------------------------------

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        """The item's most similar items by the same-basket reach, best first."""
        return self.cooc.neighbours(item)[:k]

    def bought_after(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        """Items users took up within ``follow_days`` after buying ``item``, best first."""
        return self.follow.neighbours(item)[:k]

    @property
    def n_items(self) -> int:
        """Number of distinct items seen in clicks and orders."""
        return len(self.cooc.counts.keys() | self.session.counts.keys())

    def coverage(self) -> float:
        """Share of known items that appear in some item's neighbour candidates."""
        seen: set[str] = set()
        for part in (self.cooc, self.session, self.follow):
            for row in part.pairs.values():
                seen.update(row)
        known = self.cooc.counts.keys() | self.session.counts.keys()
        return len(seen & known) / len(known) if known else 0.0
