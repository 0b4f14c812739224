"""``insight-stream config``, ``--version``, usage errors exit 2, engine config in replay."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import orjson
import pytest

from insight_stream.cli.main import main
from insight_stream.processor import EngineConfig
from insight_stream.processor.engine_file import load_engine_config


def test_print_defaults_loads_back_as_the_default_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "--print-defaults"]) == 0
    path = tmp_path / "engine.toml"
    path.write_text(capsys.readouterr().out)
    assert load_engine_config(path, {}) == EngineConfig()
    assert main(["config", "--check", "--engine-config", str(path)]) == 0


def test_check_reports_a_bad_key_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "engine.toml"
    path.write_text("[churn]\nalert_threshold = 0.97\n")
    monkeypatch.setenv("INSIGHT_ENGINE_CONFIG", str(path))
    assert main(["config", "--check"]) == 0
    assert "alert_threshold = 0.97" in capsys.readouterr().out  # the file from the env
    monkeypatch.setenv("INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD", "loud")
    assert main(["config", "--check"]) == 2
    err = capsys.readouterr().err
    assert "INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD: churn.alert_threshold = 'loud'" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == (
        f"insight-stream {importlib.metadata.version('insight-stream')}"
    )


def test_segments_tune_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "tune", "--k-min", "5", "--k-max", "3"]) == 2
    assert "need 2 <= --k-min <= --k-max" in capsys.readouterr().err


def _alerts(out: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in (out / "alerts.jsonl").read_bytes().splitlines()]


def test_replay_uses_the_engine_config(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    sim = ["simulate", "--users", "300", "--days", "60", "--seed", "3", "--out", str(shop)]
    assert main(sim) == 0
    engine = tmp_path / "engine.toml"
    engine.write_text("[churn]\nalert_threshold = 0.6\nreset_threshold = 0.4\nmin_value = 0\n")
    base = ["replay", str(shop), "--quiet", "--no-future-check"]
    assert main([*base, "--out", str(tmp_path / "default")]) == 0
    assert main([*base, "--out", str(tmp_path / "eager"), "--engine-config", str(engine)]) == 0
    default, eager = _alerts(tmp_path / "default"), _alerts(tmp_path / "eager")
    assert len(eager) > len(default)
    assert min(float(a["risk"]) for a in eager) < 0.95  # type: ignore[arg-type]
