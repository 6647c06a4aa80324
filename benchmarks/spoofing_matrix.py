"""Which client address the resolver picks for each case of the spoofing matrix.

The cases live in ``tests/context/spoofing_cases.py``. The script runs on any checkout: put
that checkout first on ``PYTHONPATH``. A resolver without the ``forwarded_header`` option
(before it existed) is built with ``trusted_proxies`` only and reads whichever header it
prefers. Each line shows the case, the address expected from the configured header alone, the
address picked (``None``: no usable address), and ``ok``, ``SPOOFED`` (a client-written
address was believed) or ``WRONG``.

Run::

    PYTHONPATH=$PWD python benchmarks/spoofing_matrix.py
    PYTHONPATH=/path/to/old/checkout python benchmarks/spoofing_matrix.py --cases $PWD/tests
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import sys
from pathlib import Path
from typing import Any

from personalize import Request
from personalize.context import ContextResolver


def _load_cases(tests: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        "spoofing_cases", tests / "context" / "spoofing_cases.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resolver(trusted: int, header: str | None) -> ContextResolver:
    try:
        return ContextResolver(trusted_proxies=trusted, forwarded_header=header)  # type: ignore[call-arg,unused-ignore]
    except TypeError:  # a checkout from before the option existed
        return ContextResolver(trusted_proxies=trusted)


def _address(text: str | None) -> str | None:
    """The address as the resolver parsed it (``None``: it kept no usable address)."""
    try:
        return str(ipaddress.ip_address(text)) if text is not None else None
    except ValueError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=Path, default=Path(__file__).resolve().parents[1] / "tests")
    args = parser.parse_args()
    cases = _load_cases(args.cases)
    wrong = 0
    for name, peer, headers, trusted, header, expected in cases.SPOOFING_CASES:
        context = _resolver(trusted, header).resolve(Request(ip=peer, headers=headers))
        chosen = _address(context.client_ip)
        if chosen == expected:
            verdict = "ok"
        elif chosen in cases.CLIENT_WRITTEN:
            verdict = "SPOOFED"
        else:
            verdict = "WRONG"
        wrong += verdict != "ok"
        print(f"{name[:64]:<64} {header or '-':<15} {expected!s:<14} {chosen!s:<14} {verdict}")
    print(f"{wrong} of {len(cases.SPOOFING_CASES)} cases differ from the expected address")
    sys.exit(0)


if __name__ == "__main__":
    main()
