"""The ranking's built-in candidate sources and scorers, registered like a plugin's."""

from __future__ import annotations

from personalize._registry import Registry
from personalize.ranking._sources import BUILTIN_SCORERS, BUILTIN_SOURCES

__all__ = ["install_builtins"]


def install_builtins(registry: Registry) -> None:
    """Register the built-in candidate sources and scorers on ``registry``.

    ``new_arrival`` is registered as a scorer; its candidate source depends on the catalog
    and is built by each :class:`~personalize.ranking.Ranker`.
    """
    for name, source in BUILTIN_SOURCES.items():
        registry.register_candidate_source(name, source)
    for name, scorer in BUILTIN_SCORERS.items():
        registry.register_scorer(name, scorer)
