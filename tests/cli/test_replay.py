import base64

import orjson

from insight_stream.cli.main import main


def test_replay_writes_outputs_deterministically_and_dlq_keeps_bad_records(tmp_path, capsys):
    shop = tmp_path / "shop"
    assert (
        main(
            [
                "simulate",
                "--users",
                "150",
                "--days",
                "30",
                "--seed",
                "5",
                "--malformed-rate",
                "0.02",
                "--out",
                str(shop),
            ]
        )
        == 0
    )
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["replay", str(shop), "--out", str(out), "--flush-events", "500"]) == 0
        outs.append(out)
    for name in ("profiles.jsonl", "alerts.jsonl", "dlq.jsonl"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    truth = orjson.loads((shop / "truth.json").read_bytes())
    dlq = [orjson.loads(line) for line in (outs[0] / "dlq.jsonl").read_bytes().splitlines()]
    assert len(dlq) == truth["malformed"] > 0
    raw_inputs = set((shop / "clickstream.jsonl").read_bytes().splitlines())
    raw_inputs |= set((shop / "orders.jsonl").read_bytes().splitlines())
    for rec in dlq:
        assert base64.b64decode(rec["raw"]) in raw_inputs  # raw bytes kept exactly
        assert rec["error"] and rec["error_type"] in {"decode", "validation"}
    profiles = [
        orjson.loads(line) for line in (outs[0] / "profiles.jsonl").read_bytes().splitlines()
    ]
    assert {p["user_id"] for p in profiles} <= set(truth["users"])
    summary = capsys.readouterr().out
    assert "segments" in summary and "quality vs ground truth" in summary


def test_replay_missing_input_is_a_usage_error(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_schema_command_writes_all_schemas(tmp_path):
    assert main(["schema", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "churn-alert.v1.json",
        "dlq-record.v1.json",
        "input-event.v1.json",
        "profile.v1.json",
    ]


def test_every_command_has_help(capsys):
    from insight_stream.cli.main import COMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        text = sub.choices[name].format_help()
        assert len(text) > 200, name
    assert set(sub.choices) <= set(COMMANDS)


def test_replay_takes_the_pseudonymize_key_from_the_environment(tmp_path, monkeypatch, capsys):
    """`replay` reads INSIGHT_PSEUDONYMIZE_KEY like `run`, so both publish the same ids."""
    from insight_stream.events.pseudonym import Pseudonymizer

    shop = tmp_path / "shop"
    args = ["simulate", "--users", "40", "--days", "10", "--seed", "2", "--out", str(shop)]
    assert main(args) == 0
    key = "replay-test-key-0123456789"
    monkeypatch.setenv("INSIGHT_PSEUDONYMIZE_KEY", key)
    assert main(["replay", str(shop), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    ids = {
        orjson.loads(line)["user_id"]
        for line in (tmp_path / "out" / "profiles.jsonl").read_bytes().splitlines()
    }
    raw = {orjson.loads(line)["user_id"] for line in (shop / "clickstream.jsonl").open("rb")}
    assert ids and ids <= {Pseudonymizer(key).id(u) for u in raw}
    monkeypatch.setenv("INSIGHT_PSEUDONYMIZE_KEY", "short")
    capsys.readouterr()
    assert main(["replay", str(shop), "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "INSIGHT_PSEUDONYMIZE_KEY" in capsys.readouterr().err  # refused, naming the key
