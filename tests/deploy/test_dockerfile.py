"""deploy/Dockerfile: hadolint-clean, multi-stage, slim, non-root, exec-form, healthchecked;
its build context holds what it copies; its HEALTHCHECK script answers like /healthz."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from deploy_support import DEPLOY, DOCKERFILE, REPO, hadolint_binary, run_tool

from insight_stream.runtime.config import BY_ENV

DOCKERIGNORE = DOCKERFILE.with_name("Dockerfile.dockerignore")


def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def args_of(op: str) -> list[str]:
    return [rest for o, rest in instructions() if o == op]


def test_hadolint_clean() -> None:
    proc = run_tool([hadolint_binary(), "--failure-threshold", "style", "--no-color", DOCKERFILE])
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_hadolint_catches_problems(tmp_path: Path) -> None:
    """The binary really lints (a bad Dockerfile fails)."""
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\nRUN apt-get install curl\nUSER root\nCMD insight-stream run\n"
    )
    proc = run_tool([hadolint_binary(), "--no-color", bad])
    assert proc.returncode != 0 and "DL3007" in proc.stdout


def test_multi_stage_slim_base() -> None:
    froms = args_of("FROM")
    assert len(froms) >= 2, "expected a build and a runtime stage"
    base_args = {m[0]: m[1] for m in re.findall(r"^(\w+)=(\S+)", "\n".join(args_of("ARG")), re.M)}
    runtime_base = froms[-1].split()[0]
    runtime_base = re.sub(
        r"\$\{?(\w+)\}?", lambda m: base_args.get(m.group(1), m.group(0)), runtime_base
    )
    assert re.fullmatch(r"python:3\.1[1-9][\w.-]*-slim[\w.-]*", runtime_base), runtime_base
    assert any("--from=build" in c for c in args_of("COPY")), (
        "runtime must copy from the build stage"
    )


def test_non_root_user() -> None:
    user = args_of("USER")[-1]
    assert user.split(":")[0] not in ("root", "0"), user


def test_exec_form_entrypoint_and_healthcheck() -> None:
    assert json.loads(args_of("ENTRYPOINT")[-1]) == ["insight-stream"]
    assert json.loads(args_of("CMD")[-1]) == ["run"]
    (health,) = args_of("HEALTHCHECK")
    options, _, command = health.partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    probe = json.loads(command)
    assert "/healthz" in probe
    script = next(a for a in probe if "healthcheck" in a)
    copied = [c.split() for c in args_of("COPY")]
    assert any(c[-1] == script and (REPO / c[-2]).is_file() for c in copied), (
        "probe script not copied"
    )


def test_env_and_expose_match_settings() -> None:
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(args_of("ENV"))))
    insight = {k: v for k, v in env.items() if k.startswith("INSIGHT_")}
    assert set(insight) <= set(BY_ENV), set(insight) - set(BY_ENV)
    assert args_of("EXPOSE") == [insight["INSIGHT_METRICS_PORT"]]


def _ignored(path: str, patterns: list[str]) -> bool:
    """BuildKit .dockerignore semantics for one path: the last matching pattern wins."""
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.removeprefix("!").strip("/")
        regex = (
            re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        )
        parts = path.split("/")
        if any(re.fullmatch(regex, "/".join(parts[: i + 1])) for i in range(len(parts))):
            ignored = not negate
    return ignored


def test_build_context_has_what_is_copied() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    sources = [s for c in args_of("COPY") if "--from=" not in c for s in c.split()[:-1]]
    assert (
        project["readme"] in sources and "pyproject.toml" in sources and "insight_stream" in sources
    )
    for source in sources:
        assert (REPO / source).exists(), (
            f"COPY {source}: missing from the build context (repo root)"
        )
        assert not _ignored(source, patterns), f"COPY {source}: excluded by {DOCKERIGNORE.name}"
    for module in (REPO / "insight_stream").rglob("*.py"):
        assert not _ignored(module.relative_to(REPO).as_posix(), patterns), module
    assert _ignored(".venv/bin/python", patterns) and _ignored(
        "tests/deploy/test_dockerfile.py", patterns
    )


# ---- the HEALTHCHECK probe script -------------------------------------------------


def _load_probe():
    spec = importlib.util.spec_from_file_location("insight_healthcheck", DEPLOY / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def health_server() -> Iterator[tuple[int, dict[str, int]]]:
    status = {"/healthz": 200, "/readyz": 503}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status.get(self.path, 404))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], status
    server.shutdown()
    server.server_close()


def test_probe_follows_status(health_server: tuple[int, dict[str, int]]) -> None:
    port, status = health_server
    probe = _load_probe()
    assert probe.check("/healthz", port=port) == 0
    assert probe.check("/readyz", port=port) == 1
    status["/healthz"] = 503
    assert probe.check("/healthz", port=port) == 1


def test_probe_fails_without_server() -> None:
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    assert _load_probe().check("/healthz", port=port, timeout=0.5) == 1
