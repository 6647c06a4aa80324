"""Compiled rule actions: what a fired rule asks the ranking to do.

The rule compiler turns each ``then:`` entry into one of these frozen values; the ranking
consumes them and knows nothing else of rules. ``where`` is a product selector: a predicate
over a product's fact mapping (:meth:`personalize.Product.facts`). The compiler hands a
:class:`ProductSelector`, which also carries its compiled condition tree, so the ranking can
resolve it through catalog indexes into the set of matching product positions once, and
whether it reads the evaluation time (then the ranking tests it per request, at the
request's time). Any other predicate is tested per product (and remembered).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personalize.rules._nodes import CondNode, Evaluation

__all__ = [
    "Action",
    "Boost",
    "Exclude",
    "Filter",
    "Pin",
    "PluginAction",
    "Predicate",
    "ProductSelector",
    "SetWeights",
]

#: A compiled condition: facts in, truth out. Never raises on missing facts.
Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True, eq=False)
class ProductSelector:
    """A compiled ``where:`` selector: the predicate and the condition tree it came from.

    Attributes:
        test: ``test(facts, evaluation=None) -> bool``, the generated predicate.
        node: The compiled condition tree (fields, operators and their constants).
        uses_now: Whether it reads the evaluation time (``$withinLast`` ...).

    Selectors compare by identity: one compiled selector is one cache entry.
    """

    test: Callable[..., bool]
    node: CondNode
    uses_now: bool = False

    def __call__(self, facts: Mapping[str, Any], evaluation: Evaluation | None = None) -> bool:
        """Whether a product (its facts) matches, at ``evaluation``'s time when given."""
        return self.test(facts, evaluation)


@dataclass(frozen=True, slots=True)
class Boost:
    """Multiply the score of matching products by ``by`` (``kind`` ``bury`` when < 1).

    ``label`` is derived, not passed: the start of the boost's ranking trace line
    (``boost r1 x1.5: ``), formatted once when the action is compiled.
    """

    where: Predicate
    by: float
    rule_id: str
    kind: str = "boost"
    label: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", f"{self.kind} {self.rule_id} x{self.by:g}: ")


@dataclass(frozen=True, slots=True)
class Pin:
    """Put ``products`` at ``position`` (1-based) onward, in the order given."""

    products: tuple[str, ...]
    position: int
    rule_id: str


@dataclass(frozen=True, slots=True)
class Filter:
    """Keep only products that match ``where``."""

    where: Predicate
    rule_id: str


@dataclass(frozen=True, slots=True)
class Exclude:
    """Drop the listed products and those matching ``where`` (when given)."""

    rule_id: str
    where: Predicate | None = None
    products: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SetWeights:
    """Override ranking weights for this request."""

    weights: Mapping[str, float]
    rule_id: str


@dataclass(frozen=True, slots=True)
class PluginAction:
    """An action registered by a plugin; ``apply`` receives the ranked list and returns it."""

    name: str
    rule_id: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    apply: Callable[[list[Any], Mapping[str, Any]], list[Any]] | None = None


Action = Boost | Pin | Filter | Exclude | SetWeights | PluginAction
