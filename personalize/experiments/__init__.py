"""Split tests: stable bucketing, variant overrides, assignment and exposures.

Compile once at load with :func:`compile_experiments`, then call
:meth:`ExperimentPlan.assign` per request; see ``docs/experiments.md``.
"""

from personalize.experiments._hashing import (
    bucket,
    bucket_from,
    bucket_ranges,
    bucket_shares,
    choose_variant,
    fnv1a32,
    fnv1a32_from,
    hash_unit,
    in_range,
)
from personalize.experiments._overrides import apply_overrides
from personalize.experiments._plan import (
    MAX_COMBINATIONS,
    Assignment,
    ConditionCompiler,
    ConfigKey,
    ExperimentPlan,
    Exposure,
    compile_experiments,
    force_header_name,
    parse_forced,
)

__all__ = [
    "MAX_COMBINATIONS",
    "Assignment",
    "ConditionCompiler",
    "ConfigKey",
    "ExperimentPlan",
    "Exposure",
    "apply_overrides",
    "bucket",
    "bucket_from",
    "bucket_ranges",
    "bucket_shares",
    "choose_variant",
    "compile_experiments",
    "fnv1a32",
    "fnv1a32_from",
    "force_header_name",
    "hash_unit",
    "in_range",
    "parse_forced",
]
