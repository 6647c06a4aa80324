"""GrowthBook's cross-SDK ``evalCondition`` cases, through ``compile_condition``.

Both corpora pass in full. ``compile_condition`` is strict by default: the few cases whose
condition is invalid (an unknown operator, an invalid regex, ``$in`` without a list) raise
``ConfigError`` at compile time instead of evaluating false; with ``strict=False`` they
evaluate false exactly as GrowthBook's evaluator does. The list below is exhaustive.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from personalize.errors import ConfigError
from personalize.rules import compile_condition

#: The shared data as ``tests/conftest.py`` finds it; without it the cases collect empty
#: and ``test_both_corpora_are_present`` skips (or fails in CI) with the reason.
SHARED_DATA = Path(
    os.environ.get("PERSONALIZE_SHARED_DATA")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data"
)
PEERS = SHARED_DATA / "peers"
CORPORA = {"js": "growthbook-cases.json", "python": "growthbook-python-cases.json"}

#: Cases whose condition is invalid: rejected at load in strict mode (all expect false).
INVALID_CONDITIONS = {
    "$in - not array",
    "$nin - not array",
    "$ini - not array",
    "$nini - not array",
    "unknown operator - pass",
    "$regex invalid - pass",
    "$regex invalid - fail",
}


def _cases() -> list[Any]:
    params: list[Any] = []
    if not PEERS.is_dir():
        return params
    for corpus, filename in CORPORA.items():
        cases = json.loads((PEERS / filename).read_text())["evalCondition"]
        for i, case in enumerate(cases):
            params.append(pytest.param(case, id=f"{corpus}-{i}-{case[0]}"))
    return params


CASES = _cases()


def test_both_corpora_are_present(shared_data: Path) -> None:
    assert shared_data / "peers" == PEERS
    counts = {c.id.split("-")[0] for c in CASES}
    assert counts == {"js", "python"}
    assert len(CASES) == 248 + 235


@pytest.mark.parametrize("case", CASES)
def test_case_evaluates_as_the_reference_expects(case: list[Any]) -> None:
    name, condition, attributes, expected = case[:4]
    groups = case[4] if len(case) > 4 else None
    predicate = compile_condition(condition, groups, strict=False)
    assert predicate(attributes) is expected, name
    assert attributes == json.loads(json.dumps(attributes)), "evaluation must not mutate facts"


@pytest.mark.parametrize("case", CASES)
def test_strict_compilation_agrees_or_rejects_an_invalid_condition(case: list[Any]) -> None:
    name, condition, attributes, expected = case[:4]
    groups = case[4] if len(case) > 4 else None
    if name in INVALID_CONDITIONS:
        assert expected is False
        with pytest.raises(ConfigError):
            compile_condition(condition, groups)
    else:
        assert compile_condition(condition, groups)(attributes) is expected, name
