"""One small simulated shop shared by the simulator tests (generated once, ~0.5 s)."""

from __future__ import annotations

import pytest

from insight_stream.sim import Shop, SimConfig

SMALL = SimConfig(users=400, days=90, seed=3, malformed_rate=0.02)


@pytest.fixture(scope="session")
def shop() -> Shop:
    return Shop(SMALL)


@pytest.fixture(scope="session")
def stream(shop: Shop) -> list[tuple[str, bytes]]:
    """The encoded merged stream (with malformed records)."""
    return list(shop.events())


@pytest.fixture(scope="session")
def records(shop: Shop) -> list[tuple[int, str, dict]]:
    """The valid events before encoding, in event-time order."""
    return list(shop.records())
