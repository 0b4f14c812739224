from __future__ import annotations

import orjson
import pytest

from insight_stream.cli.main import main


def test_simulate_writes_the_three_files_and_a_summary(tmp_path, capsys) -> None:
    out = tmp_path / "shop"
    code = main(
        [
            "simulate",
            "--users",
            "30",
            "--days",
            "14",
            "--seed",
            "2",
            "--malformed-rate",
            "0.05",
            "--start",
            "2024-03-01",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    clicks = (out / "clickstream.jsonl").read_bytes().splitlines()
    orders = (out / "orders.jsonl").read_bytes().splitlines()
    truth = orjson.loads((out / "truth.json").read_bytes())
    assert clicks and len(truth["users"]) == 30
    assert truth["config"]["start"] == "2024-03-01"
    text = capsys.readouterr().out
    assert f"{len(clicks):,} records" in text and f"{len(orders):,} records" in text
    assert f"malformed records: {truth['malformed']:,}" in text
    assert "churners:" in text and "window_shopper" in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--users", "0"], "--users"),
        (["--malformed-rate", "2"], "--malformed-rate"),
        (["--start", "not-a-date"], "start"),
    ],
)
def test_bad_arguments_exit_nonzero_with_a_clear_message(tmp_path, capsys, args, needle) -> None:
    try:
        code = main(["simulate", "--out", str(tmp_path), *args])
    except SystemExit as exc:  # rejected by the parser
        code = exc.code
    assert code != 0
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "clickstream.jsonl").exists()


def test_non_numeric_users_is_rejected_by_the_parser(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--users", "many"])
    assert exc.value.code != 0
