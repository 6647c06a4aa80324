"""The public face: every package's ``__all__`` is sorted and names what it exports."""

import importlib

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
    "personalize.metrics",
    "personalize.ranking",
    "personalize.rules",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolvable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is in __all__ but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        obj = getattr(module, attr)
        if callable(obj) and getattr(obj, "__module__", "").startswith("personalize"):
            assert obj.__doc__, f"{name}.{attr} has no docstring"
