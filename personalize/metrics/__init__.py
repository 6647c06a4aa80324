"""Commerce KPIs from event logs, with confidence intervals and significance tests.

Read a log with :func:`read_events`, build a table with :func:`kpis` or :func:`kpis_by`,
compare variants with :func:`compare` and :func:`srm`, print with :func:`format_table`;
:func:`attribution_by` gives recommendation click-through, attributed revenue and offer
redemption per variant.
See ``docs/metrics.md`` for every definition.
"""

from personalize.metrics._attribution import ATTRIBUTION_WINDOW, Attribution, attribution_by
from personalize.metrics._compare import METRICS, Comparison, compare, format_table, srm
from personalize.metrics._events import iter_events, read_events, write_events
from personalize.metrics._kpis import (
    GroupKey,
    Kpis,
    KpiTable,
    SessionKpis,
    kpis,
    kpis_by,
    session_kpis,
)
from personalize.metrics._stats import (
    SrmResult,
    TestResult,
    chi_square_sf,
    normal_cdf,
    normal_ppf,
    sample_ratio_mismatch,
    student_t_ppf,
    student_t_sf,
    two_proportion_z_test,
    welch_t_test,
)

__all__ = [
    "ATTRIBUTION_WINDOW",
    "METRICS",
    "Attribution",
    "Comparison",
    "GroupKey",
    "KpiTable",
    "Kpis",
    "SessionKpis",
    "SrmResult",
    "TestResult",
    "attribution_by",
    "chi_square_sf",
    "compare",
    "format_table",
    "iter_events",
    "kpis",
    "kpis_by",
    "normal_cdf",
    "normal_ppf",
    "read_events",
    "sample_ratio_mismatch",
    "session_kpis",
    "srm",
    "student_t_ppf",
    "student_t_sf",
    "two_proportion_z_test",
    "welch_t_test",
    "write_events",
]
