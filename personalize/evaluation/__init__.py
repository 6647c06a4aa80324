"""Offline evaluation: rolling-origin monthly splits, top-k metrics, baselines.

Build :class:`Purchases` from events, cut :func:`monthly_splits`, score the personalizer with
:func:`personalizer_lists` and the baselines of :data:`BASELINES` (each tuned with
:func:`tune` on the month before), and compare with :func:`paired_bootstrap`.
"""

from personalize.evaluation._log import (
    MODES,
    Purchases,
    Split,
    make_split,
    month_start,
    monthly_splits,
)
from personalize.evaluation._metrics import Scores, coverage, paired_bootstrap, rank_metrics
from personalize.evaluation._run import personalizer_lists
from personalize.evaluation.baselines import BASELINES, Baseline, score_lists, tune

__all__ = [
    "BASELINES",
    "MODES",
    "Baseline",
    "Purchases",
    "Scores",
    "Split",
    "coverage",
    "make_split",
    "month_start",
    "monthly_splits",
    "paired_bootstrap",
    "personalizer_lists",
    "rank_metrics",
    "score_lists",
    "tune",
]
