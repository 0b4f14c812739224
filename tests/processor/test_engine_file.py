"""Engine settings from TOML + INSIGHT_ENGINE__*: precedence, errors naming key and value."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from insight_stream.processor import EngineConfig
from insight_stream.processor.engine_file import (
    STATE_KEYS,
    EngineConfigError,
    load_engine_config,
    state_settings,
)
from insight_stream.processor.engine_toml import to_toml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return path


def errors_of(path: Path | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(EngineConfigError) as err:
        load_engine_config(path, env or {})
    return str(err.value)


def test_defaults_toml_loads_back_to_the_defaults(tmp_path: Path) -> None:
    assert load_engine_config(write(tmp_path, to_toml())) == EngineConfig()


def test_non_default_config_round_trips(tmp_path: Path) -> None:
    first = load_engine_config(
        env={
            "INSIGHT_ENGINE__SEGMENTS__K": "4",
            "INSIGHT_ENGINE__RECS__EXCLUDE_KEEP_REPEATS": "inf",
            "INSIGHT_ENGINE__RECS__SIMILARITY": "lift",
            "INSIGHT_ENGINE__CHURN__TIMER_HORIZONS_DAYS": "[10, 20]",
        }
    )
    assert first.segments.k == 4 and first.churn.timer_horizons_days == (10, 20)
    assert load_engine_config(write(tmp_path, to_toml(first))) == first


def test_file_then_env_override(tmp_path: Path) -> None:
    path = write(tmp_path, "top_n = 5\n[churn]\nalert_threshold = 0.9\nmin_value = 50\n")
    cfg = load_engine_config(path, {"INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD": "0.85"})
    assert (cfg.top_n, cfg.churn.alert_threshold, cfg.churn.min_value) == (5, 0.85, 50.0)
    assert cfg.recs == EngineConfig().recs  # untouched sections keep their defaults


def test_unknown_section_and_key_name_the_closest(tmp_path: Path) -> None:
    msg = errors_of(write(tmp_path, "[chrun]\nalert_threshold = 0.9\n[recs]\nsimilarty = 'lift'\n"))
    assert "unknown section [chrun]; did you mean [churn]?" in msg
    assert "unknown key recs.similarty; did you mean recs.similarity?" in msg
    msg = errors_of(env={"INSIGHT_ENGINE__CHURN__ALERT_TRESHOLD": "0.9"})
    assert "did you mean INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD?" in msg


def test_wrong_type_and_range_name_key_value_and_source(tmp_path: Path) -> None:
    path = write(tmp_path, '[segments]\nk_range = [3]\n[recs]\nsimilarity = "pearson"\n')
    msg = errors_of(path, {"INSIGHT_ENGINE__TOP_N": "many"})
    assert "INSIGHT_ENGINE__TOP_N: top_n = 'many': expected an integer" in msg
    assert f"{path} [segments]: segments.k_range = [3]: expected an array of 2 values" in msg
    assert "recs.similarity = 'pearson': expected one of cosine, jaccard, lift" in msg
    msg = errors_of(env={"INSIGHT_ENGINE__CHURN__RESET_THRESHOLD": "0.99"})
    assert "INSIGHT_ENGINE__CHURN__RESET_THRESHOLD: churn.reset_threshold = 0.99:" in msg
    assert "reset_threshold < alert_threshold" in msg


def test_range_error_names_only_the_culprit() -> None:
    msg = errors_of(
        env={"INSIGHT_ENGINE__SEGMENTS__HALFLIFE": "2", "INSIGHT_ENGINE__SEGMENTS__SEED": "3"}
    )
    assert "segments.halflife = 2" in msg and "segments.seed" not in msg


def test_runtime_settings_are_not_engine_file_keys(tmp_path: Path) -> None:
    msg = errors_of(write(tmp_path, "flush_events = 10\n"))
    assert "flush_events is a runtime setting: set INSIGHT_FLUSH_EVENTS" in msg
    assert "flush_events" not in tomllib.loads(to_toml())


def test_not_toml_is_reported(tmp_path: Path) -> None:
    assert "not valid TOML" in errors_of(write(tmp_path, "top_n = = 3\n"))


def test_state_keys_exist_and_are_marked_in_the_defaults() -> None:
    values = state_settings(EngineConfig())
    assert sorted(values) == sorted(STATE_KEYS) and len(STATE_KEYS) >= 5
    text = to_toml()
    for dotted in STATE_KEYS:
        section, key = dotted.split(".")
        assert key in tomllib.loads(text)[section]
    assert text.count("# [state]") == len(STATE_KEYS)
