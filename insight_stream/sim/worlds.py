"""Named simulator worlds: presets of :class:`SimConfig` that stress one assumption each.

Our default shop agrees with our own models by construction (five types, complements
mostly in the same basket, churners who stop dead). Each preset changes what the
engine could have been tuned to:

============================ =========================================================
``default``                  today's shop (byte-for-byte)
``three-types``              3 latent types
``six-types``                6 latent types (adds serial returners)
``eight-types``              8 latent types (adds cart abandoners, mission shoppers)
``later-complements``        complements only in a later order, 1-10 days later
``basket-complements``       complements only in the same basket
``gradual-churn``            churners' visits fade over 6 weeks instead of stopping
``fashion``                  discovery-heavy catalogue (few staples, flat popularity)
``grocery``                  repeat-heavy catalogue (many staples, bought again and again)
``independent``              6 types + later complements + gradual churn + fashion
``biased-churn``             region ``north`` churns far more often (planted unfairness)
``taste-shock``              on day 60 every customer's taste and staples change (drift)
============================ =========================================================
"""

from __future__ import annotations

from typing import Any

from insight_stream.sim.config import SimConfig

WORLDS: dict[str, dict[str, Any]] = {
    "default": {},
    "three-types": {"n_types": 3},
    "six-types": {"n_types": 6},
    "eight-types": {"n_types": 8},
    "later-complements": {"complements": "later", "complement_lag_days": (1.0, 10.0)},
    "basket-complements": {"complements": "basket"},
    "gradual-churn": {"churn": "gradual", "churn_fade_days": 42.0},
    "fashion": {"catalogue": "fashion", "items": 2400},
    "grocery": {"catalogue": "grocery", "items": 600},
    "independent": {
        "n_types": 6,
        "complements": "later",
        "complement_lag_days": (1.0, 10.0),
        "churn": "gradual",
        "catalogue": "fashion",
        "items": 2400,
    },
    "biased-churn": {"churn_bias": ("region", "north", 0.7)},
    "taste-shock": {"shock_day": 60},
}
"""World name -> the :class:`SimConfig` fields it sets (the rest keep their defaults)."""


def world(name: str, **overrides: Any) -> SimConfig:
    """The config of world ``name``; ``overrides`` (users, days, seed, ...) win.

    >>> world("six-types", users=100).n_types
    6
    >>> world("default") == SimConfig()
    True
    >>> world("atlantis")
    Traceback (most recent call last):
    ...
    ValueError: unknown world 'atlantis'; choose from default, three-types, six-types, \
eight-types, later-complements, basket-complements, gradual-churn, fashion, grocery, independent, \
biased-churn, taste-shock
    """
    if name not in WORLDS:
        raise ValueError(f"unknown world {name!r}; choose from {', '.join(WORLDS)}")
    fields = {**WORLDS[name], **overrides}
    if name != "default":
        fields.setdefault("world", name)
    return SimConfig(**fields)
