"""Run the engine on Kafka: config, broker, topics, source/sink, checkpoints, loop, metrics.

Layering (each module holds one thing): ``config`` (settings) -> ``broker`` (embedded Tansu)
-> ``topics`` (admin) -> ``source``/``sink`` (Kafka clients) -> ``checkpoint`` (SQLite)
-> ``loop`` (the run loop) -> ``metrics``/``health`` -> ``app`` (wiring). ``feeder`` and
``reader`` move simulated data in and results out for the demo, benchmarks and tests.
"""

from insight_stream.runtime.config import SETTINGS, ConfigError, RuntimeConfig, load_config

__all__ = ["SETTINGS", "ConfigError", "RuntimeConfig", "load_config"]
