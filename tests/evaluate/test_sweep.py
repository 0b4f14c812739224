"""World-aware simulated evaluation: complement recovery vs SAR, the sweep and its CLI."""

from __future__ import annotations

import orjson

from insight_stream.cli.main import main
from insight_stream.evaluate.sar import UserJaccard, complement_recovery
from insight_stream.evaluate.simulated import evaluate_simulated
from insight_stream.evaluate.sweep import COLUMNS, format_sweep, run_sweep
from insight_stream.sim import world


def test_user_level_jaccard_sees_pairs_bought_months_apart() -> None:
    # u1..u3 buy "a" and, in some later order, "b"; "c" is bought by everyone
    purchases = {f"u{i}": {"a", "b", "c"} for i in range(3)} | {"u9": {"a", "c"}, "u8": {"c"}}
    sar = UserJaccard(purchases)
    assert sar.recommend({"a"}, 1) == ["c"]  # popular items still score
    assert sar.similarity("a", "b") > sar.similarity("b", "c")
    share, n = complement_recovery(purchases, [("a", "b")], {"u9": sar.recommend({"a", "c"})})
    assert (share, n) == (1.0, 1)


def test_report_carries_world_quality_and_complements_only_where_planted() -> None:
    later = evaluate_simulated(world("later-complements", users=250, days=50, seed=3))
    assert later["world"] == "later-complements"
    assert 0.0 <= later["metrics"]["complement_recovery"] <= 1.0
    assert "sar" in later["baselines"] and later["counts"]["complement_users"] > 20
    assert later["metrics"]["segments_k"] == later["segments_quality"]["k"] >= 3
    basket = evaluate_simulated(world("basket-complements", users=150, days=40, seed=3))
    assert "complement_recovery" not in basket["metrics"] and "sar" not in basket["baselines"]


def test_sweep_prints_one_row_per_run_and_a_mean_per_world(tmp_path, capsys) -> None:
    out = tmp_path / "sweep.json"
    code = main(
        [
            "evaluate",
            "--sweep",
            "--worlds",
            "default,later-complements",
            "--seeds",
            "1",
            "--sweep-users",
            "150",
            "--sweep-days",
            "40",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "sweep [2/2] later-complements seed 1" in captured.err
    lines = captured.out.splitlines()
    assert lines[1].split()[2:] == [h for h, _, _ in COLUMNS]
    assert sum(line.startswith("later-complements") for line in lines) == 2  # run + mean
    data = orjson.loads(out.read_bytes())
    assert [r["world"] for r in data["runs"]] == ["default", "later-complements"]
    assert data["summary"]["default"]["comp"] is not None  # the default world has follow-ups


def test_unknown_world_exits_2(capsys) -> None:
    assert main(["evaluate", "--world", "atlantis"]) == 2
    assert "unknown world 'atlantis'" in capsys.readouterr().err


def test_run_sweep_and_format_without_the_cli() -> None:
    result = run_sweep(["three-types"], [2], users=120, days=40)
    assert result["runs"][0]["row"]["types"] == 3
    assert "three-types" in format_sweep(result)
