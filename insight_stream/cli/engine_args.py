"""``--engine-config PATH`` for every command that runs the engine (run, replay, demo)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from insight_stream.cli.usage import UsageError
from insight_stream.processor import EngineConfig
from insight_stream.processor.engine_file import (
    ENGINE_CONFIG_ENV,
    EngineConfigError,
    load_engine_config,
)

HELP = (
    "engine settings file (TOML; `insight-stream config --print-defaults` writes one); "
    "INSIGHT_ENGINE__SECTION__KEY variables override single keys "
    f"[env {ENGINE_CONFIG_ENV}, default: built-in defaults]"
)


def add_engine_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine-config", metavar="PATH", default=None, help=HELP)


def engine_config_from_args(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> EngineConfig:
    """The engine config of ``--engine-config`` (else ``$INSIGHT_ENGINE_CONFIG``) and env
    overrides; a bad one is a :class:`UsageError` naming each bad key."""
    env = os.environ if env is None else env
    path = args.engine_config or env.get(ENGINE_CONFIG_ENV) or None
    try:
        return load_engine_config(path, env)
    except EngineConfigError as exc:
        raise UsageError(str(exc)) from None
