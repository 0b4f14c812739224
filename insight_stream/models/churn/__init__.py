"""Churn: BG/NBD P(alive) blended with recency and browsing signals, and alerts.

>>> from insight_stream.models.churn import ChurnConfig, ChurnModel
>>> m = ChurnModel(ChurnConfig())
>>> m.params == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
True
"""

from insight_stream.models.churn.alerts import AlertPolicy, alert_id
from insight_stream.models.churn.config import CDNOW_PARAMS, ChurnConfig
from insight_stream.models.churn.model import ChurnModel
from insight_stream.models.churn.scorer import FEATURES, LogisticBlend
from insight_stream.models.churn.state import DAY_MS, ChurnUser

__all__ = [
    "CDNOW_PARAMS",
    "DAY_MS",
    "FEATURES",
    "AlertPolicy",
    "ChurnConfig",
    "ChurnModel",
    "ChurnUser",
    "LogisticBlend",
    "alert_id",
]
