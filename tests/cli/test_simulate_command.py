"""The command line: simulate writes an event log and a report; kpi prints the table."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from personalize.cli import main
from personalize.journeys import _report
from personalize.metrics import read_events

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _simulate(repo_root: Path, out: Path, *extra: str) -> int:
    store = repo_root / "examples" / "store"
    return main(
        [
            "simulate",
            str(store / "personalization.yaml"),
            "--catalog",
            str(store / "catalog.json"),
            "--interactions",
            str(store / "events.jsonl"),
            "--shoppers",
            "60",
            "--days",
            "3",
            "--seed",
            "5",
            "--out",
            str(out),
            "--quiet",
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    out = tmp_path_factory.mktemp("sim")
    assert _simulate(repo_root, out) == 0
    return out


def test_simulate_writes_events_and_report(run_dir: Path) -> None:
    events = read_events(run_dir / "events.jsonl")
    assert {e.variant for e in events} == {"control", "personalized"}
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "## Personalized vs control" in report
    assert "| add-to-cart rate |" in report
    assert "| revenue / session |" in report
    assert "95% CI" in report
    assert "p-value" in report
    assert "Sample ratio check" in report
    assert "no evidence of real-world lift" in report
    assert "experiment `weights-v2`" in report


def test_simulate_prints_where_it_wrote(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _simulate(repo_root, tmp_path / "out", "--no-plots") == 0
    out = capsys.readouterr().out
    assert "events.jsonl" in out
    assert "report.md" in out
    assert "Plots were not requested" in (tmp_path / "out/report.md").read_text("utf-8")


def test_simulate_is_reproducible(tmp_path: Path, repo_root: Path, run_dir: Path) -> None:
    assert _simulate(repo_root, tmp_path, "--no-plots") == 0
    assert (tmp_path / "events.jsonl").read_bytes() == (run_dir / "events.jsonl").read_bytes()


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_simulate_draws_png_plots_linked_from_the_report(run_dir: Path) -> None:
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    for name in ("kpis.png", "daily_revenue.png"):
        assert (run_dir / name).read_bytes().startswith(PNG_MAGIC)
        assert f"]({name})" in report


def test_the_report_says_when_plots_were_skipped(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(*args: object, **kwargs: object) -> Path:
        raise ImportError("no matplotlib")

    monkeypatch.setattr(_report, "plot_kpis", missing)
    assert _simulate(repo_root, tmp_path) == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "Plots were skipped: matplotlib is not installed" in report
    assert "pip install" in report
    assert not (tmp_path / "kpis.png").exists()


def test_simulate_rejects_an_invalid_configuration(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("rules:\n  - id: r\n    when: {geo.contry: CA}\n", encoding="utf-8")
    status = main(
        ["simulate", str(config), "--catalog", str(repo_root / "examples/store/catalog.json"),
         "--shoppers", "5", "--out", str(tmp_path / "out"), "--quiet"]
    )  # fmt: skip
    assert status == 2  # an invalid input of a command that is not ``check``
    assert "geo.contry" in capsys.readouterr().err


def test_kpi_prints_the_table_by_variant(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpi", str(run_dir / "events.jsonl"), "--by", "variant"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("variant")
    assert "control" in out
    assert "personalized vs control" in out
    assert "add-to-cart rate" in out
    assert "sample ratio" in out


def test_kpi_groups_by_an_experiment(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpi", str(run_dir / "events.jsonl"), "--by", "experiments.weights-v2"]) == 0
    out = capsys.readouterr().out
    assert "heavy-copurchase vs control" in out


def test_kpi_all_prints_one_column(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpi", str(run_dir / "events.jsonl"), "--by", "all"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["all", "all"]
    assert " vs " not in out


def test_simulate_replaces_its_log_and_report_atomically(repo_root: Path, tmp_path: Path) -> None:
    # Hard links keep the old files: a rename leaves them as they were, an in-place
    # rewrite (with a window where a reader sees half a file) would change them too.
    readers = {}
    for name in ("events.jsonl", "report.md"):
        (tmp_path / name).write_text("old\n", encoding="utf-8")
        readers[name] = tmp_path / f"reader-{name}"
        os.link(tmp_path / name, readers[name])
    assert _simulate(repo_root, tmp_path, "--no-plots") == 0
    assert {name: path.read_text(encoding="utf-8") for name, path in readers.items()} == {
        "events.jsonl": "old\n",
        "report.md": "old\n",
    }
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("#")
