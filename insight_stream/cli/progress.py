"""A dependency-free progress report on stderr for long CLI work (simulate, replay, demo ...).

On a terminal it is one line rewritten in place (``\\r``) twice a second. Anywhere else
(a pipe, a log file, CI) ``\\r`` lines would pile up as one unreadable line, so it prints
plain lines instead, at most one every ``plain_every_s`` seconds; the final line is always
printed by :meth:`close`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Reports ``label: done/total (pct)  rate/s  eta`` while work advances.

    >>> import io
    >>> buf = io.StringIO()  # not a terminal: plain lines, no carriage returns
    >>> with Progress(10, "events", stream=buf) as p:
    ...     p.update(10)
    >>> buf.getvalue().startswith("events: 10/10 (100%)"), chr(13) in buf.getvalue()
    (True, False)
    """

    def __init__(
        self,
        total: int | None,
        label: str,
        stream: TextIO | None = None,
        every_s: float = 0.5,
        plain_every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s = every_s if self.tty else plain_every_s
        self.done = 0
        self._clock = clock
        self._start = clock()
        self._last = self._start

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self._clock()
        if now - self._last >= self.every_s:
            self._last = now
            self._render(now, end="\r" if self.tty else "\n")

    def close(self) -> None:
        self._render(self._clock(), end="\n")

    def _render(self, now: float, end: str) -> None:
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
        if self.tty:
            text = text.ljust(72)  # overwrite a longer previous line
        print(text, end=end, file=self.stream, flush=True)
