"""Ranking: the interaction index, candidate sources, scoring and rule actions."""

__all__: list[str] = []
