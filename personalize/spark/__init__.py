"""The scale jobs on Spark (extra ``[spark]``): the interaction index of a DataFrame of events.

``build_index(df, catalog, config)`` computes the co-occurrence, popularity, trending and
repurchase aggregates with DataFrame operations and gives the very index of the in-process
build. See ``docs/scale.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personalize.spark._index import build_index

__all__ = ["build_index"]


def __getattr__(name: str) -> Any:
    if name == "build_index":
        try:
            from personalize.spark._index import build_index
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            if exc.name and exc.name.startswith("pyspark"):
                raise ModuleNotFoundError(
                    "personalize.spark needs pyspark: pip install 'personalize[spark]'"
                ) from exc
            raise
        return build_index
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
