"""Output records shaped (and validated) by ``insight_stream.events.outputs``, and a way to
run the examples: as modules for their logic, as scripts against the test broker."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

from insight_stream.events.outputs import ChurnAlert, Profile

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (the examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run an example script as a user would, with this interpreter."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def unique_topic(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def profile(user_id: str, updated_at: int, items: list[str], risk: float = 0.2) -> bytes:
    """A Profile record (JSON bytes) with ``items`` as ranked recommendations."""
    day = 86_400_000
    return (
        Profile.model_validate(
            {
                "user_id": user_id,
                "updated_at": updated_at,
                "first_seen": updated_at - 30 * day,
                "last_seen": updated_at,
                "tenure_days": 30.0,
                "rfm": {"recency_days": 2.0, "frequency": 3, "monetary": 240.5},
                "orders": 3,
                "avg_order_value": 80.17,
                "returns": 0,
                "cancellations": 0,
                "sessions": 9,
                "avg_session_events": 6.5,
                "funnel": {"view_to_cart": 0.2, "cart_to_order": 0.5},
                "top_categories": [["shoes", 0.7], ["bags", 0.3]],
                "discount_sensitivity": 0.1,
                "demographics": {"region": "north"},
                "segment": {
                    "id": 2,
                    "name": "high-value loyal",
                    "description": "frequent, recent, high spend",
                    "action": "early access",
                },
                "recommendations": [
                    {
                        "item_id": item,
                        "score": round(1.0 - 0.1 * rank, 3),
                        "reason": f"bought with i{rank}",
                        "because_of": f"i{rank}",
                    }
                    for rank, item in enumerate(items)
                ],
                "churn": {"risk": risk, "p_alive": 1 - risk, "reasons": []},
            }
        )
        .model_dump_json()
        .encode()
    )


def alert(alert_id: str, user_id: str, action: str, risk: float = 0.85) -> bytes:
    """A ChurnAlert record (JSON bytes)."""
    return (
        ChurnAlert.model_validate(
            {
                "alert_id": alert_id,
                "user_id": user_id,
                "ts": 1_717_000_000_000,
                "risk": risk,
                "value": 512.25,
                "reasons": ["no visit for 45 days (usually every 6)"],
                "action": action,
                "top_category": "shoes",
                "recommended_items": ["i7", "i9"],
            }
        )
        .model_dump_json()
        .encode()
    )


def produce(bootstrap: str, topic: str, records: list[tuple[str, bytes | None]]) -> None:
    """Send ``(key, value)`` records in order to one partition per key, and flush."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in records:
            producer.send(topic, key=key.encode(), value=value).get(timeout=30)
        producer.flush()
    finally:
        producer.close()
