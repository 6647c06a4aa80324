"""Loading a configuration: YAML, JSON, TOML or a mapping; every structural problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalize import ConfigError, PersonalizerConfig, load_config

DOCUMENT = {
    "segments": {"night_owls": {"time.daypart": "night"}},
    "rules": [{"id": "r1", "when": {"segments": "night_owls"}, "then": []}],
    "landing": [{"page": "/"}],
    "settings": {"timezone": "Europe/Paris", "max_offers": 1},
}

YAML = """
segments:
  night_owls: {time.daypart: night}
rules:
  - {id: r1, when: {segments: night_owls}, then: []}
landing:
  - {page: /}
settings: {timezone: Europe/Paris, max_offers: 1}
"""

TOML = """
[segments.night_owls]
"time.daypart" = "night"

[[rules]]
id = "r1"
then = []
[rules.when]
segments = "night_owls"

[[landing]]
page = "/"

[settings]
timezone = "Europe/Paris"
max_offers = 1
"""


def test_the_same_document_in_every_format(tmp_path: Path) -> None:
    expected = PersonalizerConfig.model_validate(DOCUMENT)
    (tmp_path / "c.yaml").write_text(YAML)
    (tmp_path / "c.json").write_text(json.dumps(DOCUMENT))
    (tmp_path / "c.toml").write_text(TOML)
    assert load_config(DOCUMENT) == expected
    for name in ("c.yaml", "c.json", "c.toml"):
        assert load_config(tmp_path / name) == expected, name
    assert load_config(str(tmp_path / "c.yaml")) == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.yaml", ""),
        ("c.yaml", "  \n\n"),
        ("c.yml", "# rules go here\n"),
        ("c.json", " \n"),
        ("c.toml", "# nothing yet\n"),
    ],
)
def test_an_empty_file_is_an_error(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match="the file is empty; write {} for an empty") as info:
        load_config(tmp_path / name)
    assert info.value.source == name


@pytest.mark.parametrize("name", ["c.yaml", "c.json"])
def test_an_explicit_empty_mapping_is_the_default_configuration(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("{}\n")
    assert load_config(tmp_path / name) == PersonalizerConfig()
    assert load_config({}) == PersonalizerConfig()


def test_every_structural_problem_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "rules:\n"
        "  - {when: {}}\n"
        "  - {id: r2, priorty: 3}\n"
        "offers:\n"
        "  - {id: o, cap: {per_customer: -1}}\n"
        "settings: {max_offers: lots}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "bad.yaml")
    problems = {p.path: p.message for p in info.value.problems}
    assert problems["rules[0].id"] == "Field required"
    assert problems["rules[1].priorty"] == "unknown field"
    assert "greater than or equal to 0" in problems["offers[0].cap.per_customer"]
    assert "settings.max_offers" in problems
    assert "bad.yaml" in str(info.value)


def test_duplicate_ids_are_problems() -> None:
    with pytest.raises(ConfigError, match="duplicate id 'r'"):
        load_config({"rules": [{"id": "r"}, {"id": "r"}]})


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text("rules: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match=r"cannot parse evil\.yaml"):
        load_config(tmp_path / "evil.yaml")


@pytest.mark.parametrize("text", ["[1, 2]", "just text", "42"])
def test_a_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(tmp_path / "c.yaml")


def test_config_error_is_a_value_error_with_the_first_path() -> None:
    with pytest.raises(ValueError, match=r"landing\[0\]\.page") as info:
        load_config({"landing": [{}]})
    assert isinstance(info.value, ConfigError)
    assert info.value.path == "landing[0].page"


@pytest.mark.parametrize(
    ("offer_cap", "path", "message"),
    [
        ({"per_customer": -1}, "offers[0].cap.per_customer", "greater than or equal to 0"),
        ({}, "offers[0].cap.per_customer", "Field required"),
        ([{"per_customer": 1}, {"per_customer": "x"}], "offers[0].cap[1].per_customer", "integer"),
        ("seven", "offers[0].cap", "valid list"),
    ],
)
def test_union_fields_report_one_problem_at_the_document_path(
    offer_cap: object, path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"offers": [{"id": "o", "cap": offer_cap}]})
    (problem,) = info.value.problems
    assert problem.path == path
    assert message in problem.message
    assert "OfferCap" not in problem.path


def test_a_bad_window_bound_is_one_problem() -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"rules": [{"id": "r", "active": {"from": "soon"}}]})
    assert [p.path for p in info.value.problems] == ["rules[0].active.from"]
