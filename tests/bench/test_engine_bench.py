from insight_stream.bench.engine import run_engine_bench
from insight_stream.sim import Shop, SimConfig


def test_engine_bench_reports_every_key_over_the_whole_shop():
    report = run_engine_bench(users=200, days=14, seed=5, stage_events=2000)
    expected = sum(1 for _ in Shop(SimConfig(users=200, days=14, seed=5)).events())
    assert report["events"] == expected
    assert report["events_per_s"] > 0
    assert report["peak_rss_bytes"] > 0
    assert 100 < report["bytes_per_user"] < 100_000
    us = report["us_per_event"]
    assert us["total"] > 0 and us["decode"] > 0 and us["process"] > 0
    assert "recommendations" in us["stages_instrumented"]
    # every user is published at least once (a window end), and not more than once per event
    assert 200 <= report["profiles"] <= report["events"]
    assert report["profiles_per_event"] == report["profiles"] / report["events"]
