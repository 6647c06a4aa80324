"""User mistakes give one clear message and a documented exit status, never a traceback.

Exit statuses: 0 success, 1 ``check`` found problems, 2 a usage error or a bad input.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from personalize.cli import main

REPO = Path(__file__).resolve().parents[2]
STORE = REPO / "examples" / "store"
CONFIG = str(STORE / "personalization.yaml")
CATALOG = str(STORE / "catalog.json")
EVENTS = str(STORE / "events.jsonl")


@pytest.fixture
def files(tmp_path: Path) -> Callable[[str], str]:
    """Write one of the broken inputs below into ``tmp_path`` and return its path."""
    contents: dict[str, str | bytes] = {
        "bad.json": '{"request": {',
        "list.json": "[1, 2]",
        "bad-request.json": '{"request": {"ip": 5, "now": "soon"}}',
        "bad-limit.json": '{"limit": "ten"}',
        "ok.json": "{}",
        "bad.yaml": "rules: [\n",
        "invalid.yaml": "rules:\n  - id: r\n    when: {geo.contry: CA}\n",
        "latin1.yaml": "rules: []\n# caf\xe9\n".encode("latin-1"),
        "bad-catalog.json": '[{"id": "a"},\n{"id": ',
        "bad-product.json": '[{"id": "a", "price": "cheap"}]',
        "bad-events.jsonl": '{"type": "view"\n',
        "not-a-db.mmdb": "hello",
    }

    def make(name: str) -> str:
        if name == "missing":
            return str(tmp_path / "does-not-exist.json")
        if name == "dir":
            return str(tmp_path)
        path = tmp_path / name
        content = contents[name]
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    return make


# (command line with {placeholders} for broken files, expected status, text in the message)
CASES = [
    ("check {missing}", 2, "configuration not found"),
    ("check {dir}", 2, "is a directory"),
    ("check {bad.yaml}", 1, "bad.yaml"),
    ("check {bad.json}", 1, "bad.json"),
    ("check {latin1.yaml}", 1, "UTF-8"),
    ("check {invalid.yaml}", 1, "rules[0].when.geo.contry"),
    ("check CONFIG --catalog {missing}", 2, "catalog not found"),
    ("check CONFIG --catalog {bad-catalog.json}", 2, "invalid JSON"),
    ("check CONFIG --catalog {bad-product.json}", 2, "price"),
    ("explain {missing} {ok.json}", 2, "configuration not found"),
    ("explain CONFIG {missing}", 2, "input not found"),
    ("explain CONFIG {bad.json}", 2, "invalid JSON"),
    ("explain CONFIG {list.json}", 2, "expected a JSON object"),
    ("explain CONFIG {bad-request.json}", 2, "request: ip"),
    ("explain CONFIG {bad-limit.json}", 2, "limit"),
    ("explain {bad.yaml} {ok.json}", 2, "bad.yaml"),
    ("explain {invalid.yaml} {ok.json}", 2, "geo.contry"),
    ("explain CONFIG {ok.json} --catalog {bad-catalog.json}", 2, "invalid JSON"),
    ("explain CONFIG {ok.json} --events {bad-events.jsonl}", 2, "invalid event"),
    ("explain CONFIG {ok.json} --events {missing}", 2, "event log not found"),
    ("explain CONFIG {ok.json} --geoip {missing}", 2, "geo database not found"),
    ("explain CONFIG {ok.json} --geoip {not-a-db.mmdb}", 2, "MaxMind"),
    ("simulate {missing} --catalog CATALOG --out {dir}", 2, "configuration not found"),
    ("simulate CONFIG --catalog {missing} --out {dir}", 2, "catalog not found"),
    ("simulate CONFIG --catalog {bad-catalog.json} --out {dir}", 2, "invalid JSON"),
    ("simulate {invalid.yaml} --catalog CATALOG --out {dir}", 2, "geo.contry"),
    ("simulate CONFIG --catalog CATALOG --interactions {bad-events.jsonl} --out {dir}", 2, ":1:"),
    ("simulate CONFIG --catalog CATALOG --shoppers 2 --quiet --out {ok.json}", 2, "ok.json"),
    ("simulate CONFIG --catalog CATALOG --shoppers 0 --out {dir}", 2, "at least 1"),
    ("kpi {missing}", 2, "event log not found"),
    ("kpi {dir}", 2, "is a directory"),
    ("kpi {bad-events.jsonl}", 2, "invalid event"),
    ("kpi {bad.json}", 2, "invalid event"),
    ("schema extra", 2, "unrecognized arguments"),
    ("demo --limit ten", 2, "--limit"),
    ("demo --limit 0", 2, "at least 1"),
    ("demo --colour", 2, "unrecognized arguments"),
    ("", 2, "required"),
]


def _argv(template: str, files: Callable[[str], str]) -> list[str]:
    argv = []
    for word in template.split():
        if word.startswith("{") and word.endswith("}"):
            word = files(word[1:-1])
        argv.append({"CONFIG": CONFIG, "CATALOG": CATALOG, "EVENTS": EVENTS}.get(word, word))
    return argv


@pytest.mark.parametrize(("template", "status", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_user_mistake_is_one_message_and_a_status(
    template: str,
    status: int,
    message: str,
    files: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(_argv(template, files)) == status
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_every_command_is_covered_by_the_matrix() -> None:
    commands = {template.split()[0] for template, _, _ in CASES if template}
    assert commands == {"check", "explain", "simulate", "kpi", "schema", "demo"}


def test_a_missing_file_gives_no_traceback_from_the_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "personalize.cli", "kpi", str(tmp_path / "nope.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
    )
    assert done.returncode == 2
    assert done.stderr == f"personalize: event log not found: {tmp_path / 'nope.jsonl'}\n"
