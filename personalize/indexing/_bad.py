"""Bad lines of an event file: counted, remembered with their line numbers, up to a limit."""

from __future__ import annotations

from dataclasses import dataclass, field

from personalize.errors import DataError

__all__ = ["BadLine", "BadLines"]


@dataclass(frozen=True, slots=True)
class BadLine:
    """One line that could not be read.

    Attributes:
        path: The file.
        line: Its 1-based line number (the row number for Parquet, the header being line 1
            of a CSV file).
        reason: What is wrong with it.
    """

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class BadLines:
    """The bad lines met so far; one more than ``limit`` fails the build.

    Args:
        limit: Bad lines skipped (and reported) before :meth:`add` raises.
    """

    limit: int
    lines: list[BadLine] = field(default_factory=list)

    def add(self, path: str, line: int, reason: str) -> None:
        """Record a bad line.

        Raises:
            DataError: It is one more than ``limit``; the message names it.
        """
        bad = BadLine(path, line, reason)
        self.lines.append(bad)
        if len(self.lines) > self.limit:
            shown = "; ".join(map(str, self.lines[:5]))
            raise DataError(
                f"{bad}: more than {self.limit} bad line(s) ({len(self.lines)} so far: {shown})"
            )

    def __len__(self) -> int:
        return len(self.lines)
