"""The Grafana dashboard: well-formed, importable into another Grafana (datasource and job are
template variables), valid PromQL, readable units and axes, and covering every metric the app
documents. (Live data: test_live_prometheus.py.)"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import promql_parser
import pytest
from deploy_support import (
    DASHBOARD,
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
    "Churn risk distribution": "insight_stream_churn_risk_ratio_bucket",
    "Recommendation coverage": "insight_stream_recommendation_coverage_ratio",
    "Model quality": "insight_stream_model_quality_ratio",
    "Stream time and watermark": "insight_stream_watermark_timestamp_seconds",
    "Timer queue": "insight_stream_timer_queue_entries",
    "Checkpoint and produce latency": "insight_stream_checkpoint_duration_seconds_bucket",
    "Memory": "process_resident_memory_bytes",
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


def _variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def test_datasource_is_a_template_variable(dashboard: dict[str, Any]) -> None:
    """Every query goes through ``${datasource}``, so an import picks any Prometheus."""
    var = _variables(dashboard)["datasource"]
    assert (var["type"], var["query"]) == ("datasource", "prometheus")
    refs = []
    for panel in iter_panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        refs.append((f"panel {panel['id']}", panel.get("datasource")))
        refs += [
            (f"panel {panel['id']} {t['refId']}", t.get("datasource")) for t in panel["targets"]
        ]
    refs += [
        (f"variable {v['name']}", v.get("datasource"))
        for v in dashboard["templating"]["list"]
        if v["type"] == "query"
    ]
    assert len(refs) > 40
    for where, ds in refs:
        assert ds == {"type": "prometheus", "uid": "${datasource}"}, f"{where}: {ds}"
    # the compose stack's provisioned datasource is the default, not baked into the JSON
    assert provisioned_uid() not in DASHBOARD.read_text()
    (provisioned,) = load_yaml(GRAFANA_DATASOURCES)["datasources"]
    assert provisioned["isDefault"] is True


def _job_matchers(expr: str) -> list[tuple[str, str]]:
    """(metric, job matcher) of every vector selector, with ``$job`` kept visible."""
    found: list[tuple[str, str]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            jobs = [str(m) for m in node.matchers.matchers if m.name == "job"]
            found.append((node.name, ",".join(jobs)))

    promql_parser.walk(promql_parser.parse(substitute(expr.replace("$job", "JOBVAR"))), visit)
    return found


def test_job_is_a_template_variable_used_by_every_query(dashboard: dict[str, Any]) -> None:
    var = _variables(dashboard)["job"]
    assert var["type"] == "query" and var["current"]["value"] == "insight-stream"
    assert "$job" in _variables(dashboard)["instance"]["definition"]
    selectors = [(where, sel) for where, expr in QUERIES for sel in _job_matchers(expr)]
    assert len(selectors) >= len(QUERIES)
    for where, (metric, job) in selectors:
        assert job == 'job=~"JOBVAR"', f"{where}: {metric} selects job by {job!r}"


def _panel(dashboard: dict[str, Any], fragment: str) -> dict[str, Any]:
    (panel,) = [p for p in iter_panels(dashboard["panels"]) if fragment in p["title"].lower()]
    return panel


@pytest.mark.parametrize("fragment", ["model quality", "recommendation coverage"])
def test_quality_panels_are_percentages(dashboard: dict[str, Any], fragment: str) -> None:
    defaults = _panel(dashboard, fragment)["fieldConfig"]["defaults"]
    assert (defaults["unit"], defaults["min"], defaults["max"]) == ("percentunit", 0, 1)


def test_every_ratio_metric_is_shown_as_a_percentage(dashboard: dict[str, Any]) -> None:
    ratio_panels = [
        p
        for p in iter_panels(dashboard["panels"])
        for t in p.get("targets", [])
        if "_ratio{" in t["expr"] and "_bucket" not in t["expr"]
    ]
    assert len(ratio_panels) >= 2
    for panel in ratio_panels:
        assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit", panel["title"]


def _right_axis_refs(panel: dict[str, Any]) -> set[str]:
    return {
        o["matcher"]["options"]
        for o in panel["fieldConfig"]["overrides"]
        if o["matcher"]["id"] == "byFrameRefID"
        and {"id": "custom.axisPlacement", "value": "right"} in o["properties"]
    }


def test_alerts_and_profiles_have_separate_axes(dashboard: dict[str, Any]) -> None:
    panel = _panel(dashboard, "churn alert rate")
    refs = {
        metric: t["refId"]
        for t in panel["targets"]
        for metric in metric_names(substitute(t["expr"]))
    }
    right = _right_axis_refs(panel)
    assert refs["insight_stream_profiles_published_total"] in right
    assert refs["insight_stream_churn_alerts_total"] not in right


@pytest.mark.parametrize(("where", "expr"), QUERIES, ids=[w for w, _ in QUERIES])
def test_expression_parses(where: str, expr: str) -> None:
    promql_parser.parse(substitute(expr))


def test_variable_queries_parse(dashboard: dict[str, Any]) -> None:
    variables = variable_queries(dashboard)
    assert [name for name, _ in variables] == ["job", "instance"]
    for _, selector in variables:
        promql_parser.parse(substitute(selector))


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
