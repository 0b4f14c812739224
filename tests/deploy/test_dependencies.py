"""Dependencies: every range in pyproject.toml is bounded and holds the version the tests ran
on; constraints.txt pins every one of them; the image and the Makefile install from it."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

import pytest
from deploy_support import DOCKERFILE, REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

CONSTRAINTS = REPO / "constraints.txt"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
EVERY = RUNTIME + [
    Requirement(r) for extra in PROJECT["optional-dependencies"].values() for r in extra
]


def pins() -> dict[str, str]:
    """Package -> pinned version from constraints.txt (exact ``==`` pins only)."""
    out: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"constraints.txt: not an exact pin: {line!r}"
        out[canonicalize_name(match.group(1))] = match.group(2)
    return out


def test_runtime_dependencies_are_the_expected_ones() -> None:
    names = {canonicalize_name(r.name) for r in RUNTIME}
    assert {"kafka-python", "crc32c", "river", "pydantic", "prometheus-client"} <= names
    assert not [r for r in RUNTIME if r.marker], "runtime dependencies are unconditional"


@pytest.mark.parametrize("req", RUNTIME, ids=[r.name for r in RUNTIME])
def test_runtime_ranges_are_bounded_and_hold_the_tested_version(req: Requirement) -> None:
    ops = {spec.operator for spec in req.specifier}
    assert ">=" in ops and "<" in ops, f"{req}: give a lower and an upper bound"
    assert req.specifier.contains(pins()[canonicalize_name(req.name)])
    assert req.specifier.contains(version(req.name)), f"{req}: installed {version(req.name)}"


def test_kafka_python_is_3() -> None:
    """2.0.2 rejects ``bootstrap_timeout_ms``, which the runtime passes."""
    (kafka,) = [r for r in RUNTIME if r.name == "kafka-python"]
    assert str(kafka.specifier) in ("<4,>=3.0", ">=3.0,<4")
    assert not kafka.specifier.contains("2.0.2")


@pytest.mark.parametrize("req", EVERY, ids=[r.name for r in EVERY])
def test_every_dependency_is_pinned_within_its_range(req: Requirement) -> None:
    pinned = pins().get(canonicalize_name(req.name))
    assert pinned is not None, f"{req.name} missing from constraints.txt (make constraints)"
    assert req.specifier.contains(pinned, prereleases=True), f"{req} vs pin {pinned}"


def test_pins_are_what_the_tests_run_on() -> None:
    pinned = pins()
    assert len(pinned) > len(EVERY)  # transitive dependencies are pinned too
    for req in EVERY:
        name = canonicalize_name(req.name)
        assert version(req.name) == pinned[name], f"{name}: installed differs from the pin"


def test_image_installs_from_the_constraints() -> None:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    installs = [line for line in text.splitlines() if re.search(r"\bpip install\b", line)]
    assert installs, "no pip install in the Dockerfile"
    for line in installs:
        assert "-c constraints.txt" in line, line
    copies = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]
    assert any("constraints.txt" in c for c in copies), "constraints.txt not copied"


def test_makefile_installs_from_the_constraints() -> None:
    text = (REPO / "Makefile").read_text()
    installs = [
        line for line in text.splitlines() if "pip install" in line and "--upgrade pip" not in line
    ]
    pinned = [line for line in installs if "-c constraints.txt" in line]
    assert pinned, "the venv install does not use constraints.txt"
    stamp = re.search(r"^\$\(STAMP\):(.*)$", text, re.M)
    assert stamp and "constraints.txt" in stamp.group(1), "a new pin must reinstall the venv"
