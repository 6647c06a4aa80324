"""The exported JSON Schema accepts the example configuration and rejects broken ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from personalize.plugins import Registry
from personalize.schema import config_json_schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = config_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _example(repo_root: Path) -> dict[str, Any]:
    data = yaml.safe_load((repo_root / "examples/store/personalization.yaml").read_text())
    return json.loads(json.dumps(data, default=str))  # dates as ISO strings, as in JSON


def test_example_configuration_is_valid(validator: Any, repo_root: Path) -> None:
    errors = list(validator.iter_errors(_example(repo_root)))
    assert errors == []


@pytest.mark.parametrize(
    "broken",
    [
        {"rules": [{"id": "r", "then": [{"boost": {"where": {}, "by": -1}}]}]},
        {"rules": [{"id": "r", "then": [{"teleport": {}}]}]},
        {"rules": [{"id": "r", "then": [{"pin": {"products": [], "position": 1}}]}]},
        {"offers": [{"code": "NO-ID"}]},
        {"unknown_section": {}},
    ],
)
def test_broken_configurations_are_rejected(validator: Any, broken: dict[str, Any]) -> None:
    assert list(validator.iter_errors(broken))


def test_plugin_actions_appear_in_the_schema() -> None:
    from pydantic import BaseModel

    class ConfettiSpec(BaseModel):
        colour: str

    registry = Registry.with_builtins()
    registry.register_action("confetti", ConfettiSpec, lambda spec, rule_id, compiler: None)  # type: ignore[arg-type,return-value]
    schema = config_json_schema(registry)
    titles = [c["title"] for c in schema["$defs"]["Rule"]["properties"]["then"]["items"]["anyOf"]]
    assert "confetti" in titles
    assert "boost" in titles
