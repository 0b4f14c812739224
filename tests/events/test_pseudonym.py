"""Pseudonymous ids at the edge: keyed, stable, placed by the original id, clear errors."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest

from insight_stream.events import EVENT_ADAPTER
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver
from insight_stream.processor.partitioning import partition_for
from insight_stream.replay import replay_files
from insight_stream.runtime.config import ConfigError, load_config

KEY = "a-test-key-of-32-characters-long"


def test_downstream_computes_the_same_pseudonym_with_the_key() -> None:
    pz = Pseudonymizer(KEY)
    theirs = hmac.new(KEY.encode(), b"u00042", "sha256").hexdigest()
    assert pz.id("u00042") == theirs and len(theirs) == 64
    ev = EVENT_ADAPTER.validate_python(dict(event_id="e", user_id="u00042", type="login", ts=1))
    assert pz.event(ev).user_id == theirs and ev.user_id == "u00042"
    assert KEY not in repr(pz)


def test_short_or_missing_keys() -> None:
    assert load_config({}).pseudonymizer() is None
    with pytest.raises(ValueError, match="at least 16"):
        Pseudonymizer("short")
    with pytest.raises(ConfigError, match="INSIGHT_PSEUDONYMIZE_KEY"):
        load_config({"INSIGHT_PSEUDONYMIZE_KEY": "short"})
    assert load_config({"INSIGHT_PSEUDONYMIZE_KEY": KEY}).pseudonymizer() is not None
    assert load_config({}).redacted()["pseudonymize_key"] is None
    assert load_config({"INSIGHT_PSEUDONYMIZE_KEY": KEY}).redacted()["pseudonymize_key"] == "***"


def test_replay_places_records_by_the_original_id(tmp_path: Path) -> None:
    """Kafka partitions by the producer's key (the original id); replay must too."""
    line = '{{"event_id":"e{0}","user_id":"user-{0}","type":"login","ts":{1}}}\n'
    path = tmp_path / "clickstream.jsonl"
    path.write_text("".join(line.format(i, 1_700_000_000_000 + i) for i in range(200)))
    pz = Pseudonymizer(KEY)
    driver = Driver(Processor(), lambda rec: None)
    placed: list[tuple[str, int]] = []
    push = driver.push
    driver.push = lambda key, ev, *a: (placed.append((ev.user_id, key[1])), push(key, ev, *a))  # type: ignore[method-assign]
    replay_files(driver, [path], partitions=4, pseudonymizer=pz)
    want = [(pz.id(f"user-{i}"), partition_for(f"user-{i}", 4)) for i in range(200)]
    assert sorted(placed) == sorted(want)
    assert len({p for _, p in placed}) == 4
