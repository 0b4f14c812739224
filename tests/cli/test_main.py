"""The entry point's process-wide settings."""

from __future__ import annotations

import gc

from insight_stream.cli.main import main
from insight_stream.gc_tuning import GC_THRESHOLD


def test_every_command_runs_with_the_tuned_collector() -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        assert main(["config", "--print-defaults"]) == 0
        assert gc.get_threshold() == GC_THRESHOLD != (700, 10, 10)
    finally:
        gc.set_threshold(*before)
