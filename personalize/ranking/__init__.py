"""Ranking: the interaction index, candidate sources, scoring and rule actions.

Build an :class:`InteractionIndex` once from every customer's events, then a :class:`Ranker`
over a catalog; ``ranker.rank(context, placement=..., limit=...)`` returns a :class:`Ranking`
of :class:`Recommendation` values with their reasons and a trace.
"""

from personalize.ranking._builtins import install_builtins
from personalize.ranking._continue import ContinueShopping, continue_shopping
from personalize.ranking._index import InteractionIndex, Neighbours
from personalize.ranking._ranker import CASCADE, Ranker
from personalize.ranking._sources import BUILTIN_SCORERS, BUILTIN_SOURCES, NewArrivals
from personalize.ranking._types import (
    CandidateSource,
    Ranking,
    RankingInput,
    Recommendation,
    Scorer,
)

__all__ = [
    "BUILTIN_SCORERS",
    "BUILTIN_SOURCES",
    "CASCADE",
    "CandidateSource",
    "ContinueShopping",
    "InteractionIndex",
    "Neighbours",
    "NewArrivals",
    "Ranker",
    "Ranking",
    "RankingInput",
    "Recommendation",
    "Scorer",
    "continue_shopping",
    "install_builtins",
]
