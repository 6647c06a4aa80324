"""What a simulation records: the pages served, each session, and the run's summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from personalize._models import Event
from personalize.journeys._arms import CONTROL

__all__ = ["Served", "SessionRecord", "SimulationSummary"]


@dataclass(frozen=True, slots=True)
class Served:
    """What the Personalizer served on one page.

    Attributes:
        at: When.
        placement: ``home`` or ``pdp``.
        products: The product ids shown, best first.
        offers: The offer ids shown.
        product_id: The product of the page, for ``pdp``.
    """

    at: datetime
    placement: str
    products: tuple[str, ...]
    offers: tuple[str, ...]
    product_id: str | None = None


@dataclass(slots=True)
class SessionRecord:
    """One simulated session.

    Attributes:
        session_id: ``<user_id>-d<day>``.
        shopper: The shopper's index.
        day: Day of the simulation (0-based).
        arm: ``control`` or ``personalized``.
        events: What happened, in order.
        served: What the Personalizer served, page by page.
        comeback: The shopper came back to a cart they had abandoned.
        abandoned: The session ended with a cart and no purchase.
    """

    session_id: str
    shopper: int
    day: int
    arm: str = CONTROL
    events: list[Event] = field(default_factory=list)
    served: list[Served] = field(default_factory=list)
    comeback: bool = False
    abandoned: bool = False


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    """What a run did and how long it took.

    Attributes:
        shoppers: Shoppers simulated.
        sessions: Sessions simulated.
        events: Events written.
        arms: Arm to its sessions.
        shares: Arm to its expected share of shoppers.
        seconds: Wall time of the run.
        personalizer_seconds: Time spent inside ``Personalizer.personalize``.
        personalizer_calls: How many decisions were asked for.
        seed: The run's seed.
        days: Simulated days.
        start: The first day.
        experiments: The configuration's own experiment keys (``sim-arm`` excluded).
        shoppers_per_arm: Arm to its shoppers (the unit the arms are assigned by).
        variant_shares: Experiment key to each variant's expected share.
    """

    shoppers: int
    sessions: int
    events: int
    arms: Mapping[str, int]
    shares: Mapping[str, float]
    seconds: float
    personalizer_seconds: float
    personalizer_calls: int
    seed: int | str
    days: int
    start: date
    experiments: tuple[str, ...] = ()
    shoppers_per_arm: Mapping[str, int] = field(default_factory=dict)
    variant_shares: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @property
    def sessions_per_second(self) -> float:
        """Sessions simulated per second of wall time."""
        return self.sessions / self.seconds if self.seconds > 0 else 0.0

    @property
    def personalizer_share(self) -> float:
        """Fraction of the wall time spent inside the Personalizer."""
        return self.personalizer_seconds / self.seconds if self.seconds > 0 else 0.0
