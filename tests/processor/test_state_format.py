"""Persisted state carries its format; other formats are refused by name, never misread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from insight_stream.processor import STATE_FORMAT, Processor, StateFormatError
from insight_stream.processor.snapshot import blob_format

from .test_processor import T0, order, visit

FIXTURES = Path(__file__).parent / "fixtures"


def test_checkpoint_round_trip_carries_the_format() -> None:
    proc = Processor()
    proc.process(order("a", T0))
    proc.process(visit("b", T0 + 5))
    ck = proc.checkpoint()
    assert blob_format(ck.shared) == STATE_FORMAT
    assert {blob_format(b) for b in ck.users.values() if b} == {STATE_FORMAT}
    again = Processor()
    again.restore(ck.users.items(), ck.shared)
    assert again.users["a"].profile.orders == 1 and again.stream_time == proc.stream_time


def test_first_format_checkpoint_is_refused_naming_both_formats() -> None:
    """A state directory written by the first landing (headerless positional pickles)."""
    db = sqlite3.connect(FIXTURES / "checkpoint-format1.sqlite")
    shared = db.execute("SELECT blob FROM shared").fetchone()[0]
    users = db.execute("SELECT user_id, blob FROM users").fetchall()
    expected = orjson.loads((FIXTURES / "checkpoint-format1.expected.json").read_bytes())
    assert len(users) == expected["users"]
    assert blob_format(shared) == 1 and blob_format(users[0][1]) == 1
    with pytest.raises(StateFormatError, match=r"format 1; this build reads format 3"):
        Processor().restore(iter(users), shared)
    with pytest.raises(StateFormatError, match="state of user"):
        Processor().restore(iter(users), None)


def test_a_newer_format_is_refused() -> None:
    proc = Processor()
    proc.process(order("a", T0))
    ck = proc.checkpoint()
    future = bytes([STATE_FORMAT + 1]) + ck.shared[1:]
    with pytest.raises(StateFormatError, match=f"format {STATE_FORMAT + 1}"):
        Processor().restore([], future)
