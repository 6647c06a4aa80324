"""What a plugin hands back is checked: an answer of the wrong kind is a reported failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from personalize.ranking import Recommendation
from personalize.ranking._steps import run_plugin_action
from personalize.rules import PluginAction

RANKED = [Recommendation(pid, 1.0 - i / 10, {"popularity": 1.0}) for i, pid in enumerate("abc")]


def _run(apply: Any) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    errors: list[tuple[str, str]] = []
    trace: list[str] = []
    out = run_plugin_action(
        PluginAction("shuffle", "r1", apply=apply),
        list(RANKED),
        lambda exc, label: errors.append((type(exc).__name__, label)),
        trace,
    )
    return [rec.product_id for rec in out], errors, trace


def _sort_in_place(ranked: list[Any], spec: Mapping[str, Any]) -> None:
    ranked.sort(key=lambda rec: rec.product_id, reverse=True)  # and forgets to return it


@pytest.mark.parametrize(
    "apply",
    [
        _sort_in_place,
        lambda ranked, spec: tuple(reversed(ranked)),
        lambda ranked, spec: (rec for rec in reversed(ranked)),
        lambda ranked, spec: {rec.product_id: rec for rec in ranked},
    ],
)
def test_a_plugin_action_answering_with_no_list_leaves_the_ranking_and_is_reported(
    apply: Any,
) -> None:
    # before: anything but a list was read as an empty list, so every product vanished
    # from the result and nothing said why
    ids, errors, _ = _run(apply)
    assert ids == ["a", "b", "c"]
    assert errors == [("TypeError", "action shuffle (rule r1)")]


def test_a_plugin_action_answering_with_a_list_reorders() -> None:
    ids, errors, trace = _run(lambda ranked, spec: list(reversed(ranked)))
    assert ids == ["c", "b", "a"]
    assert errors == []
    assert trace == ["plugin action shuffle (r1): 3 products"]
