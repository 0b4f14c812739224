"""User-reach co-occurrence: "bought A, then B within N days" (directed, decayed).

When a user buys an item B for the *first* time (B adopted), every item A the user
bought in the ``window`` before (their last purchase of A) gains ``A -> B`` weight
``g x 0.5 ** (gap / half_life)``. Counting adoptions only is the streaming cousin of
SAR's purchase-set co-occurrence: a staple bought every week adds one count per
user, not one per order, and the item counts used for the popularity correction are
adoptions too (how many users took the item up), so ``cosine(A -> B) =
c / sqrt(n_A n_B)`` does not favour best sellers. Storage, eviction, decay and
neighbour lists are :class:`~insight_stream.models.recs.cooccurrence.CoOccurrence`'s
(bounded per item); a list is rebuilt once the item's outgoing mass doubled.
"""

from __future__ import annotations

from collections.abc import Sequence

from insight_stream.models.recs.cooccurrence import REFRESH_VIEWS, CoOccurrence


class FollowUp(CoOccurrence):
    """Directed, decayed "bought later by the same user" co-occurrence.

    >>> f = FollowUp(max_neighbours=3, max_candidates=10)
    >>> for user in range(3):  # tent, then a stove 3 days later
    ...     f.add_adoptions(["tent"], [], 0, 1.0, 10 * 1440, 5 * 1440)
    ...     f.add_adoptions(["stove"], [("tent", 0)], 3 * 1440, 1.0, 10 * 1440, 5 * 1440)
    >>> [(item, round(s, 2)) for item, s in f.neighbours("tent")]
    [('stove', 0.44)]
    >>> f.neighbours("stove")  # directed: a stove does not call for a tent
    []
    """

    __slots__ = ("out", "out_built")

    def __init__(
        self,
        max_neighbours: int = 20,
        max_candidates: int = 50,
        similarity: str = "cosine",
        shrinkage: float = 1.0,
    ) -> None:
        super().__init__(max_neighbours, max_candidates, similarity, shrinkage)
        self.out: dict[str, float] = {}  # item -> decayed outgoing pair mass
        self.out_built: dict[str, float] = {}  # item -> its outgoing mass at the last build

    def add_adoptions(
        self,
        adopted: Sequence[str],
        before: Sequence[tuple[str, int]],
        minute: int,
        g: float,
        window_minutes: float,
        half_life_minutes: float,
    ) -> None:
        """Count items the user buys for the first time (``adopted``), paired with the
        user's earlier purchases ``before`` as ``(item, minute of last purchase)``.

        ``minute`` is the order's event time in minutes and ``g`` the inflation weight
        now; pairs older than ``window_minutes`` are ignored.
        """
        if not adopted:
            return
        counts = self.counts
        for item in adopted:
            counts[item] = counts.get(item, 0.0) + g
        self.total += g * len(adopted)
        out, bump = self.out, self._bump
        touched = []
        for a, last in before:
            gap = minute - last
            if gap <= 0 or gap > window_minutes:
                continue
            w = g * 0.5 ** (gap / half_life_minutes)
            for b in adopted:
                if b != a:
                    bump(a, b, w)
            out[a] = out.get(a, 0.0) + w * len(adopted)
            touched.append(a)
        built = self.out_built
        for a in touched:
            if out[a] > built.get(a, 0.0) * REFRESH_VIEWS:
                built[a] = out[a]
                self._build(a, g)

    def scale(self, factor: float) -> None:
        super().scale(factor)
        self.out = {i: m * factor for i, m in self.out.items() if i in self.counts}
        self.out_built = {i: m * factor for i, m in self.out_built.items() if i in self.counts}

    def __getstate__(self) -> dict[str, object]:
        state = super().__getstate__()
        state["out"] = (self.out, self.out_built)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        super().__setstate__(state)
        self.out, self.out_built = state["out"]  # type: ignore[misc]
