"""Spark jobs doing what the in-process functions do, with identical output (extra ``[spark]``).

``plan_campaign(df_customers, config_path, catalog_path, index_path, ...)`` plans an email
campaign (see :mod:`personalize.spark._campaign`). Names are imported lazily, so importing
this package does not need pyspark.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plan_campaign"]


def __getattr__(name: str) -> Any:
    if name == "plan_campaign":
        from personalize.spark._campaign import plan_campaign

        return plan_campaign
    raise AttributeError(f"module 'personalize.spark' has no attribute {name!r}")
