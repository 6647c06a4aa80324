"""Dependencies point one way: context → rules → ranking → facade → tools.

Every module's imports are read with :mod:`ast` (imports inside functions and under
``TYPE_CHECKING`` included, since both still tie the layers together), and each must
point to its own layer or a lower one. ``personalize.context`` and ``personalize.store``
share a layer and must not import each other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import personalize

PACKAGE_ROOT = Path(personalize.__file__).parent

#: Low to high. A module belongs to the layer of its longest listed prefix.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "personalize.errors",
            "personalize._models",
            "personalize._validation",
            "personalize._document",
            "personalize._offer_text",
            "personalize._types",
            "personalize.config",
            "personalize.schedule",
            "personalize.catalog",
            "personalize._registry",
            "personalize._plugin_parts",
            "personalize._atomic",
            "personalize._textfile",
        }
    ),
    frozenset({"personalize.context", "personalize.store"}),
    frozenset({"personalize.rules"}),
    frozenset({"personalize.ranking"}),
    frozenset(
        {
            "personalize.landing",
            "personalize.offers",
            "personalize.experiments",
            "personalize.result",
            "personalize._serialize",
            "personalize._compile",
            "personalize._personalizer",
            "personalize._tracking",
            "personalize._catalog_check",
            "personalize.metrics",
            "personalize.evaluation",
            "personalize.schema",
            "personalize.plugins",
        }
    ),
    frozenset(
        {
            "personalize.journeys",
            "personalize.indexing",
            "personalize.cli",
            "personalize._cli_inputs",
            "personalize._cli_evaluate",
            "personalize._cli_campaign",
            "personalize._cli_index",
            "personalize.web",
            "personalize.campaigns",
            "personalize.spark",
        }
    ),
)

#: Pairs of the same layer that must not import each other.
APART = (("personalize.context", "personalize.store"),)


#: The package itself re-exports the facade; it counts as the facade, but only by its own name.
ROOT, ROOT_LAYER = "personalize", 4


def _prefixes(module: str) -> Iterator[str]:
    if module == ROOT:
        yield ROOT
        return
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        yield ".".join(parts[:end])


def layer_of(module: str) -> int | None:
    """The layer of a ``personalize`` module, or ``None`` for unassigned modules."""
    if module == ROOT:
        return ROOT_LAYER
    for prefix in _prefixes(module):
        for level, names in enumerate(LAYERS):
            if prefix in names:
                return level
    return None


def _group(module: str) -> str | None:
    if module == ROOT:
        return ROOT
    for prefix in _prefixes(module):
        if any(prefix in names for names in LAYERS):
            return prefix
    return None


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


MODULES = list(_modules())
MODULE_NAMES = frozenset(name for name, _ in MODULES)


def imported_modules(source: str, module: str, *, is_package: bool) -> Iterator[str]:
    """Every module ``source`` (the text of ``module``) imports, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # ``from personalize import rules`` imports a module, not a name of the package.
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                yield candidate if candidate in MODULE_NAMES else target


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that point against the layers, as messages."""
    own = layer_of(module)
    if own is None:
        return [f"{module}: not assigned to a layer in tests/test_layers.py"]
    found = []
    for target in dict.fromkeys(imported_modules(source, module, is_package=is_package)):
        if target != ROOT and not target.startswith(ROOT + "."):
            continue
        level = layer_of(target)
        if level is None:
            found.append(f"{module} imports {target}, which has no layer")
        elif level > own:
            found.append(f"{module} (layer {own}) imports {target} (layer {level})")
        else:
            mine, theirs = _group(module), _group(target)
            for a, b in APART:
                if {mine, theirs} == {a, b}:
                    found.append(f"{module} imports {target}: {a} and {b} stay apart")
    return found


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_module_imports_point_down_the_layers(module: str, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations(source, module, is_package=path.name == "__init__.py") == []


def test_checker_reports_an_upward_import_inside_a_function() -> None:
    source = "def f():\n    from personalize.ranking import InteractionIndex\n"
    assert violations(source, "personalize.rules._nodes") == [
        "personalize.rules._nodes (layer 2) imports personalize.ranking (layer 3)"
    ]


def test_checker_reports_an_upward_import_under_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from personalize.rules import Action\n"
    )
    assert violations(source, "personalize._registry") == [
        "personalize._registry (layer 0) imports personalize.rules (layer 2)"
    ]


def test_checker_resolves_relative_imports_and_subpackage_names() -> None:
    assert violations("from .. import ranking\n", "personalize.rules._nodes") == [
        "personalize.rules._nodes (layer 2) imports personalize.ranking (layer 3)"
    ]
    assert violations("from personalize import ranking\n", "personalize.context._model") == [
        "personalize.context._model (layer 1) imports personalize.ranking (layer 3)"
    ]


def test_checker_keeps_context_and_store_apart() -> None:
    assert violations("import personalize.store\n", "personalize.context._history") == [
        "personalize.context._history imports personalize.store: "
        "personalize.context and personalize.store stay apart"
    ]


def test_checker_accepts_imports_of_the_same_or_a_lower_layer() -> None:
    source = "from personalize.context import Context\nfrom personalize.errors import ConfigError\n"
    assert violations(source, "personalize.rules._ruleset") == []


def test_checker_reports_a_module_without_a_layer() -> None:
    assert violations("", "personalize.unheard_of") == [
        "personalize.unheard_of: not assigned to a layer in tests/test_layers.py"
    ]
