"""The built-in rule actions: boost, bury, pin, filter, exclude and set_weights.

Each has a pydantic model for its body (so the configuration's JSON Schema can describe it)
and a ``build`` that turns a validated body into the compiled action the ranking applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from personalize.rules._actions import Action, Boost, Exclude, Filter, Pin, SetWeights

if TYPE_CHECKING:
    from personalize._registry import Registry
    from personalize.rules._action_compiler import ActionCompiler

__all__ = [
    "BoostSpec",
    "BurySpec",
    "ExcludeSpec",
    "FilterSpec",
    "PinSpec",
    "SetWeightsSpec",
    "install_actions",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class BoostSpec(_Body):
    """``boost: {where: {...}, by: 2.0}``: multiply matching products' scores by ``by``."""

    where: dict[str, Any]
    by: float = Field(gt=0)


class BurySpec(_Body):
    """``bury: {where: {...}, by: 0.5}``: multiply matching scores by ``by`` (0 < by <= 1)."""

    where: dict[str, Any]
    by: float = Field(default=0.5, gt=0, le=1)


class PinSpec(_Body):
    """``pin: {products: [sku-1], position: 1}``: place products at a 1-based position."""

    products: list[str] = Field(min_length=1)
    position: int = Field(default=1, ge=1)


class FilterSpec(_Body):
    """``filter: {where: {in_stock: true}}``: keep only matching products."""

    where: dict[str, Any]


class ExcludeSpec(_Body):
    """``exclude: {products: [...], where: {...}}``: drop listed or matching products."""

    products: list[str] = Field(default_factory=list)
    where: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _something(self) -> ExcludeSpec:
        if not self.products and self.where is None:
            raise ValueError("exclude needs 'products' or 'where'")
        return self


class SetWeightsSpec(RootModel[dict[str, float]]):
    """``set_weights: {co_purchase: 3.0}``: override ranking weights for the request."""

    model_config = ConfigDict(allow_inf_nan=False)


def _boost(spec: BoostSpec, rule_id: str, c: ActionCompiler) -> Action:
    where = c.compile_selector(spec.where)
    return Boost(where=where, by=spec.by, rule_id=rule_id)


def _bury(spec: BurySpec, rule_id: str, c: ActionCompiler) -> Action:
    where = c.compile_selector(spec.where)
    return Boost(where=where, by=spec.by, rule_id=rule_id, kind="bury")


def _pin(spec: PinSpec, rule_id: str, c: ActionCompiler) -> Action:
    return Pin(products=tuple(spec.products), position=spec.position, rule_id=rule_id)


def _filter(spec: FilterSpec, rule_id: str, c: ActionCompiler) -> Action:
    return Filter(where=c.compile_selector(spec.where), rule_id=rule_id)


def _exclude(spec: ExcludeSpec, rule_id: str, c: ActionCompiler) -> Action:
    where = c.compile_selector(spec.where) if spec.where is not None else None
    return Exclude(rule_id=rule_id, where=where, products=frozenset(spec.products))


def _set_weights(spec: SetWeightsSpec, rule_id: str, c: ActionCompiler) -> Action:
    known = c.known_weights
    for name in spec.root:
        if name not in known:
            c.problem(name, "unknown ranking weight", known)
    return SetWeights(weights=dict(spec.root), rule_id=rule_id)


def install_actions(registry: Registry) -> None:
    """Register the built-in actions on ``registry``."""
    registry.register_action("boost", BoostSpec, _boost)
    registry.register_action("bury", BurySpec, _bury)
    registry.register_action("pin", PinSpec, _pin)
    registry.register_action("filter", FilterSpec, _filter)
    registry.register_action("exclude", ExcludeSpec, _exclude)
    registry.register_action("set_weights", SetWeightsSpec, _set_weights)
