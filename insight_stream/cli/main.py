"""``insight-stream`` entry point: one sub-module per command, each with ``register``."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys

from insight_stream.cli.usage import EXIT_USAGE, UsageError
from insight_stream.gc_tuning import tune_gc

# command name -> module under insight_stream.cli; each module defines
# ``register(subparsers) -> None`` which adds its parser and sets ``func``.
COMMANDS: dict[str, str] = {
    "simulate": "simulate",
    "replay": "replay",
    "evaluate": "evaluate",
    "segments": "segments",
    "schema": "schema",
    "bench": "bench",
    "run": "run",
    "produce": "produce",
    "demo": "demo",
    "config": "config",
}


def package_version() -> str:
    """The installed distribution's version (what pip and the image report)."""
    try:
        return importlib.metadata.version("insight-stream")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        from insight_stream import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="insight-stream",
        description="Real-time customer insight for e-commerce: profiles, segments, "
        "recommendations and churn alerts from clickstream and order events.",
        epilog="exit codes: 0 ok, 2 usage error or invalid settings; `run --help` lists the "
        "runtime's other codes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(f"insight_stream.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"insight_stream.cli.{module_name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    tune_gc()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except UsageError as exc:
        print(f"insight-stream {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
