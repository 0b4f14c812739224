"""The simulated-shop flags shared by ``simulate``, ``produce`` and ``demo``.

Values are checked by argparse, so a bad one stops the command with a message that
names the flag (exit 2) before any file or broker is touched.
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An int >= 1.

    >>> positive_int("3")
    3
    """
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def malformed_rate(text: str) -> float:
    """A share in [0, 0.5].

    >>> malformed_rate("0.1")
    0.1
    """
    value = float(text)
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5, got {text}")
    return value


def add_shop_arguments(
    p: argparse.ArgumentParser, users: int, days: int, malformed: float, seed: int = 7
) -> None:
    """Add ``--users``, ``--days``, ``--seed`` and ``--malformed-rate`` with these defaults."""
    p.add_argument(
        "--users",
        type=positive_int,
        default=users,
        help=f"number of simulated customers (default {users})",
    )
    p.add_argument(
        "--days",
        type=positive_int,
        default=days,
        help=f"length of the event-time window in days (default {days})",
    )
    p.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    p.add_argument(
        "--malformed-rate",
        type=malformed_rate,
        default=malformed,
        help=f"share of records replaced by malformed ones, 0-0.5 (default {malformed})",
    )
