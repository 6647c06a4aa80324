"""The parts a registry holds: the specs of operators, facts and actions, the protocols
of scorers, candidate sources and action builders, and :func:`guarded`, through which every
call into a plugin goes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel

__all__ = [
    "BUILTIN",
    "ActionBuilder",
    "ActionSpec",
    "CandidateSourceFn",
    "ErrorSink",
    "FactSpec",
    "OperatorSpec",
    "ScorerFn",
    "guarded",
    "yes_or_no",
]

#: Who registered the SDK's own parts.
BUILTIN = "builtin"
#: Receives a plugin's exception and a label naming the call (``operator $rainy``).
ErrorSink = Callable[[Exception, str], None]
_T = TypeVar("_T")


class ScorerFn(Protocol):
    """A ranking scorer: one feature value in [0, 1] for a candidate product.

    ``request`` is a :class:`personalize.ranking.RankingInput`; the ranking narrows the
    type (:class:`personalize.ranking.Scorer`).
    """

    def __call__(self, product_id: str, request: Any, /) -> float:
        """The feature value of ``product_id`` for this request."""


class CandidateSourceFn(Protocol):
    """A candidate source: proposes products with a feature value in [0, 1].

    ``request`` is a :class:`personalize.ranking.RankingInput`; the ranking narrows the
    type (:class:`personalize.ranking.CandidateSource`).
    """

    def __call__(self, request: Any, /) -> Mapping[str, float]:
        """Product id to feature value."""


class ActionBuilder(Protocol):
    """Compiles one validated action body into the rule engine's action.

    ``compiler`` compiles the action's product selectors
    (``compiler.compile_selector(spec.where)``); the result is one of
    :data:`personalize.rules.Action`.
    """

    def __call__(self, spec: Any, rule_id: str, compiler: Any, /) -> Any:
        """The compiled action."""


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A registered operator.

    Attributes:
        name: The operator, with its ``$``.
        fn: ``fn(actual, arg) -> bool``; ``arg`` is the prepared constant.
        arg_kind: What the constant must be (one of :data:`ARG_KINDS`).
        fact_kinds: The fact kinds it applies to (``None``: any).
        prepare: Turns the constant into ``arg`` once, at load; raises ``ValueError`` or
            ``TypeError`` when the constant is invalid.
        doc: One line for the docs and error messages.
        plugin: Who registered it (``builtin`` for the SDK's own).
    """

    name: str
    fn: Callable[[Any, Any], bool]
    arg_kind: str = "any"
    fact_kinds: frozenset[str] | None = None
    prepare: Callable[[Any], Any] | None = None
    doc: str = ""
    plugin: str = BUILTIN

    @property
    def builtin(self) -> bool:
        """Whether the SDK itself registered it."""
        return self.plugin == BUILTIN


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A registered fact provider: computes the top-level fact namespace ``name``.

    Attributes:
        name: The namespace (``weather``).
        provider: ``provider(facts) -> value`` of the namespace, called once per request.
        schema: Its fact paths and their kinds (``{"weather.temp_c": "number"}``).
        plugin: Who registered it.
    """

    name: str
    provider: Callable[[Mapping[str, Any]], Any]
    schema: Mapping[str, str]
    plugin: str = BUILTIN


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A registered rule action (``boost``, ``pin`` ...).

    Attributes:
        name: The key used in a rule's ``then:`` list.
        spec_model: The pydantic model that validates the action's body.
        build: ``build(spec, rule_id, compiler)`` (an :class:`ActionBuilder`).
        plugin: Who registered it.
    """

    name: str
    spec_model: type[BaseModel]
    build: ActionBuilder
    plugin: str = BUILTIN


def guarded(fn: Callable[..., _T], label: str, fallback: _T) -> Callable[..., _T]:
    """Wrap a plugin callable so that its exceptions are reported instead of raised.

    The wrapper is called as ``call(report, *args)``: it returns ``fn(*args)``, or, when
    ``fn`` raises, hands the exception and ``label`` to ``report`` (when not ``None``) and
    returns ``fallback``.
    """

    def call(report: ErrorSink | None, *args: Any) -> _T:
        try:
            return fn(*args)
        except Exception as exc:  # a plugin must never break a request
            if report is not None:
                report(exc, label)
            return fallback

    return call


def yes_or_no(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    """A plugin operator whose answer must be a bool (``numpy.bool_`` counts as one).

    Any other answer (``1``, ``None``, an array ...) raises ``TypeError``, so that, called
    through :func:`guarded`, the test is false and the plugin's mistake is reported.
    """

    def check(actual: Any, arg: Any) -> bool:
        answer = fn(actual, arg)
        if answer is True or answer is False:
            return answer
        if isinstance(answer, np.bool_):
            return bool(answer)
        raise TypeError(f"returned {type(answer).__name__}, not a bool")

    return check
