"""``personalize evaluate`` and ``personalize tune`` on a small synthetic grocery log."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from personalize.cli import main
from personalize.evaluation.synthetic import main as write_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grocery")
    write_store([str(out), "--customers", "30", "--days", "100", "--seed", "2"])
    return out


def args(store: Path, *extra: str) -> list[str]:
    return [str(store / "events.jsonl"), "--catalog", str(store / "catalog.json"), *extra]


def tune(store: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "tune",
            *args(store, "--budget", "2", "--seed", "4", "--months", "2", "--customers", "10"),
            "--out",
            str(out),
            *extra,
        ]
    )


def body(path: Path) -> object:
    """The settings of a fragment (its comment names the command line, which differs)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_evaluate_prints_both_modes_and_writes_json_and_a_plot(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "evaluate",
            *args(store, "--months", "2", "--baselines", "repeat,popular"),
            "--json",
            str(tmp_path / "figures.json"),
            "--plot",
            str(tmp_path / "ndcg.png"),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "all (NDCG@10 / HR@10" in out
    assert "new (NDCG@10 / HR@10" in out
    assert "| 2026-02 |" in out
    assert "| 2026-03 |" in out
    assert "| personalize | repeat purchase | recent popularity | vs best | 95% CI |" in out
    report = json.loads((tmp_path / "figures.json").read_text())
    assert report["months"]["2026-03"]["new"]["vs best"]["baseline"] == "recent popularity"
    assert report["command"].startswith("personalize evaluate ")
    assert (tmp_path / "ndcg.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_with_a_cutoff_runs_one_split(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["evaluate", *args(store, "--cutoff", "2026-03-20", "--baselines", "popular")])
    out = capsys.readouterr().out
    assert status == 0
    assert out.count("| 2026-03 |") == 2  # one row per mode


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--baselines", "repeat,magic"], "unknown baseline magic (known: repeat, popular,"),
        (["--config", "missing.yaml"], "configuration not found: missing.yaml"),
        (["--catalog", "nope.json"], "catalog not found: nope.json"),
    ],
)
def test_evaluate_reports_a_user_mistake_in_one_line(
    store: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["evaluate", *args(store), *extra])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert "Traceback" not in err


def test_evaluate_of_a_missing_log_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "nowhere.jsonl"]) == 2
    err = capsys.readouterr().err  # may start with a note that ALS and BM25 are skipped
    assert err.endswith("personalize: event log not found: nowhere.jsonl\n")
    assert "Traceback" not in err


def test_evaluate_with_a_plot_but_no_matplotlib_says_what_to_install(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    assert main(["evaluate", *args(store, "--baselines", "", "--plot", "x.png")]) == 2
    assert "pip install 'personalize[plots]'" in capsys.readouterr().err


def test_tune_writes_a_fragment_that_check_accepts(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fragment = tmp_path / "tuned.yaml"
    assert tune(store, fragment) == 0
    out = capsys.readouterr().out
    assert "validation months 2026-02:" in out  # never the last month
    assert out.count("held-out month 2026-03") == 1
    assert fragment.read_text().startswith("# personalize tune ")
    assert set(body(fragment)) == {"ranking"}  # type: ignore[arg-type]
    assert main(["check", str(fragment), "--catalog", str(store / "catalog.json")]) == 0


def test_tune_scores_the_held_out_month_with_the_configured_index_options(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ranking:\n  index:\n    co_purchase_scope: customer\n", encoding="utf-8")
    # One trial: the choice is the start, so the held-out month must score them alike.
    status = main(
        [
            "tune",
            *args(store, "--budget", "1", "--seed", "4", "--months", "2", "--customers", "10"),
            "--config",
            str(config),
            "--quiet",
        ]
    )
    assert status == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("held-out")]
    for mode in line.split(": ", 1)[1].split("; "):
        start, chosen = re.findall(r"start ([0-9.]+), chosen ([0-9.]+)", mode)[0]
        assert start == chosen, line


def test_tune_gives_the_same_fragment_for_the_same_seed(store: Path, tmp_path: Path) -> None:
    assert tune(store, tmp_path / "a.yaml") == 0
    assert tune(store, tmp_path / "b.yaml") == 0
    assert (tmp_path / "a.yaml").read_text().split("\n", 1)[1] == (
        (tmp_path / "b.yaml").read_text().split("\n", 1)[1]
    )


def test_tune_stopped_and_resumed_ends_like_an_uninterrupted_run(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole, resumed, state = tmp_path / "whole.yaml", tmp_path / "resumed.yaml", tmp_path / "s.json"
    assert tune(store, whole, "--budget", "4") == 0
    assert tune(store, resumed, "--budget", "4", "--state", str(state), "--stop-after", "2") == 0
    assert "stopped after 2 of 4 trials" in capsys.readouterr().out
    assert not resumed.exists()
    assert len(json.loads(state.read_text())["trials"]) == 2
    assert tune(store, resumed, "--budget", "4", "--state", str(state)) == 0
    assert len(json.loads(state.read_text())["trials"]) == 4
    assert body(resumed) == body(whole)


def test_tune_refuses_the_state_of_another_seed(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "s.json"
    assert tune(store, tmp_path / "a.yaml", "--budget", "1", "--state", str(state)) == 0
    assert tune(store, tmp_path / "b.yaml", "--seed", "5", "--state", str(state)) == 2
    assert "state of another search" in capsys.readouterr().err


def test_tune_needs_two_months(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune", *args(store, "--budget", "1", "--seed", "0", "--months", "1")]) == 2
    assert "must be at least 2" in capsys.readouterr().err


def replaced_whole(path: Path, run: Callable[[], int]) -> str:
    """Run a command that writes ``path`` and return what a reader of the old file sees.

    A hard link keeps the old file: a writer that replaces ``path`` by a rename leaves the
    link's text as it was, while one that rewrites it in place (truncate, then write, with
    a window where a reader sees half a file) changes the link's text too.
    """
    path.write_text("old\n", encoding="utf-8")
    reader = path.with_name("reader-" + path.name)
    os.link(path, reader)
    assert run() == 0
    return reader.read_text(encoding="utf-8")


def test_tune_replaces_its_fragment_atomically(store: Path, tmp_path: Path) -> None:
    fragment = tmp_path / "tuned.yaml"
    assert replaced_whole(fragment, lambda: tune(store, fragment)) == "old\n"
    assert set(body(fragment)) == {"ranking"}  # type: ignore[arg-type]


def test_evaluate_replaces_its_json_atomically(store: Path, tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    argv = ["evaluate", *args(store, "--cutoff", "2026-03-20", "--baselines", "popular")]
    assert replaced_whole(figures, lambda: main([*argv, "--json", str(figures)])) == "old\n"
    assert "months" in json.loads(figures.read_text(encoding="utf-8"))


def test_evaluate_reads_a_toml_configuration_as_check_does(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "personalization.toml"
    config.write_text("[ranking.weights]\npopularity = 2.0\n", encoding="utf-8")
    # It used to re-read the file with yaml.safe_load after load_config accepted it: TOML
    # is not YAML, so the command failed on a file `check` passes.
    argv = [*args(store, "--cutoff", "2026-03-20", "--baselines", "popular")]
    status = main(["evaluate", *argv, "--config", str(config)])
    assert status == 0, capsys.readouterr().err
    assert capsys.readouterr().out.count("| 2026-03 |") == 2  # one row per mode
