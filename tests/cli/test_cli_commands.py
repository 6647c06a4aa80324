"""The command line: demo, check, schema and explain."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

import personalize
from personalize.cli import main


def test_demo_personalizes_three_visitors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for name in ("Night owl", "Returning gold member", "Newsletter newcomer"):
        assert name in out
    assert out.count("Products:") == 4
    assert "Abandoned cart from tracked events: coat-parka (189)" in out
    assert "Page two of a visit from Google reads referral: search" in out
    assert "Landing: /ca/" in out
    assert "Landing: /summer/" in out
    assert "COMEBACK10" in out
    assert "WELCOME15" in out
    assert "Trace / rules" not in out


def test_demo_explain_shows_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--explain", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "Trace / rules" in out
    assert "Trace / offers" in out


def test_check_accepts_the_example(capsys: pytest.CaptureFixture[str], repo_root: Path) -> None:
    config = repo_root / "examples/store/personalization.yaml"
    assert main(["check", str(config), "--no-plugins"]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_lists_every_problem_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "rules:\n"
        "  - id: r1\n"
        "    when: {geo.contry: CA}\n"
        "  - id: r2\n"
        "    when: {time.hour: {$gt: noon}}\n"
        "offers:\n"
        "  - id: o1\n"
        "    when: {loyalty.teir: gold}\n"
    )
    assert main(["check", str(config), "--no-plugins"]) == 1
    err = capsys.readouterr().err
    assert "rules[0].when.geo.contry" in err
    assert "did you mean geo.country?" in err
    assert "rules[1].when.time.hour" in err
    assert "offers[0].when.loyalty.teir" in err


def test_check_names_the_file_once_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_root: Path
) -> None:
    # docs/configuration.md: "3 problems in personalization.yaml:"; the file was named twice
    # ("x.yaml: 1 problem in x.yaml:"), and without its folder the second time.
    config = tmp_path / "conf" / "bad.yaml"
    config.parent.mkdir()
    config.write_text("rules:\n  - id: r1\n    when: {geo.contry: CA}\n")
    assert main(["check", str(config), "--no-plugins"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == f"1 problem in {config}:"
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text("rules:\n  - id: r1\n    then: [{pin: {products: [giftcard-5O]}}]\n")
    catalog = repo_root / "examples/store/catalog.json"
    assert main(["check", str(pinned), "--catalog", str(catalog), "--no-plugins"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == f"1 problem in {pinned}:"


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "personalize configuration"
    assert "Rule" in schema["$defs"]


def test_explain_reads_a_request_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_root: Path
) -> None:
    store = repo_root / "examples/store"
    visitor = json.loads((store / "visitors.json").read_text())[1]
    request = tmp_path / "request.json"
    request.write_text(json.dumps(visitor))
    status = main(
        [
            "explain",
            str(store / "personalization.yaml"),
            str(request),
            "--catalog",
            str(store / "catalog.json"),
            "--events",
            str(store / "events.jsonl"),
        ]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "user c0042" in out
    assert "comeback10" in out


def test_explain_reports_every_problem_of_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As check does: the structural problem and the condition's, at once (explain listed
    # only the first kind, so a fixed file failed again on the second).
    config = tmp_path / "bad.yaml"
    config.write_text("rules:\n  - id: r1\n    when: {geo.contry: CA}\nlanding:\n  - {id: x}\n")
    request = tmp_path / "request.json"
    request.write_text('{"request": {}}')
    assert main(["explain", str(config), str(request)]) == 2
    err = capsys.readouterr().err
    assert "landing[0].page: Field required" in err
    assert "rules[0].when.geo.contry: unknown fact" in err


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"personalize {personalize.__version__}\n"
    assert personalize.__version__ == importlib.metadata.version("personalize")
