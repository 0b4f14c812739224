"""A deterministic simulated shop with ground truth (types, churn, complements) for tests."""

from insight_stream.sim.config import SimConfig
from insight_stream.sim.shop import Shop
from insight_stream.sim.truth import GroundTruth, UserTruth
from insight_stream.sim.worlds import WORLDS, world

__all__ = ["WORLDS", "GroundTruth", "Shop", "SimConfig", "UserTruth", "world"]
