"""The values the ranking hands out and the protocols that plugins implement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from personalize.catalog import Catalog
from personalize.config import RankingConfig
from personalize.context import Context

if TYPE_CHECKING:
    from personalize.ranking._index import InteractionIndex

__all__ = ["CandidateSource", "Ranking", "RankingInput", "Recommendation", "Scorer"]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One ranked product and why it is there.

    Attributes:
        product_id: The product.
        score: Its final score (after boosts and buries).
        reasons: Feature name to weighted contribution (``weight * feature``).
        rules: Ids of the rules that moved it (boosted, buried or pinned it).
        source: The candidate source that contributed most to its score (``pin`` for a
            pinned product that was not scored: no source proposed it, or it was left
            out before scoring; it has no reasons and a score of 0).
        boost: The product of the boost and bury factors applied to it, so that
            ``score == sum(reasons.values()) * boost`` (1.0 when no rule moved it).
        pinned_by: The id of the rule that pinned it to its position, or ``None``.
    """

    product_id: str
    score: float
    reasons: Mapping[str, float]
    rules: tuple[str, ...] = ()
    source: str = ""
    boost: float = 1.0
    pinned_by: str | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    """The ranked products of one request and the notes explaining the decision.

    Attributes:
        products: Best first, at most ``limit`` of them.
        trace: What happened, in order: sources and their candidate counts, the cold-start
            step, exclusions, actions applied, diversity cuts.
        cascade: The cold-start step taken: ``personal``, ``session``, ``geo`` or ``global``.
    """

    products: list[Recommendation]
    trace: tuple[str, ...] = ()
    cascade: str = "global"

    @property
    def product_ids(self) -> list[str]:
        """The ids of :attr:`products`, in order."""
        return [rec.product_id for rec in self.products]


@dataclass(frozen=True, slots=True)
class RankingInput:
    """What a candidate source or scorer may read for one request.

    Attributes:
        context: The resolved request context (history, behaviour, geo ...).
        catalog: The product catalog.
        index: The interaction index.
        config: The ranking configuration.
        placement: Where the products will show (``home``, ``pdp``, ``cart`` ...).
        product_id: The product being viewed, on ``pdp``.
        limit: How many products were asked for.
        now: The request time (aware), for recency.
        per_source: How many candidates one source may propose.
        anchors: The products the request is about: ``product_id`` and the cart items.
    """

    context: Context
    catalog: Catalog
    index: InteractionIndex
    config: RankingConfig
    placement: str
    product_id: str | None
    limit: int
    now: datetime | None
    per_source: int
    anchors: tuple[str, ...] = field(default=())


class CandidateSource(Protocol):
    """Proposes candidates for one request, each with its feature value in [0, 1].

    The source's registered name is the feature name its values score under.
    """

    def __call__(self, request: RankingInput, /) -> Mapping[str, float]:
        """Product id to feature value; at most ``request.per_source`` of them."""
        ...


class Scorer(Protocol):
    """Computes one feature, in [0, 1], for a candidate that any source proposed."""

    def __call__(self, product_id: str, request: RankingInput, /) -> float:
        """The feature value of ``product_id`` for this request."""
        ...
