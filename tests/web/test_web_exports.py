"""personalize.web's public face: a sorted __all__, docstrings, adapters imported lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import personalize.web

MODULES = [
    "personalize.web",
    "personalize.web.fastapi",
    "personalize.web.flask",
    "personalize.web.django",
]


def test_all_is_sorted_and_resolvable() -> None:
    exported = list(personalize.web.__all__)
    assert exported == sorted(exported, key=lambda n: (1 if n[:1].isupper() else 2, n))
    for name in exported:
        assert hasattr(personalize.web, name), name


@pytest.mark.parametrize("name", MODULES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for attr in module.__all__:
        obj = getattr(module, attr)
        if callable(obj):
            assert obj.__doc__, f"{name}.{attr} has no docstring"


def test_importing_personalize_web_imports_no_framework() -> None:
    code = (
        "import sys, personalize, personalize.web; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'flask', 'django') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
