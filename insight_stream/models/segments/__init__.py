"""Customer segments: features, seeding, the online segmenter and portraits."""

from insight_stream.models.segments.features import FEATURES, raw_features
from insight_stream.models.segments.segmenter import SegmentConfig, Segmenter

__all__ = ["FEATURES", "SegmentConfig", "Segmenter", "raw_features"]
