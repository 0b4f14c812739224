"""Why the engine refuses a valid event: the drive loop sends it to the DLQ with the reason."""

from __future__ import annotations


class RejectedEvent(Exception):
    """A decoded event the engine will not fold in (e.g. ``late`` under the DLQ policy).

    ``reason`` becomes the DLQ record's ``error_type``; ``message`` its ``error_message``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
