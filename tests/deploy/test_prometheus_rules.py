"""Prometheus config and alert rules: promtool checks, unit tests per alert, valid metrics."""

from __future__ import annotations

import promql_parser
from deploy_support import (
    PROM_CONFIG,
    PROM_RULE_TESTS,
    PROM_RULES,
    documented_metrics,
    load_yaml,
    metric_names,
    run_tool,
    series_names,
    system_binary,
)

# The failures the issue names -> the alerts that cover them.
REQUIRED_ALERTS = {
    "consumer lag growing": "InsightStreamConsumerLagGrowing",
    "DLQ rate high": "InsightStreamDLQRateHigh",
    "processor down": "InsightStreamDown",
    "processor stalled": "InsightStreamStalled",
    "no events arriving": "InsightStreamNoEvents",
}


def alert_rules() -> list[dict]:
    return [
        r for f in PROM_RULES for g in load_yaml(f)["groups"] for r in g["rules"] if "alert" in r
    ]


def test_promtool_check_config() -> None:
    proc = run_tool([system_binary("promtool"), "check", "config", PROM_CONFIG])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_check_rules() -> None:
    assert PROM_RULES, "no rule files in deploy/prometheus/rules"
    proc = run_tool([system_binary("promtool"), "check", "rules", *PROM_RULES])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_test_rules() -> None:
    assert PROM_RULE_TESTS, "no unit tests in deploy/prometheus/tests"
    proc = run_tool([system_binary("promtool"), "test", "rules", *PROM_RULE_TESTS])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_required_alerts_exist() -> None:
    names = {r["alert"] for r in alert_rules()}
    missing = {why: name for why, name in REQUIRED_ALERTS.items() if name not in names}
    assert not missing, missing


def test_every_alert_has_firing_and_quiet_unit_tests() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in PROM_RULE_TESTS:
        for case in load_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {r["alert"] for r in alert_rules()}
    assert names - fires == set(), f"alerts never shown to fire: {names - fires}"
    assert names - quiet == set(), f"alerts never shown to stay quiet: {names - quiet}"


def test_alerts_are_documented_and_use_real_metrics() -> None:
    known = series_names(documented_metrics()) | {"up"}
    for rule in alert_rules():
        promql_parser.parse(rule["expr"])
        used = set(metric_names(rule["expr"]))
        assert used <= known, f"{rule['alert']}: unknown metrics {used - known}"
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
