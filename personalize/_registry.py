"""The registry container: operators, facts, actions, scorers and candidate sources.

This module sits at the bottom of the package: it imports nothing of the rules, the
context or the ranking, and describes what it holds with small :class:`~typing.Protocol`
types. The public face, :class:`personalize.plugins.Registry`, seeds it with the built-ins
through the same ``register_*`` methods a plugin calls, so a plugin can do anything a
built-in can. A plugin is any object with a ``name`` and a ``setup(registry)`` method::

    class Weather:
        name = "weather"

        def setup(self, registry: Registry) -> None:
            registry.register_fact("weather", lookup, schema={"weather.temp_c": "number"})

Everything a plugin registers is checked when it registers, and a
problem raises :class:`~personalize.errors.PluginError` naming the plugin.

A plugin that raises while a request is evaluated never breaks the request: every call
into a plugin (operator, fact, action, scorer, candidate source) goes through
:func:`guarded`, so the decision degrades (an operator is false, a fact is missing, a
source proposes nothing) and the exception is handed to an :data:`ErrorSink`. Where that
leads, and the only other place that catches broadly, is described in
:mod:`personalize._personalizer`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from personalize._plugin_parts import (
    BUILTIN,
    ActionBuilder,
    ActionSpec,
    CandidateSourceFn,
    ErrorSink,
    FactSpec,
    OperatorSpec,
    ScorerFn,
    guarded,
)
from personalize.errors import PluginError

__all__ = ["ARG_KINDS", "RESERVED_OPERATORS", "Plugin", "Registry"]

#: Operators the condition compiler implements itself; no registry may claim these names.
RESERVED_OPERATORS = frozenset(
    {
        "$and", "$or", "$nor", "$not", "$inSegment", "$size", "$elemMatch", "$all", "$alli",
        "$inGroup", "$notInGroup", "$options", "$before", "$after", "$withinLast", "$olderThan",
    }
)  # fmt: skip
#: What an operator's argument may be: checked against the constant when a rule loads.
ARG_KINDS = frozenset({"any", "string", "number", "boolean", "array", "object", "scalar"})

_FACT_KINDS = frozenset({"string", "number", "boolean", "datetime", "array", "object", "any"})
_OPERATOR_NAME = re.compile(r"\$[A-Za-z][A-Za-z0-9_]*\Z")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


@runtime_checkable
class Plugin(Protocol):
    """What a plugin is: a name and a ``setup`` that registers its parts."""

    name: str

    def setup(self, registry: Registry) -> None:
        """Register the plugin's operators, facts, actions, scorers and sources."""


def _arity_ok(fn: Callable[..., Any], count: int) -> bool:
    try:
        inspect.signature(fn).bind(*range(count))
    except TypeError:
        return False
    except ValueError:  # builtins without a signature: trust them
        return True
    return True


def _is_async(fn: Any) -> bool:
    """Whether calling ``fn`` gives a coroutine or an async generator (never awaited here)."""
    return any(
        inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f)
        for f in (fn, type(fn).__call__ if not inspect.isroutine(fn) else None)
    )


class Registry:
    """The operators, facts, actions, scorers and candidate sources one personalizer uses.

    The container starts empty; :class:`personalize.plugins.Registry` seeds it.

    Args:
        reserved_facts: Fact namespaces computed by the request context, which no fact
            provider may claim.

    Attributes:
        operators: Operator name to spec.
        facts: Fact namespace to spec.
        actions: Action name to spec.
        scorers: Scorer name to scorer (see :mod:`personalize.ranking`).
        candidate_sources: Source name to candidate source.
        plugins: Installed plugins by name.
    """

    def __init__(self, *, reserved_facts: Collection[str] = ()) -> None:
        self.operators: dict[str, OperatorSpec] = {}
        self.facts: dict[str, FactSpec] = {}
        self.actions: dict[str, ActionSpec] = {}
        self.scorers: dict[str, ScorerFn] = {}
        self.candidate_sources: dict[str, CandidateSourceFn] = {}
        self.plugins: dict[str, Plugin] = {}
        self._reserved_facts = frozenset(reserved_facts)
        self._owner = BUILTIN
        self._owners: dict[tuple[str, str], str] = {}

    def copy(self) -> Registry:
        """An independent registry holding the same parts (the built-ins' template)."""
        other = Registry.__new__(type(self))
        Registry.__init__(other, reserved_facts=self._reserved_facts)
        for mine, theirs in zip(self._tables(), other._tables(), strict=True):
            theirs.update(mine)
        return other

    def owner(self, kind: str, name: str) -> str:
        """Who registered the scorer or candidate source ``name`` (``builtin`` or a plugin).

        Args:
            kind: ``scorer`` or ``candidate source``.
            name: The registered name.
        """
        return self._owners[(kind, name)]

    def plugin_scorers(self) -> dict[str, ScorerFn]:
        """The scorers plugins registered (the built-ins left out)."""
        return {n: f for n, f in self.scorers.items() if self.owner("scorer", n) != BUILTIN}

    def plugin_candidate_sources(self) -> dict[str, CandidateSourceFn]:
        """The candidate sources plugins registered (the built-ins left out)."""
        kind = "candidate source"
        return {n: f for n, f in self.candidate_sources.items() if self.owner(kind, n) != BUILTIN}

    def _fail(self, message: str) -> PluginError:
        who = "built-in" if self._owner == BUILTIN else f"plugin {self._owner!r}"
        return PluginError(f"{who}: {message}")

    def _check_sync(self, what: str, fn: Any) -> None:
        if _is_async(fn):
            raise self._fail(f"{what} is async: plugins are called synchronously, never awaited")

    def _check_clash(self, table: Mapping[str, Any], kind: str, name: str) -> None:
        existing = table.get(name)
        if existing is not None:
            owner = getattr(existing, "plugin", None) or self._owners.get((kind, name), "?")
            raise self._fail(f"{kind} {name!r} is already registered by {owner}")

    def register_operator(
        self,
        name: str,
        fn: Callable[[Any, Any], bool],
        *,
        arg_kind: str = "any",
        fact_kinds: Iterable[str] | None = None,
        prepare: Callable[[Any], Any] | None = None,
        doc: str = "",
    ) -> None:
        """Add an operator usable in conditions: ``{path: {name: constant}}``.

        Raises:
            PluginError: A bad name, a clash, a non-callable or a wrong signature.
        """
        if not isinstance(name, str) or not _OPERATOR_NAME.match(name):
            raise self._fail(f"operator name {name!r} must look like '$name'")
        if name in RESERVED_OPERATORS:
            raise self._fail(f"operator {name} is part of the condition language")
        self._check_clash(self.operators, "operator", name)
        if not callable(fn) or not _arity_ok(fn, 2):
            raise self._fail(f"operator {name}: fn must be callable as fn(actual, arg)")
        if prepare is not None and (not callable(prepare) or not _arity_ok(prepare, 1)):
            raise self._fail(f"operator {name}: prepare must be callable as prepare(arg)")
        self._check_sync(f"operator {name}: fn", fn)
        self._check_sync(f"operator {name}: prepare", prepare)
        if arg_kind not in ARG_KINDS:
            raise self._fail(f"operator {name}: arg_kind must be one of {sorted(ARG_KINDS)}")
        kinds = None if fact_kinds is None else frozenset(fact_kinds)
        if kinds is not None and not kinds <= _FACT_KINDS:
            raise self._fail(f"operator {name}: unknown fact kinds {sorted(kinds - _FACT_KINDS)}")
        self.operators[name] = OperatorSpec(
            name, fn, arg_kind, kinds, prepare, doc, plugin=self._owner
        )

    def register_fact(
        self,
        name: str,
        provider: Callable[[Mapping[str, Any]], Any],
        *,
        schema: Mapping[str, str],
    ) -> None:
        """Add a fact namespace computed per request by ``provider(facts)``.

        Args:
            name: The top-level namespace, e.g. ``weather``.
            provider: Computes the namespace's value from the request's facts.
            schema: Every path it provides with its kind, e.g. ``{"weather.temp_c": "number"}``.

        Raises:
            PluginError: A bad name, a clash with a context fact or another plugin's
                namespace, a non-callable provider or a bad schema.
        """
        if not isinstance(name, str) or not _PLAIN_NAME.match(name):
            raise self._fail(f"fact namespace {name!r} must be a plain name")
        if name in self._reserved_facts:
            raise self._fail(f"fact namespace {name!r} clashes with a built-in context fact")
        self._check_clash(self.facts, "fact namespace", name)
        if not callable(provider) or not _arity_ok(provider, 1):
            raise self._fail(f"fact {name}: provider must be callable as provider(facts)")
        self._check_sync(f"fact {name}: provider", provider)
        if not isinstance(schema, Mapping) or not schema:
            raise self._fail(f"fact {name}: schema must be a non-empty mapping of path to kind")
        for path, kind in schema.items():
            if not isinstance(path, str) or (path != name and not path.startswith(name + ".")):
                raise self._fail(f"fact {name}: schema path {path!r} is outside {name!r}")
            if kind not in _FACT_KINDS:
                raise self._fail(f"fact {name}: {path} has unknown kind {kind!r}")
        full = {name: "object", **schema}
        self.facts[name] = FactSpec(name, provider, full, plugin=self._owner)

    def register_action(
        self,
        name: str,
        spec_model: type[BaseModel],
        build: ActionBuilder,
    ) -> None:
        """Add a rule action: ``then: [{name: {...}}]``.

        Args:
            name: The action's key.
            spec_model: A pydantic model validating the action's body.
            build: ``build(spec, rule_id, compiler)`` returning the compiled action.

        Raises:
            PluginError: A bad name, a clash, a model that is not pydantic, a bad ``build``.
        """
        if not isinstance(name, str) or not _PLAIN_NAME.match(name):
            raise self._fail(f"action name {name!r} must be a plain name")
        self._check_clash(self.actions, "action", name)
        if not (isinstance(spec_model, type) and issubclass(spec_model, BaseModel)):
            raise self._fail(f"action {name}: spec_model must be a pydantic model class")
        if not callable(build) or not _arity_ok(build, 3):
            raise self._fail(f"action {name}: build must be callable as build(spec, rule_id, c)")
        self._check_sync(f"action {name}: build", build)
        self.actions[name] = ActionSpec(name, spec_model, build, plugin=self._owner)

    def register_scorer(self, name: str, fn: ScorerFn) -> None:
        """Add a ranking scorer: ``fn(product_id, request) -> float`` (:class:`ScorerFn`)."""
        self._register_callable(self.scorers, "scorer", name, fn)

    def register_candidate_source(self, name: str, fn: CandidateSourceFn) -> None:
        """Add a candidate source: ``fn(request) -> {product_id: value}``
        (:class:`CandidateSourceFn`)."""
        self._register_callable(self.candidate_sources, "candidate source", name, fn)

    def _register_callable(self, table: dict[str, Any], kind: str, name: str, fn: Any) -> None:
        if not isinstance(name, str) or not _PLAIN_NAME.match(name):
            raise self._fail(f"{kind} name {name!r} must be a plain name")
        self._check_clash(table, kind, name)
        if not callable(fn):
            raise self._fail(f"{kind} {name}: not callable")
        self._check_sync(f"{kind} {name}", fn)
        table[name] = fn
        self._owners[(kind, name)] = self._owner

    def install(self, plugin: Plugin) -> None:
        """Let ``plugin`` register its parts; all or nothing.

        Raises:
            PluginError: The plugin has no name or setup, is installed already, or one of its
                registrations is invalid (nothing it registered is kept then).
        """
        name = getattr(plugin, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r}: needs a non-empty 'name' string")
        setup = getattr(plugin, "setup", None)
        if not callable(setup) or not _arity_ok(setup, 1):
            raise PluginError(f"plugin {name!r}: needs a method setup(registry)")
        if name in self.plugins or name == BUILTIN:
            raise PluginError(f"plugin {name!r}: a plugin of that name is installed already")
        saved = self._snapshot()
        previous, self._owner = self._owner, name  # a plugin may install others in setup
        try:
            setup(self)
        except PluginError:
            self._restore(saved)
            raise
        except Exception as exc:
            self._restore(saved)
            raise PluginError(f"plugin {name!r}: setup failed: {exc!r}") from exc
        except BaseException:  # interrupted (Ctrl-C, sys.exit): still all or nothing
            self._restore(saved)
            raise
        finally:
            self._owner = previous
        self.plugins[name] = plugin

    def install_all(self, plugins: Iterable[Plugin]) -> Registry:
        """Install each plugin in turn; returns the registry."""
        for plugin in plugins:
            self.install(plugin)
        return self

    def _tables(self) -> tuple[dict[Any, Any], ...]:
        return (
            self.operators,
            self.facts,
            self.actions,
            self.scorers,
            self.candidate_sources,
            self._owners,
            self.plugins,
        )

    def _snapshot(self) -> tuple[dict[Any, Any], ...]:
        return tuple(dict(table) for table in self._tables())

    def _restore(self, saved: tuple[dict[Any, Any], ...]) -> None:
        for table, old in zip(self._tables(), saved, strict=True):
            table.clear()
            table.update(old)

    @property
    def fact_schema(self) -> dict[str, str]:
        """Every fact path the registered providers add, with its kind."""
        schema: dict[str, str] = {}
        for spec in self.facts.values():
            schema.update(spec.schema)
        return schema

    def collect_facts(
        self, facts: Mapping[str, Any], *, on_error: ErrorSink | None = None
    ) -> dict[str, Any]:
        """Call every fact provider; a provider that raises is left out and reported.

        Args:
            facts: The request's facts, as providers read them.
            on_error: Receives ``(exception, "fact <name>")`` for each failing provider.

        Returns:
            Namespace to value, for :attr:`personalize.context.Context.extra`.
        """
        out: dict[str, Any] = {}
        missing = object()
        for name, spec in self.facts.items():
            call = guarded(spec.provider, f"fact {name}", missing)
            value = call(on_error, facts)
            if value is not missing:
                out[name] = value
        return out
