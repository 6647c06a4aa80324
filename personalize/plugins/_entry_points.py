"""Discovering plugins through the ``personalize.plugins`` entry-point group."""

from __future__ import annotations

import os
from importlib.metadata import entry_points

from personalize._registry import Plugin
from personalize.errors import PluginError

__all__ = ["AUTOLOAD_ENV", "ENTRY_POINT_GROUP", "load_entry_point_plugins"]

#: The entry-point group plugins are discovered in.
ENTRY_POINT_GROUP = "personalize.plugins"
#: Set this environment variable to ``1`` (or ``true``, ``yes``, ``on``) to switch
#: entry-point discovery off; unset, empty, ``0``, ``false``, ``no`` and ``off`` leave it on.
AUTOLOAD_ENV = "PERSONALIZE_DISABLE_PLUGIN_AUTOLOAD"
_NOT_DISABLED = frozenset({"", "0", "false", "no", "off"})


def load_entry_point_plugins() -> list[Plugin]:
    """The plugins advertised in the ``personalize.plugins`` entry-point group.

    An entry point may name a plugin object, or a class that is instantiated without
    arguments. Returns an empty list when ``PERSONALIZE_DISABLE_PLUGIN_AUTOLOAD=1``.

    Raises:
        PluginError: An entry point cannot be loaded or is not a plugin.
    """
    if os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in _NOT_DISABLED:
        return []
    found: list[Plugin] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
            if isinstance(obj, type):
                obj = obj()
        except Exception as exc:
            raise PluginError(f"plugin entry point {ep.name!r} ({ep.value}): {exc!r}") from exc
        if not isinstance(obj, Plugin):
            raise PluginError(
                f"plugin entry point {ep.name!r} ({ep.value}): not a plugin "
                "(needs 'name' and 'setup(registry)')"
            )
        found.append(obj)
    return found
