"""Commerce KPIs from event logs, with confidence intervals and significance tests."""

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
    "SrmResult",
    "TestResult",
    "chi_square_sf",
    "normal_cdf",
    "normal_ppf",
    "sample_ratio_mismatch",
    "student_t_ppf",
    "student_t_sf",
    "two_proportion_z_test",
    "welch_t_test",
]
