"""The public face: every package's ``__all__`` is sorted and names what it exports."""

import importlib

import pytest

PACKAGES = ["personalize", "personalize.context", "personalize.rules", "personalize.ranking"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolvable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is in __all__ but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        obj = getattr(module, attr)
        if callable(obj) and getattr(obj, "__module__", "").startswith("personalize"):
            assert obj.__doc__, f"{name}.{attr} has no docstring"
