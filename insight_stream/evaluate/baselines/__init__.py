"""Next-basket baselines, each a small model behind the :class:`Baseline` protocol.

The evaluation harnesses (:mod:`insight_stream.evaluate.instacart`,
:mod:`insight_stream.evaluate.complements`) run every baseline in the same pass as the
engine: each ``recommend`` is scored against the user's next order *before* the
baseline ``learn``-s that order, in event time.

>>> models = default_baselines()
>>> sorted(models)
['item_knn', 'personal_frequency', 'popularity', 'sar', 'tifu_knn']
>>> for name in sorted(models):
...     models[name].learn("ann", ["milk", "bread"], 0)
...     models[name].learn("bob", ["milk", "jam"], 1)
>>> models["popularity"].recommend("cat", 1)
['milk']
>>> models["sar"].recommend("ann", 3)  # milk and bread tie at 1 + 0.5: by id
['bread', 'milk', 'jam']
"""

from __future__ import annotations

from insight_stream.evaluate.baselines.base import Baseline
from insight_stream.evaluate.baselines.item_knn import ItemKNN
from insight_stream.evaluate.baselines.personal import PersonalFrequency
from insight_stream.evaluate.baselines.popularity import Popularity
from insight_stream.evaluate.baselines.sar import SAR
from insight_stream.evaluate.baselines.tifu_knn import TIFUKNN

__all__ = [
    "SAR",
    "TIFUKNN",
    "Baseline",
    "ItemKNN",
    "PersonalFrequency",
    "Popularity",
    "default_baselines",
]


def default_baselines() -> dict[str, Baseline]:
    """One fresh instance of every baseline, keyed by its report name."""
    return {
        "popularity": Popularity(),
        "personal_frequency": PersonalFrequency(),
        "sar": SAR(),
        "tifu_knn": TIFUKNN(),
        "item_knn": ItemKNN(),
    }
