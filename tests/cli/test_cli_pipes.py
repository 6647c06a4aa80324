"""Output piped into a reader that stops early (``| head -1``) ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

fcntl = pytest.importorskip("fcntl", reason="POSIX pipes")
pytestmark = pytest.mark.skipif(
    not hasattr(fcntl, "F_SETPIPE_SZ"), reason="needs Linux pipes (fcntl.F_SETPIPE_SZ)"
)

REPO = Path(__file__).resolve().parents[2]
#: The smallest pipe Linux allows, so that the output cannot fit in it before the reader
#: closes (a 64 KiB pipe could swallow all of ``schema`` and prove nothing).
PIPE_SIZE = 4096


def _head_1(*args: str) -> tuple[bytes, int, str]:
    """Run ``personalize ARGS | head -1``: read one line from a real pipe, then close it."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    child = subprocess.Popen(
        [sys.executable, "-m", "personalize.cli", *args],
        stdout=write_end,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
    )
    os.close(write_end)
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(read_end, 1)
        if not byte:
            break
        line += byte
    os.close(read_end)  # what head does after its first line
    _, err = child.communicate(timeout=120)
    return line, child.returncode, err.decode()


@pytest.mark.parametrize(
    ("args", "first_line"),
    [(("schema",), b"{\n"), (("demo", "--explain"), b"=" * 78 + b"\n")],
    ids=["schema", "demo --explain"],
)
def test_a_pipe_closed_after_the_first_line_ends_the_command_quietly(
    args: tuple[str, ...], first_line: bytes
) -> None:
    line, status, err = _head_1(*args)
    assert line == first_line
    assert err == ""  # no BrokenPipeError, no "Exception ignored" at exit
    assert status == 141  # 128 + SIGPIPE, as a command killed by the signal reports
