"""Settings of the recommendations model (one frozen dataclass, validated on creation)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Similarity = Literal["cosine", "jaccard", "lift"]
SIMILARITIES: tuple[str, ...] = ("cosine", "jaccard", "lift")
Slots = Literal["learned", "fixed"]


@dataclass(frozen=True)
class RecsConfig:
    """Recommendation settings. The defaults learn, per shop and user, how to share
    the top k between repeats and new items (``slots="learned"``), so they suit a
    grocery shop and a discovery shop alike; :meth:`grocery` is the older fixed blend
    tuned on Instacart.

    Parameters
    ----------
    half_life_days
        Event-time half-life of item co-occurrences and popularity: old baskets fade.
    session_weight
        Weight of the same-session reach (co-views, and an item viewed in the session x
        the order it led to) relative to the same-basket reach (1.0); below 1 because
        buying together says more. Each reach has its own neighbour lists.
    follow_days
        Same-user reach: "bought A, then (first bought) B within this many days";
        0 turns it off.
    follow_half_life_days
        Within that window, a pair weighs 0.5 ** (gap / this).
    follow_weight
        Weight of the same-user reach relative to the same-basket reach.
    max_follow_seeds
        The user's most recently bought items (with a "bought after" list) used as
        seeds of the same-user reach.
    follow_seed_half_life_days
        A seed of the same-user reach weighs 0.5 ** (days since the user last bought
        it / this), however long ago: a complement still missing weeks later is still
        worth showing (SAR never forgets it); a learned pair's lag stays bounded by
        ``follow_days``.
    held_seeds
        The user's most-bought items (decayed counts, however long ago) that also seed
        the same-basket reach, as SAR's purchase set does: "bought with X" by other
        customers, for X the user's usual items, not only the newest ``max_seeds``
        touched. 0 turns it off.
    held_seed_weight
        Seed weight of the user's most-bought item; the others weigh in proportion to
        their counts.
    slots
        ``"learned"``: repeat and new items compete through calibrated next-order
        hit probabilities, measured prequentially (see
        :mod:`~insight_stream.models.recs.slots`); ``repeat_weight``,
        ``exclude_bought_days`` and ``exclude_keep_repeats`` are then unused.
        ``"fixed"``: one additive score with ``repeat_weight`` (the older blend).
    calibration_prior
        Pseudo-trials of the slot calibrations and of the learned re-buy rates.
    share_prior
        Pseudo-orders shrinking a user's share of orders containing an item towards
        the item's learned re-buy rate (few orders say little).
    min_new_slots
        Learned slots only: at least this many of the k slots go to the best new
        items, whatever the calibration says (exploration); 0 = pure calibration.
    max_neighbours
        Length of the similarity-sorted neighbour list used for scoring, per item.
    max_candidates
        Co-occurrence counters kept per item. When full, the weakest half is evicted,
        so memory is O(items x max_candidates), never O(items^2).
    similarity
        Popularity-corrected similarity: ``"cosine"`` c/sqrt(ni nj), ``"jaccard"``
        c/(ni+nj-c), or ``"lift"`` mapped to [0, 1) as 1 - ni nj/(c N).
    shrinkage
        Significance weighting: similarities are multiplied by c/(c + shrinkage), with c
        the decayed co-occurrence count, so one chance co-purchase cannot rank first.
    recent_items
        Items remembered per user (views, carts, purchases), the seeds of "with X" scores.
    max_seeds
        Newest recent items used as seeds when scoring (older ones are remembered
        for pairing but cost time for little gain).
    recent_half_life_days
        How fast a seed's weight fades with the time since the user touched it.
    seed_weights
        Seed weight of a (view, cart or wishlist, purchase).
    session_pairs
        A click co-occurs with at most this many previous items of the same session.
    session_gap_minutes
        Without a session id, a click more than this after the previous one starts a session.
    max_basket
        Basket items paired with each other (large orders would cost O(lines^2)).
    max_user_items
        Distinct purchased items remembered per user (weakest evicted); bounds user memory.
    repeat_half_life_days
        Half-life of the user's own purchase counts ("you buy this often").
    repeat_weight
        Weight of the user's decayed purchase share (purchases of the item / orders) in
        the score; 0 turns repeat recommendations off.
    exclude_bought_days
        Items the user bought less than this many days ago are not recommended
        (unless they are the user's staples, see ``exclude_keep_repeats``); 0 keeps
        them all (right for groceries, where people rebuy the same things).
    exclude_keep_repeats
        A just-bought item whose decayed purchase count is at least this stays
        recommendable: 1.5 keeps what the user bought twice or more recently (their
        staples), hides one-off purchases; ``inf`` hides every just-bought item.
    popular_per_segment
        Popular items listed per segment (and globally) for cold start; twice as
        many counters are kept.
    popular_per_category
        Best sellers listed per category for ``categories=`` scoring (each is a
        dict update per recommendation: the hot path, so short).
    category_weight
        Weight of "popular in your favourite categories": each category's decayed
        best sellers, weighted by the user's category affinity (from the profile).
        Personal taste without needing co-occurrence for the user's own items.
    popular_weight
        Weight of normalised segment popularity blended into every score; fills lists
        of users with little history and breaks near-ties towards what sells.

    >>> RecsConfig().similarity
    'cosine'
    >>> RecsConfig(session_weight=1.5)
    Traceback (most recent call last):
    ...
    ValueError: recs.session_weight must be in [0, 1) (a co-purchase weighs 1)
    """

    half_life_days: float = 60.0
    session_weight: float = 0.2
    follow_days: float = 30.0
    follow_half_life_days: float = 20.0
    follow_weight: float = 1.0
    max_follow_seeds: int = 12
    held_seeds: int = 12
    held_seed_weight: float = 0.5
    follow_seed_half_life_days: float = 60.0
    slots: Slots = "learned"
    calibration_prior: float = 5.0
    share_prior: float = 2.0
    min_new_slots: int = 0
    max_neighbours: int = 10
    max_candidates: int = 50
    similarity: Similarity = "cosine"
    shrinkage: float = 1.0
    recent_items: int = 10
    max_seeds: int = 3
    recent_half_life_days: float = 14.0
    seed_weights: tuple[float, float, float] = (0.5, 0.8, 1.0)
    session_pairs: int = 3
    session_gap_minutes: float = 30.0
    max_basket: int = 40
    max_user_items: int = 32
    repeat_half_life_days: float = 30.0
    repeat_weight: float = 3.0
    exclude_bought_days: float = 7.0
    exclude_keep_repeats: float = 1.5
    popular_per_segment: int = 20
    popular_per_category: int = 10
    popular_weight: float = 0.3
    category_weight: float = 1.0

    def __post_init__(self) -> None:
        checks = (
            (self.half_life_days > 0, "half_life_days must be > 0"),
            (
                0 <= self.session_weight < 1,
                "session_weight must be in [0, 1) (a co-purchase weighs 1)",
            ),
            (self.follow_days >= 0, "follow_days must be >= 0 (0 = off)"),
            (self.follow_half_life_days > 0, "follow_half_life_days must be > 0"),
            (self.follow_weight >= 0, "follow_weight must be >= 0"),
            (self.max_follow_seeds >= 0, "max_follow_seeds must be >= 0"),
            (self.held_seeds >= 0, "held_seeds must be >= 0 (0 = off)"),
            (self.held_seed_weight >= 0, "held_seed_weight must be >= 0"),
            (self.follow_seed_half_life_days > 0, "follow_seed_half_life_days must be > 0"),
            (self.slots in ("learned", "fixed"), "slots must be 'learned' or 'fixed'"),
            (self.calibration_prior > 0, "calibration_prior must be > 0"),
            (self.share_prior >= 0, "share_prior must be >= 0"),
            (self.min_new_slots >= 0, "min_new_slots must be >= 0"),
            (self.max_neighbours >= 1, "max_neighbours must be >= 1"),
            (
                self.max_candidates >= self.max_neighbours,
                "max_candidates must be >= max_neighbours",
            ),
            (self.similarity in SIMILARITIES, f"similarity must be one of {SIMILARITIES}"),
            (self.shrinkage >= 0, "shrinkage must be >= 0"),
            (self.recent_items >= 1, "recent_items must be >= 1"),
            (self.max_seeds >= 0, "max_seeds must be >= 0"),
            (self.recent_half_life_days > 0, "recent_half_life_days must be > 0"),
            (len(self.seed_weights) == 3 and min(self.seed_weights) >= 0, "seed_weights: 3 x >= 0"),
            (self.session_pairs >= 0, "session_pairs must be >= 0"),
            (self.session_gap_minutes > 0, "session_gap_minutes must be > 0"),
            (self.max_basket >= 1, "max_basket must be >= 1"),
            (self.max_user_items >= 1, "max_user_items must be >= 1"),
            (self.repeat_half_life_days > 0, "repeat_half_life_days must be > 0"),
            (self.repeat_weight >= 0, "repeat_weight must be >= 0"),
            (self.exclude_bought_days >= 0, "exclude_bought_days must be >= 0 (0 = off)"),
            (self.exclude_keep_repeats > 0, "exclude_keep_repeats must be > 0"),
            (self.popular_per_segment >= 1, "popular_per_segment must be >= 1"),
            (self.popular_per_category >= 1, "popular_per_category must be >= 1"),
            (self.popular_weight >= 0, "popular_weight must be >= 0"),
            (self.category_weight >= 0, "category_weight must be >= 0"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(f"recs.{message}")

    @classmethod
    def grocery(cls, **changes: object) -> RecsConfig:
        """The older fixed blend for shops where people rebuy the same things (tuned on
        Instacart before the slots were learned; kept for comparison).

        The user's own decayed purchase share dominates (``repeat_weight=100``), the
        co-occurrence and popularity terms only break ties and fill short lists, and
        nothing is excluded for having just been bought.

        >>> preset = RecsConfig.grocery(max_user_items=48)
        >>> preset.exclude_bought_days, preset.max_user_items
        (0.0, 48)
        """
        settings: dict[str, object] = {
            "slots": "fixed",
            "repeat_weight": 100.0,
            "exclude_bought_days": 0.0,
            "popular_weight": 0.05,
            "category_weight": 0.3,
        }
        settings.update(changes)
        return cls(**settings)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> RecsConfig:
        """A copy with some settings changed (validated again).

        >>> RecsConfig().with_changes(exclude_bought_days=7).exclude_bought_days
        7
        """
        return replace(self, **changes)  # type: ignore[arg-type]
