"""The plain-text progress bar: drawn on terminals only, silent otherwise."""

from __future__ import annotations

import io

from personalize.journeys import ProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(10, stream=stream)
    bar.update(5, 9, force=True)
    bar.close(10, 20)
    assert stream.getvalue() == ""


def test_the_bar_draws_on_a_terminal() -> None:
    stream = _Terminal()
    bar = ProgressBar(10, stream=stream, width=10)
    bar.update(5, 9, force=True)
    bar.close(10, 20)
    text = stream.getvalue()
    assert "[#####.....]  50%  5/10 shoppers" in text
    assert "[##########] 100%  10/10 shoppers" in text
    assert text.endswith("\n")


def test_the_bar_can_be_switched_off_on_a_terminal() -> None:
    stream = _Terminal()
    ProgressBar(10, stream=stream, enabled=False).update(5, 9, force=True)
    assert stream.getvalue() == ""
