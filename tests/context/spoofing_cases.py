"""The client-IP attack matrix: who connected, what the headers say, whom we must believe.

Addresses: ``198.51.100.7`` is always the real visitor (what our outermost proxy saw),
``203.0.113.66`` and ``6.6.6.6`` are addresses a client wrote to pass for someone else, and
``10.0.0.x`` are our own proxies. Each case is ``(id, peer, headers, trusted_proxies,
forwarded_header, expected)``; ``expected`` is the address the resolver must pick (``None``:
no address can be believed). ``benchmarks/spoofing_matrix.py`` prints the same matrix for any
checkout, so the choice before and after a change can be compared.
"""

from __future__ import annotations

from typing import Any

REAL = "198.51.100.7"
SPOOF = "203.0.113.66"
PEER = "10.0.0.2"
#: Every address a client wrote somewhere in the matrix.
CLIENT_WRITTEN = frozenset({SPOOF, "6.6.6.6", "192.0.2.10"})

#: ``(id, peer, headers, trusted_proxies, forwarded_header, expected)``.
SPOOFING_CASES: list[tuple[str, str | None, dict[str, str], int, str | None, str | None]] = [
    # -- the client picks the header: only the configured one is read
    (
        "issue-example: client Forwarded, proxy X-Forwarded-For",
        PEER,
        {"X-Forwarded-For": "203.0.113.5", "Forwarded": "for=192.0.2.10"},
        1,
        "x-forwarded-for",
        "203.0.113.5",
    ),
    (
        "client Forwarded beside proxy-appended X-Forwarded-For",
        PEER,
        {"Forwarded": f"for={SPOOF}", "X-Forwarded-For": f"6.6.6.6, {REAL}"},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "client X-Forwarded-For beside proxy-appended Forwarded",
        PEER,
        {"X-Forwarded-For": SPOOF, "Forwarded": f'for="{REAL}";proto=https'},
        1,
        "forwarded",
        REAL,
    ),
    (
        "spoofed X-Real-IP beside X-Forwarded-For",
        PEER,
        {"X-Real-IP": SPOOF, "X-Forwarded-For": REAL},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "spoofed X-Real-IP alone, proxy header missing: the peer",
        PEER,
        {"X-Real-IP": SPOOF},
        1,
        "x-forwarded-for",
        PEER,
    ),
    (
        "configured Forwarded missing, client X-Forwarded-For: the peer",
        PEER,
        {"X-Forwarded-For": SPOOF},
        1,
        "forwarded",
        PEER,
    ),
    (
        "X-Real-IP written by the proxy",
        PEER,
        {"X-Real-IP": REAL, "X-Forwarded-For": SPOOF},
        1,
        "x-real-ip",
        REAL,
    ),
    (
        "two X-Real-IP headers joined: the proxy's is the last",
        PEER,
        {"X-Real-IP": f"{SPOOF}, {REAL}"},
        1,
        "x-real-ip",
        REAL,
    ),
    # -- walking the chain from the right
    (
        "client X-Forwarded-For, one proxy appends",
        PEER,
        {"X-Forwarded-For": f"{SPOOF}, {REAL}"},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "two trusted proxies skip one more hop",
        PEER,
        {"X-Forwarded-For": f"{SPOOF}, {REAL}, 10.0.0.5"},
        2,
        "x-forwarded-for",
        REAL,
    ),
    (
        "instances in different cases are one chain, in order",
        PEER,
        {"X-Forwarded-For": f"{SPOOF}, {REAL}", "x-forwarded-for": "10.0.0.5"},
        2,
        "x-forwarded-for",
        REAL,
    ),
    (
        "client Forwarded, proxy appends Forwarded",
        PEER,
        {"Forwarded": f"for={SPOOF};proto=http, for={REAL};proto=https"},
        1,
        "forwarded",
        REAL,
    ),
    (
        "inner proxy element without for= still counts as a hop",
        PEER,
        {"Forwarded": f"for={SPOOF}, for={REAL}, proto=https;by=10.0.0.5"},
        2,
        "forwarded",
        REAL,
    ),
    (
        "chain shorter than the trusted hops: the peer",
        PEER,
        {"X-Forwarded-For": SPOOF},
        2,
        "x-forwarded-for",
        PEER,
    ),
    (
        "no peer: the proxy's rightmost entry counts",
        None,
        {"X-Forwarded-For": f"{SPOOF}, {REAL}"},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "no peer, chain shorter than the trusted hops: the nearest proxy's entry",
        None,
        {"X-Forwarded-For": REAL},
        2,
        "x-forwarded-for",
        REAL,
    ),
    (
        "no peer and no configured header: no address",
        None,
        {"X-Real-IP": SPOOF, "Forwarded": f"for={SPOOF}"},
        1,
        "x-forwarded-for",
        None,
    ),
    (
        "no trusted proxies: headers are ignored",
        REAL,
        {"X-Forwarded-For": SPOOF, "Forwarded": f"for={SPOOF}", "X-Real-IP": SPOOF},
        0,
        None,
        REAL,
    ),
    # -- garbage
    (
        "garbage entries left of the proxy's",
        PEER,
        {"X-Forwarded-For": f"<script>, ;;, , 999.1.1.1, {REAL}"},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "client's unterminated quote does not swallow the proxy's element",
        PEER,
        {"Forwarded": f'for="{SPOOF}, for={REAL}'},
        1,
        "forwarded",
        REAL,
    ),
    (
        "client's quoted comma does not shift the count",
        PEER,
        {"Forwarded": f'for="6.6.6.6, for={SPOOF}", for={REAL}'},
        1,
        "forwarded",
        REAL,
    ),
    (
        "client's fake for= inside another parameter",
        PEER,
        {"Forwarded": f'by="x;for={SPOOF}", for={REAL}'},
        1,
        "forwarded",
        REAL,
    ),
    (
        "garbage at the trusted position: no address",
        PEER,
        {"X-Forwarded-For": f"{REAL}, not-an-address"},
        1,
        "x-forwarded-for",
        None,
    ),
    (
        "empty entry at the trusted position: no address",
        PEER,
        {"X-Forwarded-For": f"{SPOOF}, , "},
        1,
        "x-forwarded-for",
        None,
    ),
    (
        "two for= in the trusted element: no address",
        PEER,
        {"Forwarded": f"for={REAL};for={SPOOF}"},
        1,
        "forwarded",
        None,
    ),
    # -- address forms
    (
        "X-Forwarded-For IPv4 with port",
        PEER,
        {"X-Forwarded-For": f"{REAL}:51234"},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "X-Forwarded-For bracketed IPv6 with port",
        PEER,
        {"X-Forwarded-For": "[2001:db8::1]:443"},
        1,
        "x-forwarded-for",
        "2001:db8::1",
    ),
    (
        "X-Forwarded-For bare IPv6",
        PEER,
        {"X-Forwarded-For": "2001:db8::1"},
        1,
        "x-forwarded-for",
        "2001:db8::1",
    ),
    (
        "Forwarded quoted IPv6 with port",
        PEER,
        {"Forwarded": 'for="[2001:db8::1]:443"'},
        1,
        "forwarded",
        "2001:db8::1",
    ),
    (
        "Forwarded unquoted IPv6 with port",
        PEER,
        {"Forwarded": "for=[2001:db8::1]:443"},
        1,
        "forwarded",
        "2001:db8::1",
    ),
    (
        "Forwarded names in any case",
        PEER,
        {"forwarded": f"For={REAL};Proto=https;By=10.0.0.2"},
        1,
        "forwarded",
        REAL,
    ),
    ("IPv4-mapped IPv6", PEER, {"X-Forwarded-For": f"::ffff:{REAL}"}, 1, "x-forwarded-for", REAL),
    # -- obfuscated identifiers
    (
        "Forwarded for=_hidden: no address",
        PEER,
        {"Forwarded": f"for={SPOOF}, for=_hidden"},
        1,
        "forwarded",
        None,
    ),
    (
        "Forwarded for=unknown: no address",
        PEER,
        {"Forwarded": f"for={SPOOF}, for=unknown"},
        1,
        "forwarded",
        None,
    ),
    (
        "obfuscated proxy hop still counts",
        PEER,
        {"Forwarded": f"for={REAL}, for=_lb1"},
        2,
        "forwarded",
        REAL,
    ),
    (
        "X-Forwarded-For unknown: no address",
        PEER,
        {"X-Forwarded-For": f"{SPOOF}, unknown"},
        1,
        "x-forwarded-for",
        None,
    ),
    # -- overlong headers
    (
        "50,000 spoofed entries before the proxy's",
        PEER,
        {"X-Forwarded-For": ", ".join([SPOOF] * 50_000 + [REAL])},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "one megabyte entry before the proxy's",
        PEER,
        {"X-Forwarded-For": "1" * 1_000_000 + f", {REAL}"},
        1,
        "x-forwarded-for",
        REAL,
    ),
    (
        "one megabyte Forwarded element before the proxy's",
        PEER,
        {"Forwarded": "for=" + "a;" * 500_000 + f", for={REAL}"},
        1,
        "forwarded",
        REAL,
    ),
]


def case_ids() -> list[str]:
    """The ids of the cases, for ``pytest.mark.parametrize``."""
    return [case[0] for case in SPOOFING_CASES]


def as_params() -> list[tuple[Any, ...]]:
    """The cases without their ids."""
    return [case[1:] for case in SPOOFING_CASES]
