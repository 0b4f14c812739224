"""Scale curve (``bench --scale``): the engine-only bench at several shop sizes.

Each size runs in its own (spawned) process, so its peak RSS is that size's alone
(``ru_maxrss`` only ever grows within a process). The instrumented stage pass is skipped;
the numbers per size are events/s, state bytes per user and peak RSS.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any

DEFAULT_SCALE_USERS = (1_000, 3_000, 10_000)
DEFAULT_SCALE_DAYS = 3


def _one(users: int, days: int, seed: int, flush_every: int, out: Any) -> None:
    from insight_stream.bench.engine import run_engine_bench
    from insight_stream.gc_tuning import tune_gc

    tune_gc()  # a spawned process does not run the CLI entry point
    r = run_engine_bench(users=users, days=days, seed=seed, flush_every=flush_every, stage_events=0)
    out.send(
        {
            "users": users,
            "active_users": r["users"],
            "events": r["events"],
            "events_per_s": round(r["events_per_s"]),
            "us_per_event": round(r["us_per_event"]["total"], 2),
            "bytes_per_user": round(r["bytes_per_user"]),
            "bytes_per_user_unpacked": round(r["bytes_per_user_unpacked"]),
            "packed_share": round(r["packed_share"], 3),
            "peak_rss_bytes": r["peak_rss_bytes"],
            "profiles_per_event": round(r["profiles_per_event"], 3),
        }
    )
    out.close()


def run_scale_bench(
    sizes: list[int],
    days: int = DEFAULT_SCALE_DAYS,
    seed: int = 7,
    flush_every: int = 10_000,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One engine bench per size in ``sizes`` (users), each in a fresh process."""
    ctx = mp.get_context("spawn")
    rows: list[dict[str, Any]] = []
    for users in sizes:
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_one, args=(users, days, seed, flush_every, send), daemon=True)
        proc.start()
        send.close()
        try:
            row = recv.recv()
        except EOFError:
            proc.join()
            msg = f"scale bench at {users:,} users failed (exit {proc.exitcode})"
            raise RuntimeError(msg) from None
        finally:
            proc.join()
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return {"mode": "scale", "days": days, "seed": seed, "rows": rows}


def print_scale_header(days: int) -> None:
    print(f"engine scale curve ({days} simulated days per size, one process per size):")
    print(
        "       users       events   events/s   us/event   state B/user   peak RSS MiB"
        "   profiles/event   packed   unpacked B/user"
    )


def print_scale_row(row: dict[str, Any]) -> None:
    print(
        f"  {row['users']:>10,}  {row['events']:>11,}  {row['events_per_s']:>9,}"
        f"  {row['us_per_event']:>9.2f}  {row['bytes_per_user']:>13,}"
        f"  {row['peak_rss_bytes'] / 2**20:>13,.0f}  {row['profiles_per_event']:>15.3f}"
        f"  {row['packed_share']:>7.0%}  {row['bytes_per_user_unpacked']:>16,}"
    )
