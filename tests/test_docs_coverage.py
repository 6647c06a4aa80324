"""The documentation names what a user can set: every configuration key, every CLI option.

A key or flag added to the code without a word in the docs fails here, and so does a
default in the settings table of ``docs/configuration.md`` that the code no longer has.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from personalize.cli import _parser
from personalize.config import PersonalizerConfig, Settings

_ROOT = Path(__file__).resolve().parent.parent
# docs/performance.md holds measured figures, not reference text.
_PAGES = [
    _ROOT / "README.md",
    *sorted((_ROOT / "docs").glob("*.md")),
    *sorted((_ROOT / "docs" / "guides").glob("*.md")),
]
_DOCS = "\n".join(p.read_text(encoding="utf-8") for p in _PAGES if p.name != "performance.md")


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _models(arg)


def _config_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = field.alias or name
        yield prefix + key
        for sub in dict.fromkeys(_models(field.annotation)):
            yield from _config_keys(sub, f"{prefix}{key}.")


def _named(key: str) -> bool:
    """Whether ``key`` (its last part) is written in the docs as code or as a YAML key."""
    last = re.escape(key.rsplit(".", 1)[-1])
    return re.search(rf"`(?:[\w.]+\.)?{last}\b|\b{last}:", _DOCS) is not None


@pytest.mark.parametrize("key", sorted(set(_config_keys(PersonalizerConfig))))
def test_every_configuration_key_is_documented(key: str) -> None:
    assert _named(key), f"the configuration key {key} is named nowhere in README.md or docs/"


def _settings_table() -> dict[str, str]:
    """``docs/configuration.md``'s settings table: key to its default as written."""
    page = (_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = page.split("\n## Settings\n", 1)[1].strip().split("\n\n", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    return {key.strip().strip("`"): default.strip().strip("`") for key, default in rows}


def _written(value: Any) -> str:
    """A default as the table writes it (YAML-like)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, BaseModel):
        return "{" + ", ".join(f"{k}: {_written(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    return str(value)


def test_the_settings_table_lists_every_setting_with_its_default() -> None:
    table = _settings_table()
    defaults = Settings()
    assert sorted(table) == sorted(Settings.model_fields)
    for key, written in table.items():
        assert written == _written(getattr(defaults, key)), key


def _subcommands(
    parser: argparse.ArgumentParser, name: str = "personalize"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _subcommands(sub, f"{name} {sub_name}")


def _options() -> Iterator[tuple[str, str]]:
    for name, parser in _subcommands(_parser()):
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    yield name, option


@pytest.mark.parametrize(("command", "option"), sorted(set(_options())))
def test_every_command_line_option_is_documented(command: str, option: str) -> None:
    assert re.search(rf"{re.escape(option)}\b", _DOCS), f"{command} {option} is not documented"


def _readme_rows() -> dict[str, str]:
    """The README's command table: subcommand to the usage written in its first cell."""
    readme = (_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        usage = re.match(r"\| `personalize ([a-z]+)([^`]*)` \|", line)
        if usage:
            rows[usage[1]] = rows.get(usage[1], "") + usage[2]
    return rows


def test_the_readme_command_table_gives_every_required_option() -> None:
    rows = _readme_rows()
    for name, parser in _subcommands(_parser()):
        words = name.split()
        if len(words) < 2 or words[1] not in rows:
            continue
        usage = rows[words[1]]
        for action in parser._actions:
            if action.required and action.option_strings:
                assert action.option_strings[0] in usage, f"{name}: {action.option_strings[0]}"
        for group in parser._mutually_exclusive_groups:
            if group.required:
                options = [a.option_strings[0] for a in group._group_actions]
                assert any(o in usage for o in options), f"{name}: one of {options}"


def _table_keys(page: str, heading_row: str) -> set[str]:
    """The first column of the table whose header row is ``heading_row``."""
    text = (_ROOT / "docs" / page).read_text(encoding="utf-8")
    table = text.split(heading_row + "\n", 1)[1].split("\n\n", 1)[0]
    return {line.split("|")[1].strip().strip("`") for line in table.splitlines()[1:]}


def test_the_fastapi_guide_lists_every_middleware_argument() -> None:
    fastapi = pytest.importorskip("personalize.web.fastapi")
    documented = _table_keys("guides/fastapi.md", "| argument | default | meaning |")
    arguments = set(inspect.signature(fastapi.PersonalizeMiddleware).parameters) - {"app"}
    assert documented == arguments


def test_the_django_guide_gives_every_personalize_setting() -> None:
    django = pytest.importorskip("personalize.web.django")
    text = (_ROOT / "docs" / "guides" / "flask-django.md").read_text(encoding="utf-8")
    block = text.split("PERSONALIZE = {", 1)[1].split("\n}", 1)[0]
    assert set(re.findall(r'^\s+"([A-Z_]+)":', block, flags=re.MULTILINE)) == django._KEYS


def test_the_context_page_names_fact_paths_that_rules_can_read() -> None:
    # docs/context.md listed history.purchase_counts as a field beside the facts, but a
    # condition on it is an unknown fact; such rows now say "not a fact path".
    from personalize.context import FACT_SCHEMA

    text = (_ROOT / "docs" / "context.md").read_text(encoding="utf-8")
    table = text.split("| field | how |\n", 1)[1].split("\n\n", 1)[0]
    for row in table.splitlines()[1:]:
        cell = row.split("|")[1]
        if "not a fact path" in row:
            continue
        names = re.findall(r"`([\w.]+)`", cell)
        namespace = names[0].split(".", 1)[0]
        for name in names:
            path = name if "." in name else f"{namespace}.{name}"
            assert path in FACT_SCHEMA, f"docs/context.md: {path} is no fact path"


def _yaml_blocks() -> Iterator[tuple[str, str]]:
    for page in _PAGES:
        blocks = re.findall(
            r"^```yaml\n(.*?)^```$", page.read_text(encoding="utf-8"), flags=re.M | re.S
        )
        for i, block in enumerate(blocks):
            yield f"{page.relative_to(_ROOT)}[{i}]", block


@pytest.mark.parametrize(("where", "block"), list(_yaml_blocks()), ids=lambda v: str(v)[:40])
def test_every_yaml_block_of_the_docs_is_a_valid_configuration(where: str, block: str) -> None:
    # A list is one experiment; experiments override the example store's rules and
    # offers by id, so they load over its configuration.
    import yaml

    from personalize import Personalizer

    config = yaml.safe_load(block)
    if isinstance(config, list):
        config = {"experiments": config}
    if "experiments" in config:
        example = _ROOT / "examples" / "store" / "personalization.yaml"
        config = {**yaml.safe_load(example.read_text(encoding="utf-8")), **config}
    Personalizer(config, store=None, autoload_plugins=False)
