"""Recommendations: decayed item co-occurrence, repeat purchases and segment popularity.

>>> from insight_stream.models.recs import RecsConfig, Recommender
>>> r = Recommender(RecsConfig())
>>> u = r.new_user()
>>> r.recommend(u, now_ms=0)
[]
"""

from insight_stream.models.recs.config import RecsConfig
from insight_stream.models.recs.recommender import Recommendation, Recommender
from insight_stream.models.recs.user import RecsUser

__all__ = ["Recommendation", "Recommender", "RecsConfig", "RecsUser"]
