"""A dependency-free progress line on stderr for long CLI work (simulate, replay, produce)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints ``label  done/total  rate/s  eta`` at most every ``every_s`` seconds.

    Silent when ``stream`` is not a terminal unless ``force`` is set, so logs and
    CI output stay clean; the final line is always printed by :meth:`close`.

    >>> import io
    >>> buf = io.StringIO()
    >>> with Progress(10, "events", stream=buf, force=True) as p:
    ...     p.update(10)
    >>> "10/10" in buf.getvalue()
    True
    """

    def __init__(
        self,
        total: int | None,
        label: str,
        stream: TextIO | None = None,
        every_s: float = 0.5,
        force: bool = False,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.every_s = every_s
        self.enabled = force or getattr(self.stream, "isatty", lambda: False)()
        self.done = 0
        self._start = time.monotonic()
        self._last = 0.0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._last >= self.every_s:
            self._last = now
            self._render(now, end="\r")

    def close(self) -> None:
        self._render(time.monotonic(), end="\n", always=True)

    def _render(self, now: float, end: str, always: bool = False) -> None:
        if not (self.enabled or always):
            return
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        if self.total:
            eta = (self.total - self.done) / rate if rate > 0 else 0.0
            text = (
                f"{self.label}: {self.done:,}/{self.total:,} ({100 * self.done / self.total:.0f}%)"
            )
            text += f"  {rate:,.0f}/s  eta {eta:.0f}s"
        else:
            text = f"{self.label}: {self.done:,}  {rate:,.0f}/s  {elapsed:.1f}s"
        print(text.ljust(72), end=end, file=self.stream, flush=True)
