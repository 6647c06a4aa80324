"""Spark jobs doing what the in-process functions do, with identical output (extra ``[spark]``).

``build_index(df, catalog, config)`` computes the co-occurrence, popularity, trending and
repurchase aggregates with DataFrame operations and gives the very index of the in-process
build (see ``docs/scale.md``). ``plan_campaign(df_customers, config_path, catalog_path,
index_path, ...)`` plans an email campaign (see ``docs/campaigns.md``). Names are imported
lazily, so importing this package does not need pyspark.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personalize.spark._campaign import plan_campaign
    from personalize.spark._index import build_index

__all__ = ["build_index", "plan_campaign"]

_HOMES = {"build_index": "personalize.spark._index", "plan_campaign": "personalize.spark._campaign"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = import_module(home)
    except ModuleNotFoundError as exc:  # depends on the install
        if exc.name and exc.name.startswith("pyspark"):
            raise ModuleNotFoundError(
                "personalize.spark needs pyspark: pip install 'personalize[spark]'"
            ) from exc
        raise
    return getattr(module, name)
