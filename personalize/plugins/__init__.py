"""Plugins: the registry of operators, facts, actions, scorers and candidate sources.

Every :class:`Personalizer` owns a :class:`Registry`. It starts with the built-ins (the
rule engine's operators and actions, the ranking's candidate sources and scorers), which
register through the same methods a plugin calls, so a plugin can do anything a built-in
can. Plugins are passed explicitly or discovered through the ``personalize.plugins``
entry-point group (:func:`load_entry_point_plugins`); set
``PERSONALIZE_DISABLE_PLUGIN_AUTOLOAD=1`` to switch discovery off.

The container itself lives low in the package (:mod:`personalize._registry`), so that the
rules and the ranking can name it; this module is the public face that seeds it.
"""

from __future__ import annotations

from personalize import context, ranking, rules
from personalize._plugin_parts import (
    ActionBuilder,
    ActionSpec,
    CandidateSourceFn,
    ErrorSink,
    FactSpec,
    OperatorSpec,
    ScorerFn,
    guarded,
)
from personalize._registry import ARG_KINDS, RESERVED_OPERATORS, Plugin
from personalize._registry import Registry as _Container
from personalize.plugins._entry_points import (
    AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    load_entry_point_plugins,
)

__all__ = [
    "ARG_KINDS",
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "RESERVED_OPERATORS",
    "ActionBuilder",
    "ActionSpec",
    "CandidateSourceFn",
    "ErrorSink",
    "FactSpec",
    "OperatorSpec",
    "Plugin",
    "Registry",
    "ScorerFn",
    "guarded",
    "load_entry_point_plugins",
]


class Registry(_Container):
    """The operators, facts, actions, scorers and candidate sources one personalizer uses.

    Fact namespaces of the request context (``geo``, ``time`` ...) are reserved: no fact
    provider may claim them.

    Args:
        builtins: Seed the registry with the SDK's own operators, actions, candidate
            sources and scorers.

    Attributes:
        operators: Operator name to spec.
        facts: Fact namespace to spec.
        actions: Action name to spec.
        scorers: Scorer name to scorer (:class:`ScorerFn`).
        candidate_sources: Source name to candidate source (:class:`CandidateSourceFn`).
        plugins: Installed plugins by name.
    """

    def __init__(self, *, builtins: bool = False) -> None:
        super().__init__(reserved_facts=context.FACT_SCHEMA)
        if builtins:
            rules.install_builtins(self)
            ranking.install_builtins(self)

    @classmethod
    def with_builtins(cls) -> Registry:
        """A registry holding the SDK's own operators, actions, sources and scorers."""
        return cls(builtins=True)
