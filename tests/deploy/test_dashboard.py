"""The Grafana dashboard: well-formed, bound to the provisioned datasource, valid PromQL,
and covering every metric the app documents. (Live data: test_live_prometheus.py.)"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import promql_parser
import pytest
from deploy_support import (
    GRAFANA_DATASOURCES,
    dashboard_queries,
    documented_metrics,
    iter_panels,
    load_dashboard,
    load_yaml,
    metric_names,
    series_names,
    substitute,
    variable_queries,
)

QUERIES = dashboard_queries(load_dashboard())

# What the issue asks the dashboard to show: title fragment -> metric it must query.
REQUIRED = {
    "Throughput by topic": "insight_stream_events_consumed_total",
    "Processing latency": "insight_stream_processing_duration_seconds_bucket",
    "Event-time lag": "insight_stream_event_time_lag_seconds_bucket",
    "Consumer lag per partition": "insight_stream_consumer_lag_records",
    "DLQ rate by reason": "insight_stream_dlq_records_total",
    "Commit latency": "insight_stream_commit_duration_seconds_bucket",
    "Rebalances": "insight_stream_rebalances_total",
    "Segment sizes": "insight_stream_segment_users",
    "Churn alert rate": "insight_stream_churn_alerts_total",
    "Churn risk distribution": "insight_stream_churn_risk_users",
    "Recommendation coverage": "insight_stream_recommendation_coverage_ratio",
    "Model quality": "insight_stream_model_quality",
}


def provisioned_uid() -> str:
    (ds,) = load_yaml(GRAFANA_DATASOURCES)["datasources"]
    return ds["uid"]


def test_panel_ids_unique(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in iter_panels(dashboard["panels"])]
    assert all(isinstance(i, int) for i in ids)
    assert len(ids) == len(set(ids)), sorted(ids)


def test_grid_positions(dashboard: dict[str, Any]) -> None:
    boxes = []
    for panel in iter_panels(dashboard["panels"]):
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"}, panel["id"]
        assert all(type(v) is int and v >= 0 for v in grid.values()), (panel["id"], grid)
        assert grid["w"] >= 1 and grid["h"] >= 1 and grid["x"] + grid["w"] <= 24, (
            panel["id"],
            grid,
        )
        boxes.append((panel["id"], grid))
    for (a, ga), (b, gb) in combinations(boxes, 2):
        overlap_x = ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"]
        overlap_y = ga["y"] < gb["y"] + gb["h"] and gb["y"] < ga["y"] + ga["h"]
        assert not (overlap_x and overlap_y), f"panels {a} and {b} overlap"


def test_datasource_is_the_provisioned_one(dashboard: dict[str, Any]) -> None:
    uid = provisioned_uid()
    refs = []
    for panel in iter_panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        refs.append((f"panel {panel['id']}", panel.get("datasource")))
        refs += [
            (f"panel {panel['id']} {t['refId']}", t.get("datasource")) for t in panel["targets"]
        ]
    refs += [
        (f"variable {v['name']}", v.get("datasource")) for v in dashboard["templating"]["list"]
    ]
    for where, ds in refs:
        assert isinstance(ds, dict) and ds.get("uid") == uid, (
            f"{where}: datasource {ds} != uid {uid}"
        )
        assert ds.get("type") == "prometheus", where


@pytest.mark.parametrize(("where", "expr"), QUERIES, ids=[w for w, _ in QUERIES])
def test_expression_parses(where: str, expr: str) -> None:
    promql_parser.parse(substitute(expr))


def test_variable_queries_parse(dashboard: dict[str, Any]) -> None:
    variables = variable_queries(dashboard)
    assert [name for name, _ in variables] == ["instance"]
    for _, selector in variables:
        promql_parser.parse(selector)


def test_metrics_exist_and_all_are_shown(dashboard: dict[str, Any]) -> None:
    documented = documented_metrics()
    known = series_names(documented) | {"up"}
    used = {name for _, expr in QUERIES for name in metric_names(substitute(expr))}
    assert not used - known, f"not in docs/metrics.md: {sorted(used - known)}"
    shown = {name.removesuffix("_bucket") for name in used}
    assert not set(documented) - shown, (
        f"documented but not on the dashboard: {set(documented) - shown}"
    )


def test_required_panels(dashboard: dict[str, Any]) -> None:
    panels = [p for p in iter_panels(dashboard["panels"]) if p["type"] != "row"]
    for fragment, metric in REQUIRED.items():
        matches = [p for p in panels if fragment.lower() in p["title"].lower()]
        assert matches, f"no panel titled like {fragment!r}"
        exprs = [t["expr"] for p in matches for t in p["targets"]]
        assert any(metric in metric_names(substitute(e)) for e in exprs), (fragment, metric)


def test_quantile_panels_show_p50_and_p99(dashboard: dict[str, Any]) -> None:
    for panel in iter_panels(dashboard["panels"]):
        exprs = [t["expr"] for t in panel.get("targets", [])]
        if any("histogram_quantile" in e for e in exprs):
            assert any("histogram_quantile(0.5," in e for e in exprs), panel["title"]
            assert any("histogram_quantile(0.99," in e for e in exprs), panel["title"]
