"""A plain-text progress bar on a stream (stderr), redrawn at most a few times a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """``[#########.........]  45%  9000/20000 shoppers  1234 sessions/s  ETA 0:12``.

    Args:
        total: The count at 100%.
        stream: Where to draw; stderr by default.
        enabled: Draw at all; ``None`` draws only when ``stream`` is a terminal.
        unit: What is counted.
        rate_unit: What the rate counts.
        width: Characters of the bar itself.
    """

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        unit: str = "shoppers",
        rate_unit: str = "sessions",
        width: int = 30,
    ) -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = enabled if enabled is not None else bool(isatty and isatty())
        self.unit = unit
        self.rate_unit = rate_unit
        self.width = width
        self._started = time.perf_counter()
        self._drawn = 0.0

    def update(self, done: int, sessions: int, *, force: bool = False) -> None:
        """Redraw for ``done`` units and ``sessions`` sessions, if enough time has passed."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._drawn < 0.2:
            return
        self._drawn = now
        elapsed = max(now - self._started, 1e-9)
        fraction = min(done / self.total, 1.0)
        filled = round(self.width * fraction)
        rate = sessions / elapsed
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        minutes, seconds = divmod(round(eta), 60)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%}"
            f"  {done}/{self.total} {self.unit}  {rate:,.0f} {self.rate_unit}/s"
            f"  ETA {minutes}:{seconds:02d} "
        )
        self.stream.flush()

    def close(self, done: int, sessions: int) -> None:
        """Draw the final state and end the line."""
        if not self.enabled:
            return
        self.update(done, sessions, force=True)
        self.stream.write("\n")
        self.stream.flush()
