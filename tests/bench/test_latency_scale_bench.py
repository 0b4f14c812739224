"""bench --kafka --rate (latency), --scale and the flat --json schema: structure and sanity only."""

from __future__ import annotations

import orjson
import pytest

from insight_stream.bench.latency import percentile, run_latency_bench, summarize
from insight_stream.bench.report import VERSION, flat_report
from insight_stream.bench.scale import run_scale_bench
from insight_stream.cli.main import main


def test_percentiles_are_nearest_rank_and_ordered() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0
    s = summarize(values[::-1])
    assert s["p50"] <= s["p90"] <= s["p99"] <= s["max"] == 100.0
    assert summarize([])["p99"] == 0.0


@pytest.mark.integration
def test_latency_bench_maps_profiles_to_inputs(tansu_broker: str) -> None:
    r = run_latency_bench(users=200, days=5, seed=3, rate=1000, seconds=2, bootstrap=tansu_broker)
    assert r["exit_code"] == 0
    assert r["events"] == 2000 and r["achieved_rate"] > 0
    assert r["profiles_matched"] > 0
    lat = r["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    seen = r["seen_latency_ms"]
    assert seen["p99"] >= lat["p50"] > 0  # received after it was stamped
    assert r["lag_at_end"] is not None and r["lag_max"] >= 0
    flat = flat_report("latency", r)
    for key in ("latency_p50_ms", "latency_p99_ms", "seen_latency_p99_ms", "achieved_rate"):
        assert key in flat


def test_scale_bench_has_a_row_per_size() -> None:
    r = run_scale_bench([50, 120], days=2, seed=5)
    assert [row["users"] for row in r["rows"]] == [50, 120]
    for row in r["rows"]:
        assert row["events"] > 0 and row["events_per_s"] > 0
        assert row["bytes_per_user"] > 0 and row["peak_rss_bytes"] > 0
        assert 0 < row["profiles_per_event"] <= 1
    flat = flat_report("scale", r)
    assert flat["version"] == VERSION and flat["mode"] == "scale" and flat["scale_days"] == 2


def test_engine_json_is_flat_and_versioned(tmp_path) -> None:
    path = tmp_path / "bench.json"
    argv = ["bench", "--users", "60", "--days", "3", "--stage-events", "500"]
    assert main([*argv, "--json", str(path)]) == 0
    doc = orjson.loads(path.read_bytes())
    assert doc["version"] == VERSION and doc["mode"] == "engine"
    for key in ("events_per_s", "bytes_per_user", "peak_rss_bytes", "us_decode", "us_drain"):
        assert key in doc
    assert any(k.startswith("us_stage_") for k in doc)
    assert not any(isinstance(v, dict) for v in doc.values())


@pytest.mark.parametrize(
    "argv",
    [
        ["--rate", "100"],
        ["--kafka", "--scale"],
        ["--kafka", "--restore"],
        ["--scale-users", "10"],
        ["--scale", "--scale-users", "ten"],
        ["--kafka", "--rate", "0"],
        ["--kafka", "--seconds", "5"],
        ["--bootstrap", "x:9092"],
    ],
)
def test_bad_flag_combinations_are_usage_errors(argv: list[str], capsys) -> None:
    assert main(["bench", *argv]) == 2
    assert "bench" in capsys.readouterr().err
