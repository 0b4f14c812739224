"""Output schemas: what downstream teams read from the output topics.

Their JSON Schemas are committed under ``schemas/`` (``insight-stream schema``)
so consumers can validate without importing this package.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_PROFILE_BYTES = 65_536
"""No published profile (``orjson.dumps``, default engine config) is longer than this.

It follows from the input ``max_length`` bounds (events/inputs.py), not from the
traffic. Worst case, where every character takes 6 bytes of JSON (``\\u0001``):
10 recommendations x (item id, "viewed with <id>", because_of id) of 256 characters
~47 KB, user id 1.5 KB, 3 categories 2.4 KB, 5 demographics 2 KB, fixed segment
and churn text ~1 KB: ~54 KB.
Checked with adversarial input by tests/processor/test_profile_bound.py.
"""


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recommendation(_Out):
    """One recommended item and why."""

    item_id: str
    score: float
    reason: str = Field(description='Human-readable reason, e.g. "bought with i12".')
    because_of: str | None = Field(None, description="The user's item that led here, if any.")


class RunnerUp(_Out):
    """The next-closest segment: how firmly the customer sits in their own one."""

    id: int = Field(description="Id of the next-closest segment.")
    name: str = Field(description="Its readable name.")
    distance: float = Field(
        ge=0, description="Distance to the own segment's centre (standardised features)."
    )
    next_distance: float = Field(ge=0, description="Distance to the runner-up's centre.")
    ratio: float = Field(
        ge=0,
        le=1000,
        description="distance / next_distance: near 1 = halfway between the two; above 1 = "
        "now closer to the runner-up (reassigned at the customer's next event).",
    )
    borderline: bool = Field(description="ratio >= 0.8: treat as between the two segments.")


class Segment(_Out):
    """The user's segment; ``id`` is stable for the life of the model."""

    id: int
    name: str
    description: str
    action: str
    runner_up: RunnerUp | None = Field(
        None, description="Next-closest segment (None with a single segment)."
    )


class Contribution(_Out):
    """One feature of the churn blend and how far it moves this customer's risk."""

    feature: str = Field(description="Feature name (docs/explanations.md lists them).")
    value: float = Field(ge=-1000, le=1000, description="The customer's value of the feature.")
    contribution: float = Field(
        ge=-1000,
        le=1000,
        description="Signed push on the log-odds of churn against a typical customer "
        "(weight x (value - population mean)); > 0 raises the risk.",
    )


class Churn(_Out):
    """Churn risk now: ``risk`` = 1 - P(alive)."""

    risk: float = Field(ge=0, le=1)
    p_alive: float = Field(ge=0, le=1)
    reasons: list[str]


class Rfm(_Out):
    recency_days: float | None = Field(description="Days since last order (None: never ordered).")
    frequency: int = Field(description="Repeat-countable orders (placed - cancelled).")
    monetary: float = Field(description="Net spend after cancellations and returns.")


class Profile(_Out):
    """Latest picture of one customer; key = user_id on ``insight.profiles`` (compacted)."""

    schema_version: int = 1
    user_id: str
    updated_at: int = Field(description="Event time of the last event folded in (epoch ms).")
    first_seen: int
    last_seen: int
    tenure_days: float
    rfm: Rfm
    orders: int
    avg_order_value: float
    returns: int
    cancellations: int
    sessions: int
    avg_session_events: float
    funnel: dict[str, float] = Field(description="view_to_cart, cart_to_order rates.")
    top_categories: list[tuple[str, float]] = Field(
        description="Decayed affinities, highest first."
    )
    discount_sensitivity: float
    demographics: dict[str, str] = Field(default_factory=dict)
    segment: Segment | None = Field(description="None while segments warm up (see segment_status).")
    segment_status: Literal["warming_up", "ready"] = Field(
        "ready", description="warming_up until enough customers have enough sessions to cluster."
    )
    recommendations: list[Recommendation]
    churn: Churn


class ChurnAlert(_Out):
    """One alert per at-risk episode; ``alert_id`` is deterministic, so re-sends are idempotent."""

    schema_version: int = 1
    alert_id: str
    user_id: str
    ts: int = Field(description="Event time at which the risk crossed the threshold (epoch ms).")
    risk: float
    value: float = Field(description="Customer value used for the alert threshold (net spend).")
    reasons: list[str]
    action: str
    top_category: str | None = None
    recommended_items: list[str] = Field(default_factory=list)
    contributions: list[Contribution] = Field(
        default_factory=list,
        max_length=3,
        description="The three strongest signed feature contributions at the alert, "
        "largest first (docs/explanations.md).",
    )


class DlqRecord(_Out):
    """A record the engine could not decode, validate or accept; nothing is dropped silently.

    ``error_type``: ``decode``, ``validation``, ``too_large``, ``too_old``,
    ``future_timestamp`` (input limits), ``late`` (engine lateness policy) or
    ``processing`` (a valid event the engine failed on).
    """

    source_topic: str
    partition: int | None = None
    offset: int | None = None
    error_type: str
    error: str = Field(description="Names the field and the problem.")
    raw: str = Field(description="The raw record bytes, base64.")
    raw_truncated: bool = Field(
        False, description="True when ``raw`` keeps only the first bytes (too_large records)."
    )
    key: str | None = None
