"""Output schemas: what downstream teams read from the output topics.

Their JSON Schemas are committed under ``schemas/`` (``insight-stream schema``)
so consumers can validate without importing this package.
"""

from __future__ import annotations

from typing import Literal, get_args

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


DlqReason = Literal[
    "decode", "validation", "too_large", "too_old", "future_timestamp", "late", "processing"
]
"""Why a record went to the DLQ: ``decode``/``validation`` (not an event), the input limits
``too_large``/``too_old``/``future_timestamp``, ``late`` (lateness policy ``dlq``) and
``processing`` (a valid event the engine failed on)."""

DLQ_REASONS: tuple[str, ...] = get_args(DlqReason)
"""Every :data:`DlqReason`, in order: the metrics expose each one from zero."""

_TS = "(epoch ms, event time)"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recommendation(_Out):
    """One recommended item and why."""

    item_id: str = Field(description="The recommended item.")
    score: float = Field(description="Ranking score; higher first, comparable within a profile.")
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

    id: int = Field(description="Segment id, stable while the segment persists across refits.")
    name: str = Field(description='Short name from the centroid, e.g. "high-value loyal".')
    description: str = Field(description="The centroid in original units.")
    action: str = Field(description="Suggested marketing action for the segment.")
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

    risk: float = Field(ge=0, le=1, description="Probability that the customer has churned.")
    p_alive: float = Field(ge=0, le=1, description="BG/NBD probability the customer is active.")
    reasons: list[str] = Field(description="Readable signals behind the risk, strongest first.")


class Rfm(_Out):
    """Recency, frequency, monetary value."""

    recency_days: float | None = Field(
        ge=0, description="Days since last order (null: never ordered)."
    )
    frequency: int = Field(ge=0, description="Orders that stood (placed minus cancelled).")
    monetary: float = Field(description="Net spend after cancellations and returns.")


class Profile(_Out):
    """Latest picture of one customer; key = user_id on ``insight.profiles`` (compacted)."""

    schema_version: int = Field(1, description="Version of this record layout (v1).")
    user_id: str = Field(description="The customer (also the record key).")
    updated_at: int = Field(description=f"Event time of the last event folded in {_TS}.")
    first_seen: int = Field(description=f"Earliest event of the customer {_TS}.")
    last_seen: int = Field(description=f"Latest event of the customer {_TS}.")
    tenure_days: float = Field(ge=0, description="Days from first_seen to updated_at.")
    rfm: Rfm = Field(description="RFM: recency, frequency and monetary value of the orders.")
    orders: int = Field(ge=0, description="Orders placed.")
    avg_order_value: float = Field(ge=0, description="Gross spend per placed order.")
    returns: int = Field(ge=0, description="Orders returned.")
    cancellations: int = Field(ge=0, description="Orders cancelled.")
    sessions: int = Field(ge=0, description="Browsing sessions.")
    avg_session_events: float = Field(ge=0, description="Clickstream events per session.")
    funnel: dict[str, float] = Field(
        description="Rates view_to_cart (may exceed 1), cart_to_order, session_to_order."
    )
    top_categories: list[tuple[str, float]] = Field(
        description="[category, share of the decayed affinity], highest first."
    )
    discount_sensitivity: float = Field(
        ge=0, le=1, description="Share of placed orders that used a coupon."
    )
    demographics: dict[str, str] = Field(
        default_factory=dict, description="Age band, gender, region, device, channel when sent."
    )
    segment: Segment | None = Field(description="null while segments warm up (see segment_status).")
    segment_status: Literal["warming_up", "ready"] = Field(
        "ready", description="warming_up until enough customers have enough sessions to cluster."
    )
    recommendations: list[Recommendation] = Field(description="Top-N items, best first.")
    churn: Churn = Field(description="Churn risk at updated_at.")


class ChurnAlert(_Out):
    """One alert per at-risk episode; ``alert_id`` is deterministic, so re-sends are idempotent."""

    schema_version: int = Field(1, description="Version of this record layout (v1).")
    alert_id: str = Field(description="Deterministic id of the episode: re-sends are duplicates.")
    user_id: str = Field(description="The customer (also the record key).")
    ts: int = Field(description=f"Event time at which the risk crossed the threshold {_TS}.")
    risk: float = Field(ge=0, le=1, description="Churn risk when the alert was raised.")
    value: float = Field(description="Customer value used for the alert threshold (net spend).")
    reasons: list[str] = Field(description="Readable signals behind the risk, strongest first.")
    action: str = Field(description="Suggested retention action.")
    top_category: str | None = Field(None, description="The customer's favourite category.")
    recommended_items: list[str] = Field(
        default_factory=list, description="Items to feature in the retention offer."
    )
    contributions: list[Contribution] = Field(
        default_factory=list,
        max_length=3,
        description="The three strongest signed feature contributions at the alert, "
        "largest first (docs/explanations.md).",
    )


class DlqRecord(_Out):
    """A record the engine could not decode, validate or accept; nothing is dropped silently."""

    source_topic: str = Field(description="Topic (or file) the record came from.")
    partition: int | None = Field(None, ge=0, description="Source partition, if any.")
    offset: int | None = Field(None, ge=0, description="Source offset, if any.")
    error_type: DlqReason = Field(description="Why it was refused (see DlqReason).")
    error: str = Field(description="Names the field and the problem.")
    raw: str = Field(description="The raw record bytes, base64.")
    raw_truncated: bool = Field(
        False, description="True when ``raw`` keeps only the first bytes (too_large records)."
    )
    key: str | None = Field(None, description="The source record key, if any.")
