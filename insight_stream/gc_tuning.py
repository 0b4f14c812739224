"""The cyclic garbage collector's thresholds for every insight-stream process."""

from __future__ import annotations

import gc

GC_THRESHOLD = (50_000, 20, 20)
"""Generation thresholds (CPython's: 700, 10, 10). Decoding and scoring allocate many
short-lived, acyclic objects (freed by reference counting), so collecting the youngest
generation every 700 allocations mostly re-scans survivors: ``bench --users 5000 --days 30``
spent 7.3 us per event in decode with the default and 3.7-4.1 us with this one, at the same
peak RSS (README, Performance)."""


def tune_gc() -> None:
    """Apply :data:`GC_THRESHOLD` (the CLI entry point and bench worker processes)."""
    gc.set_threshold(*GC_THRESHOLD)
