"""Why the engine refused an event it could decode (the drive loop DLQs it)."""

from __future__ import annotations

from insight_stream.events.outputs import DlqReason


class RejectedEvent(Exception):
    """A valid event the engine will not fold; state is exactly as before the call.

    The drive loop maps it to a DLQ record with ``error_type = reason`` and
    ``error = message``; any other exception from ``process`` is a bug (``processing``).

    >>> exc = RejectedEvent("late", "ts 1 is 9 ms behind stream time 10")
    >>> exc.reason, str(exc)
    ('late', 'ts 1 is 9 ms behind stream time 10')
    """

    def __init__(self, reason: DlqReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple:
        return (type(self), (self.reason, self.message))
