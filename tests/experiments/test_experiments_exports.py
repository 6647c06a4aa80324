"""The public faces of personalize.experiments and personalize.metrics."""

from __future__ import annotations

import importlib

import pytest


def _ruff_key(name: str) -> tuple[int, str]:
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", ["personalize.experiments", "personalize.metrics"])
def test_all_is_sorted_resolvable_and_documented(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_ruff_key)
    for attr in exported:
        obj = getattr(module, attr)
        if callable(obj) and getattr(obj, "__module__", "").startswith("personalize"):
            assert obj.__doc__, f"{name}.{attr} has no docstring"
