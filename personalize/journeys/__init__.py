"""Customer-journey simulation: synthetic shoppers run through a real ``Personalizer``.

Build a :class:`Simulator` from a configuration and a catalog, then
:meth:`Simulator.run` writes an event log that :mod:`personalize.metrics` reads;
:func:`write_report` turns it into ``report.md`` comparing the personalized arm with a
non-personalized control. See ``docs/journeys.md`` for the model and its limits.
"""

from personalize.journeys._arms import ARM_EXPERIMENT, CONTROL, PERSONALIZED, with_arms
from personalize.journeys._choice import ChoiceModel, choose, pick, sigmoid
from personalize.journeys._plots import INSTALL_HINT, plot_daily_revenue, plot_kpis
from personalize.journeys._population import (
    DEVICES,
    PLACES,
    REFERRALS,
    TIERS,
    Place,
    Population,
    Shopper,
    stable_seed,
)
from personalize.journeys._progress import ProgressBar
from personalize.journeys._records import Served, SessionRecord, SimulationSummary
from personalize.journeys._report import CAVEAT, kpi_markdown, write_report
from personalize.journeys._simulator import Simulator

__all__ = [
    "ARM_EXPERIMENT",
    "CAVEAT",
    "CONTROL",
    "DEVICES",
    "INSTALL_HINT",
    "PERSONALIZED",
    "PLACES",
    "REFERRALS",
    "TIERS",
    "ChoiceModel",
    "Place",
    "Population",
    "ProgressBar",
    "Served",
    "SessionRecord",
    "Shopper",
    "SimulationSummary",
    "Simulator",
    "choose",
    "kpi_markdown",
    "pick",
    "plot_daily_revenue",
    "plot_kpis",
    "sigmoid",
    "stable_seed",
    "with_arms",
    "write_report",
]
