"""Benchmarks: the engine alone (``engine``) and end-to-end through a broker (``kafka``)."""
