"""Adapters from public data sets to v1 input events (data read from installed packages)."""
