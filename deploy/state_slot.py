"""Give each replica its own state directory on one shared volume, then exec the command.

``docker compose --scale`` mounts the same named volume into every replica, but a state
directory serves one process at a time (its checkpoint is locked). This takes the first free
``slot-N`` under ``$INSIGHT_STATE_DIR`` (the volume), holds its lock
for the life of the command (the lock file descriptor survives ``exec``), and runs the command
with ``INSIGHT_STATE_DIR`` pointing there. Any slot is safe for any replica: on assignment the
engine keeps a partition's local state only if it wrote that partition's last changelog marker,
and otherwise restores the partition from the changelog (docs/checkpointing.md).
Standard library only. Usage: ``python state_slot.py COMMAND [ARGS...]``.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

MAX_SLOTS = 64


def claim(root: Path, max_slots: int = MAX_SLOTS) -> tuple[Path, int]:
    """Lock the first free slot under ``root``: (its directory, the inheritable lock fd)."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(max_slots):
        fd = os.open(root / f"slot-{n}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        os.set_inheritable(fd, True)
        slot = root / f"slot-{n}"
        slot.mkdir(exist_ok=True)
        return slot, fd
    raise SystemExit(f"state_slot: all {max_slots} slots under {root} are in use")


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: state_slot.py COMMAND [ARGS...]")
    root = Path(os.environ.get("INSIGHT_STATE_DIR", "/var/lib/insight-stream"))
    slot, _fd = claim(root)
    print(f"state_slot: {slot}", file=sys.stderr, flush=True)
    os.execvpe(argv[0], argv, {**os.environ, "INSIGHT_STATE_DIR": str(slot)})


if __name__ == "__main__":
    main(sys.argv[1:])
