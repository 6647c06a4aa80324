"""The rule engine: condition language, segments, merchandising rules."""

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
