"""``insight-stream config``: print the default engine settings, or check a config."""

from __future__ import annotations

import argparse
from typing import Any

from insight_stream.cli.engine_args import add_engine_config_argument, engine_config_from_args
from insight_stream.cli.usage import UsageError
from insight_stream.processor import EngineConfig
from insight_stream.processor.engine_toml import to_toml


def register(sub: Any) -> None:
    p = sub.add_parser(
        "config",
        help="engine settings: print the defaults as TOML, or check a settings file",
        description="--print-defaults writes every engine setting with its default and meaning "
        "as TOML, ready to edit and pass to run/replay/demo with --engine-config. "
        "--check loads --engine-config (or INSIGHT_ENGINE_CONFIG) with INSIGHT_ENGINE__* "
        "overrides, reports any bad key (exit 2) and prints the effective settings.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--print-defaults", action="store_true", help="print the defaults as TOML")
    what.add_argument(
        "--check", action="store_true", help="validate and print the effective config"
    )
    add_engine_config_argument(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if args.print_defaults:
        if args.engine_config:
            raise UsageError("--print-defaults takes no --engine-config (did you mean --check?)")
        print(to_toml(EngineConfig()), end="")
        return 0
    print(to_toml(engine_config_from_args(args)), end="")
    return 0
