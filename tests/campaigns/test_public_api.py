"""The public faces of ``personalize.campaigns`` and ``personalize.spark``."""

from __future__ import annotations

import importlib

import pytest

from tests.test_public_api import _isort_key


@pytest.mark.parametrize("name", ["personalize.campaigns", "personalize.spark"])
def test_all_is_sorted_resolvable_and_documented(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for attr in exported:
        obj = getattr(module, attr)
        if callable(obj):
            assert obj.__doc__, f"{name}.{attr} has no docstring"
