"""The fast top-k and the memoised popularity blend agree with their plain versions."""

from __future__ import annotations

import random

from insight_stream.models.recs.cooccurrence import heaviest, top_k
from insight_stream.models.recs.popular import Popularity


def test_top_k_equals_heaviest_including_ties() -> None:
    rng = random.Random(0)
    for _ in range(500):
        n = rng.randrange(0, 40)
        weights = {f"i{rng.randrange(60):02d}": float(rng.randrange(6)) for _ in range(n)}
        for k in (1, 3, 10, 50):
            assert top_k(weights, k) == heaviest(weights, k)


def test_blend_follows_new_sales() -> None:
    pop = Popularity(size=3)
    pop.add(["a", "a", "b"], 1.0, segment=1)
    first = pop.blend(1, 1.0)
    assert pop.blend(1, 1.0) is first  # memoised while nothing changes
    pop.add(["c", "c", "c", "c"], 1.0, segment=1)
    assert max(pop.blend(1, 1.0).items(), key=lambda kv: kv[1])[0] == "c"
