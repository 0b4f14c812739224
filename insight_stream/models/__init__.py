"""Per-user and population models. Each module holds one model; none knows about Kafka.

Models depend only on :mod:`insight_stream.events` and run on event time.
"""
