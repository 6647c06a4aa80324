"""Compiled rule actions: what a fired rule asks the ranking to do.

The rule compiler turns each ``then:`` entry into one of these frozen values; the ranking
consumes them and knows nothing else of rules. ``where`` is a compiled product selector: a
predicate over a product's fact mapping (:meth:`personalize.Product.facts`); ``where_spec``,
when given, is the condition it was compiled from, which lets the ranking find the matching
products through their fields (category, brand ...) instead of testing each one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Action",
    "Boost",
    "Exclude",
    "Filter",
    "Pin",
    "PluginAction",
    "Predicate",
    "SetWeights",
]

#: A compiled condition: facts in, truth out. Never raises on missing facts.
Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Boost:
    """Multiply the score of matching products by ``by`` (``kind`` ``bury`` when < 1)."""

    where: Predicate
    by: float
    rule_id: str
    kind: str = "boost"
    where_spec: Mapping[str, Any] | None = field(default=None, compare=False)


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
    where_spec: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Exclude:
    """Drop the listed products and those matching ``where`` (when given)."""

    rule_id: str
    where: Predicate | None = None
    products: frozenset[str] = frozenset()
    where_spec: Mapping[str, Any] | None = field(default=None, compare=False)


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
