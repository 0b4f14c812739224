"""``replay`` input-limit flags: the future check against the wall clock, the floor."""

from __future__ import annotations

import orjson
import pytest

from insight_stream.cli.main import main


def write_events(path, *ts: object) -> None:
    lines = [
        orjson.dumps({"event_id": f"e{i}", "user_id": "u1", "type": "login", "ts": t})
        for i, t in enumerate(ts)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")


def dlq_reasons(out) -> list[str]:
    return [
        orjson.loads(line)["error_type"] for line in (out / "dlq.jsonl").read_bytes().splitlines()
    ]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], ["too_old", "future_timestamp"]),
        (["--no-future-check"], ["too_old"]),
        (["--max-future-skew", "36500d"], ["too_old"]),
        (["--min-event-ts", "1990-01-01", "--no-future-check"], []),
    ],
)
def test_replay_limit_flags(tmp_path, capsys, flags, expected) -> None:
    src = tmp_path / "clickstream.jsonl"
    write_events(src, "1997-03-01T00:00:00Z", "2024-01-01T00:00:00Z", "2099-01-01T00:00:00Z")
    out = tmp_path / "out"
    args = ["replay", str(src), "--out", str(out), "--quiet", "--no-count", *flags]
    assert main(args) == 0
    assert dlq_reasons(out) == expected


def test_replay_rejects_a_bad_duration(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["replay", "x.jsonl", "--max-future-skew", "soon"])
    assert "expected a duration" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, []),  # default policy: fold late events in
        ({"INSIGHT_LATE_POLICY": "dlq"}, ["late"]),
        ({"INSIGHT_LATE_POLICY": "dlq", "INSIGHT_ALLOWED_LATENESS": "3h"}, []),
    ],
)
def test_replay_reads_the_late_event_settings_run_reads(
    tmp_path, capsys, monkeypatch, env, expected
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    src = tmp_path / "clickstream.jsonl"
    write_events(src, "2024-01-01T10:00:00Z", "2024-01-01T10:05:00Z", "2024-01-01T08:00:00Z")
    out = tmp_path / "out"
    args = ["replay", str(src), "--out", str(out), "--quiet", "--no-count", "--partitions", "1"]
    assert main(args) == 0
    assert dlq_reasons(out) == expected


def test_replay_with_a_bad_runtime_setting_is_a_usage_error(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("INSIGHT_LATE_POLICY", "drop")
    src = tmp_path / "clickstream.jsonl"
    write_events(src, "2024-01-01T10:00:00Z")
    assert main(["replay", str(src), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "INSIGHT_LATE_POLICY" in capsys.readouterr().err
