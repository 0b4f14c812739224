from __future__ import annotations

import pytest

from insight_stream.sim import SimConfig


def test_defaults_are_the_demo_size() -> None:
    cfg = SimConfig()
    assert (cfg.users, cfg.days, cfg.malformed_rate) == (3000, 120, 0.0)
    start, end = cfg.window_ms()
    assert end - start == 120 * 86_400_000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("users", 0),
        ("users", -5),
        ("users", 2.5),
        ("days", 0),
        ("seed", "x"),
        ("malformed_rate", -0.1),
        ("malformed_rate", 0.9),
        ("demographics_share", 1.5),
        ("start", "2024-13-01"),
        ("start", "yesterday"),
        ("categories", 40),
        ("items", 5),
    ],
)
def test_invalid_values_raise_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        SimConfig(**{field: value})


def test_frozen() -> None:
    cfg = SimConfig()
    with pytest.raises(AttributeError):
        cfg.users = 5  # type: ignore[misc]
