"""Progress: ``\\r`` lines on a terminal, plain periodic lines anywhere else."""

from __future__ import annotations

import io

from insight_stream.cli.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drive(stream: io.StringIO, steps: list[float]) -> str:
    clock = Clock()
    with Progress(100, "work", stream=stream, every_s=0.5, plain_every_s=5.0, clock=clock) as p:
        for t in steps:
            clock.now = t
            p.update(10)
    return stream.getvalue()


def test_not_a_terminal_prints_plain_lines_at_most_every_interval() -> None:
    out = drive(io.StringIO(), [0.1, 1.0, 4.9, 5.2, 6.0, 9.0, 10.3])
    assert "\r" not in out
    lines = out.splitlines()
    # at 5.2 and 10.3 (5 s apart at least), then the final line
    assert [line.split("  ")[0] for line in lines] == [
        "work: 40/100 (40%)",
        "work: 70/100 (70%)",
        "work: 70/100 (70%)",
    ]
    assert all(line == line.rstrip() for line in lines)


def test_terminal_rewrites_one_line() -> None:
    out = drive(Terminal(), [0.6, 1.2, 1.8])
    assert out.count("\r") == 3 and out.endswith("\n")
    assert out.split("\r")[0].startswith("work: 10/100 (10%)")
