"""The tracking example and the demo read a returning visitor's state from a store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from personalize.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_tracking_example_reads_the_cart_and_the_referral_from_its_store() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples/tracking.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    assert "abandoned cart: ('coat-parka',)" in done.stdout
    assert "'COMEBACK10'" in done.stdout
    assert "page two referral: search" in done.stdout
    assert "mobile_from_search" in done.stdout


def test_the_demo_shows_a_tracked_returning_visitor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--limit", "3"]) == 0
    out = capsys.readouterr().out.split("Tracked returning visitor")[1]
    assert "Abandoned cart from tracked events: coat-parka (189)" in out
    assert "COMEBACK10" in out
    assert "Segments: mobile_from_search" in out
