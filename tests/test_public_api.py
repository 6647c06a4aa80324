"""The public face: every package's ``__all__`` is sorted and names what it exports."""

import __future__

import importlib
import types

import pytest


def _isort_key(name: str) -> tuple[int, str]:
    """Constants first, then classes, then functions: the order ruff's RUF022 keeps."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


PACKAGES = [
    "personalize",
    "personalize.context",
    "personalize.evaluation",
    "personalize.experiments",
    "personalize.journeys",
    "personalize.metrics",
    "personalize.plugins",
    "personalize.ranking",
    "personalize.rules",
    "personalize.store",
    "personalize.web",
]


def public_names(module: types.ModuleType) -> set[str]:
    """The names a package defines or re-exports: no ``_`` prefix, no submodule, no
    ``from __future__`` feature."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolvable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is in __all__ but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_every_public_name(name: str) -> None:
    module = importlib.import_module(name)
    assert public_names(module) - set(module.__all__) == set()


def test_completeness_check_sees_a_name_left_out_of_all() -> None:
    module = types.ModuleType("fake")
    exec("from __future__ import annotations\nimport os\nA = 1\nB = 2\n_c = 3", vars(module))
    module.__all__ = ["A"]
    assert public_names(module) - set(module.__all__) == {"B"}


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        obj = getattr(module, attr)
        if callable(obj) and getattr(obj, "__module__", "").startswith("personalize"):
            assert obj.__doc__, f"{name}.{attr} has no docstring"
