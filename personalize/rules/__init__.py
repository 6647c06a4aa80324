"""The rule engine: condition language, segments, merchandising rules.

``compile_condition`` compiles one condition into a predicate over a fact mapping;
``RuleSet.compile`` checks and compiles a configuration's segments and rules, and
``RuleSet.evaluate`` runs them for one request.
"""

from personalize.rules._action_compiler import ActionCompiler
from personalize.rules._actions import (
    Action,
    Boost,
    Exclude,
    Filter,
    Pin,
    PluginAction,
    Predicate,
    SetWeights,
)
from personalize.rules._builtin_actions import (
    BoostSpec,
    BurySpec,
    ExcludeSpec,
    FilterSpec,
    PinSpec,
    SetWeightsSpec,
)
from personalize.rules._builtins import builtin_registry, install_builtins
from personalize.rules._compiler import CompiledCondition, ConditionCompiler, compile_condition
from personalize.rules._nodes import Evaluation, Failure
from personalize.rules._ruleset import RuleOutcome, RuleSet
from personalize.rules._trace import Trace, TraceEntry

__all__ = [
    "Action",
    "ActionCompiler",
    "Boost",
    "BoostSpec",
    "BurySpec",
    "CompiledCondition",
    "ConditionCompiler",
    "Evaluation",
    "Exclude",
    "ExcludeSpec",
    "Failure",
    "Filter",
    "FilterSpec",
    "Pin",
    "PinSpec",
    "PluginAction",
    "Predicate",
    "RuleOutcome",
    "RuleSet",
    "SetWeights",
    "SetWeightsSpec",
    "Trace",
    "TraceEntry",
    "builtin_registry",
    "compile_condition",
    "install_builtins",
]
