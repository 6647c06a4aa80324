"""Loading a configuration: YAML, JSON, TOML or a mapping; every structural problem at once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from personalize import ConfigError, Personalizer, PersonalizerConfig, _document, load_config
from personalize._document import MAX_DEPTH
from personalize.plugins import Registry
from personalize.rules import compile_condition

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
    with pytest.raises(ConfigError, match=r"the file is empty; write \{\} for an empty") as info:
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


# ---------------------------------------------------------------- limits of the reader

BOMB = (
    "segments:\n  s: {referral.campaign: {$nin: [\n"
    '    &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"],\n'
    + "".join(
        f"    &{n} [{','.join([f'*{p}'] * 9)}],\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "  ]}}\n"
    "experiments: [{key: e, variants: [{key: v, overrides: {settings.max_offers: 1}}]}]\n"
)


def test_a_yaml_alias_bomb_is_refused_in_under_100_ms(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(BOMB)
    start = time.thread_time_ns()
    with pytest.raises(ConfigError, match=r"anchors \(&name\) are not allowed \(line 3"):
        load_config(tmp_path / "bomb.yaml")
    assert time.thread_time_ns() - start < 100_000_000
    with pytest.raises(ConfigError, match=r"anchors \(&name\) are not allowed"):
        Personalizer.from_file(tmp_path / "bomb.yaml")


@pytest.mark.parametrize("text", ["a: &x 1\nb: 2\n", "a: *x\n", "segments: {s: &c {}}\n"])
def test_yaml_anchors_and_aliases_are_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"(anchors|aliases) .* are not allowed"):
        load_config(tmp_path / "c.yaml")


def test_a_file_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_document, "MAX_FILE_BYTES", 64)
    (tmp_path / "big.yaml").write_text("rules: []\n" + "# padding\n" * 10)
    with pytest.raises(ConfigError, match="larger than 64 bytes"):
        load_config(tmp_path / "big.yaml")


def _nested(levels: int) -> dict[str, object]:
    doc: dict[str, object] = {"device.type": "mobile"}
    for _ in range(levels):
        doc = {"$and": [doc]}
    return {"segments": {"s": doc}}


@pytest.mark.parametrize("levels", [200, 1_000, 100_000])
@pytest.mark.parametrize("fmt", ["mapping", "c.json", "c.yaml", "c.toml"])
def test_deep_nesting_is_a_config_error_in_every_format(
    tmp_path: Path, fmt: str, levels: int
) -> None:
    doc = _nested(levels)
    if fmt == "mapping":
        source: object = doc
    elif fmt == "c.toml":
        source = tmp_path / fmt
        source.write_text("x = " + "[" * levels + "]" * levels + "\n")
    else:
        source = tmp_path / fmt
        source.write_text(json.dumps({"x": [[0]]}).replace("[[0]]", "[" * levels + "]" * levels))
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels deep"):
        Personalizer(source)  # type: ignore[arg-type]


def test_a_condition_compiled_on_its_own_is_depth_limited_too() -> None:
    value: object = {"$eq": "x"}
    for _ in range(250):
        value = {"$not": value}
    with pytest.raises(ConfigError, match="nested more than 64 levels deep") as info:
        compile_condition({"a": value})
    assert info.value.path.startswith("a.$not.$not")


def test_a_nul_character_in_a_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        Personalizer({"segments": {"a\0b": {"device.type": "mobile"}}})
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("segments.a\\0b", "a name must not contain a NUL character")
    ]
    assert not compile_condition({"a\0b": 1})({"a\0b": 2})


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file") as info:
        load_config(tmp_path / "nowhere.yaml")
    assert info.value.source == "nowhere.yaml"


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(
        "rules: []\nsettings: {timezone: Zürich}\n".encode("latin-1")
    )
    with pytest.raises(ConfigError, match=r"not UTF-8 text: byte 0xfc at line 2, column 23"):
        load_config(tmp_path / "latin1.yaml")


# ---------------------------------------------------------------- every problem, one pass

FOURTEEN_MISTAKES = """
segments:
  owls: {time.daypart: nite}
  mobile: {device.typ: mobile}
rules:
  - id: r1
    priorty: 2
    when: {geo.contry: CA}
    then:
      - bost: {where: {category: coats}, by: 2}
      - boost: {where: {colour: red}, by: 2}
  - id: r1
    then: [{set_weights: {co_purchse: 3}}]
ranking:
  weights: {co_purchse: 2.0}
  exclude_purchsed: true
landing:
  - {id: home, page: /}
  - {id: home, page: /x}
offers:
  - {id: o1, when: {loyalty.teir: gold}, cap: {per_customer: -1}}
experiments:
  - key: e1
    variants:
      - {key: v, overrides: {ranking.weights.co_purchse: 3.0}}
settings: {timezone: Europe/Pari, max_offers: lots}
"""


def test_every_mistake_of_a_file_is_reported_in_one_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(FOURTEEN_MISTAKES)
    with pytest.raises(ConfigError) as info:
        Personalizer.from_file(tmp_path / "bad.yaml")
    found = {p.path: p for p in info.value.problems}
    expected = {
        "segments.owls.time.daypart": "night",
        "segments.mobile.device.typ": "device.type",
        "rules[0].priorty": None,
        "rules[0].when.geo.contry": "geo.country",
        "rules[0].then[0].bost": "boost",
        "rules[0].then[1].boost.where.colour": None,
        "rules[1].id": None,
        "rules[1].then[0].set_weights.co_purchse": "co_purchase",
        "ranking.weights.co_purchse": "co_purchase",
        "ranking.exclude_purchsed": None,
        "landing[1].id": None,
        "offers[0].when.loyalty.teir": "loyalty.tier",
        "offers[0].cap.per_customer": None,
        "experiments[0].variants[0].overrides.ranking.weights.co_purchse": "co_purchase",
        "settings.timezone": "Europe/Paris",
        "settings.max_offers": None,
    }
    assert set(found) == set(expected)
    for path, suggestion in expected.items():
        if suggestion is not None:
            assert found[path].suggestion == suggestion, path
    assert len(info.value.problems) == len(expected)  # nothing reported twice


def test_a_bad_store_time_zone_is_reported_at_its_path_with_the_rest() -> None:
    with pytest.raises(ConfigError) as info:
        Personalizer(
            {"settings": {"timezone": "Mars/Base"}, "rules": [{"id": "r", "then": [{"bost": {}}]}]}
        )
    assert [p.path for p in info.value.problems] == ["settings.timezone", "rules[0].then[0].bost"]
    assert info.value.problems[0].suggestion != "UTC"


@pytest.mark.parametrize(
    ("section", "items", "path"),
    [
        ("rules", [{"id": "a"}, {"id": "b"}, {"id": "a"}], "rules[2].id"),
        ("offers", [{"id": "o"}, {"id": "o"}], "offers[1].id"),
        ("landing", [{"id": "l", "page": "/"}, {"id": "l", "page": "/x"}], "landing[1].id"),
        ("experiments", [{"key": "e", "variants": [{"key": "v"}]}] * 2, "experiments[1].key"),
    ],
)
def test_each_duplicate_id_is_reported_at_its_own_path(
    section: str, items: list[dict[str, object]], path: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({section: items})
    assert [p.path for p in info.value.problems] == [path]
    assert "duplicate" in info.value.problems[0].message


def test_unknown_ranking_weights_are_refused_but_plugin_scorers_are_known() -> None:
    with pytest.raises(ConfigError) as info:
        Personalizer({"ranking": {"weights": {"co_purchse": 1.0}}})
    (problem,) = info.value.problems
    assert (problem.path, problem.suggestion) == ("ranking.weights.co_purchse", "co_purchase")

    class Fresh:
        name = "fresh"

        def setup(self, registry: Registry) -> None:
            registry.register_scorer("freshness", lambda *args: 0.0)

    variant = {"key": "v", "overrides": {"ranking.weights.freshness": 2.0}}
    config = {
        "ranking": {"weights": {"freshness": 1.0}},
        "experiments": [{"key": "e", "variants": [variant]}],
    }
    p = Personalizer(config, plugins=[Fresh()], autoload_plugins=False)
    assert p.config.ranking.weights == {"freshness": 1.0}


# ---------------------------------------------------------------- keys given twice, size

TWICE_YAML = """\
rules:
  - id: a
    when: {geo.country: CA}
    when: {geo.country: US}
  - {id: b, priority: 1, priority: 2}
settings: {max_offers: -1}
rules: []
"""


@pytest.fixture(params=["libyaml", "python"])
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with libyaml's parser (when PyYAML has it) and with PyYAML's own."""
    if request.param == "python":
        monkeypatch.setattr(_document, "_Loader", _document._PythonLoader)
    elif _document._Loader is _document._PythonLoader:
        pytest.skip("PyYAML is built without libyaml")
    return str(request.param)


def test_a_key_given_twice_in_yaml_is_a_problem_with_the_others(
    tmp_path: Path, yaml_loader: str
) -> None:
    (tmp_path / "c.yaml").write_text(TWICE_YAML)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.yaml")
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("settings.max_offers", "Input should be greater than or equal to 0"),
        ("rules[0].when", "this key is given twice (lines 3 and 4); give it once"),
        ("rules[1].priority", "this key is given twice (line 5); give it once"),
        ("rules", "this key is given twice (lines 1 and 7); give it once"),
    ]


def test_a_key_given_twice_in_json_is_a_problem_at_its_path(tmp_path: Path) -> None:
    doc = '{"offers": [{"id": "o", "code": "A", "code": "B"}], "landing": [], "landing": []}'
    (tmp_path / "c.json").write_text(doc)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.json")
    assert sorted(p.path for p in info.value.problems) == ["landing", "offers[0].code"]


@pytest.mark.parametrize("text", ["a: 1\nb: {a: 1}\n", "x: [{a: 1}, {a: 2}]\n", "'1': 1\n1: 2\n"])
def test_equal_keys_in_different_mappings_are_not_duplicates(
    tmp_path: Path, text: str, yaml_loader: str
) -> None:
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:  # unknown fields, but nothing given twice
        load_config(tmp_path / "c.yaml")
    assert not any("twice" in p.message for p in info.value.problems)


def test_a_yaml_file_with_too_many_values_is_refused_in_about_a_second(
    tmp_path: Path, yaml_loader: str
) -> None:
    lines = _document.MAX_YAML_NODES + 10
    (tmp_path / "big.yaml").write_text(
        "segments:\n" + "".join(f"  s{i}: {{}}\n" for i in range(lines))
    )
    start = time.thread_time_ns()
    with pytest.raises(ConfigError, match=f"more than {_document.MAX_YAML_NODES} values"):
        load_config(tmp_path / "big.yaml")
    if yaml_loader == "libyaml":  # PyYAML's own parser takes about four times as long
        assert time.thread_time_ns() - start < 3_000_000_000


@pytest.mark.parametrize(
    ("name", "text"),
    [("c.json", '{"version": 1X}'), ("c.yaml", "version: 1X\n"), ("c.toml", "version = 1X\n")],
)
def test_an_integer_too_long_for_python_is_a_config_error(
    tmp_path: Path, name: str, text: str
) -> None:
    # before: a ValueError ("Exceeds the limit (4300 digits)") out of load_config
    (tmp_path / name).write_text(text.replace("X", "0" * 5000))
    with pytest.raises(ConfigError, match="4300 digits"):
        load_config(tmp_path / name)
