"""The client's IP address, read from the one forwarding header your proxies write.

Forwarding headers are written by whoever sent the request, so a client can put any address
in any of them. Only the entries appended by our own proxies can be believed, so two settings
say where those are: ``forwarded_header`` names the header the proxies write (``forwarded``,
``x-forwarded-for`` or ``x-real-ip``), and ``trusted_proxies`` how many of them stand in
front of the app. No other header is ever read.

The chain is ``<header entries..., peer address>``; each trusted proxy appends the address it
saw, so with ``trusted_proxies=N`` the client is the N-th header entry counted from the right,
the address our outermost proxy saw. Several instances of the header joined with commas are
one chain. ``Forwarded`` elements are counted whether or not they hold a ``for=``, and a
proxy that hides an address (``for=_hidden``, ``unknown``) still counts as its hop.
``X-Real-IP`` holds one address set by the proxy in front of the app, not a chain: its
rightmost value is the client whatever the number of proxies.

When nothing trustworthy is there, the resolver degrades rather than guesses (each case adds
a note):

* the header is missing, or has fewer entries than trusted proxies: any entry in it may have
  been written by a client that bypassed a proxy, so the peer address is used;
* without a peer address (``Request.ip``), the rightmost entry, which our nearest proxy
  wrote, stands for the peer;
* the entry at the trusted position is not an address (garbage, ``unknown``, an obfuscated
  ``_name``): the client has no address -- no other entry is tried.

With ``trusted_proxies=0`` (the default) headers are ignored and the peer is the client.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from collections.abc import Mapping
from functools import lru_cache

from personalize._types import FORWARDED_HEADERS, ForwardedHeader

__all__ = [
    "FORWARDED_HEADERS",
    "ForwardedHeader",
    "IPAddress",
    "client_ip",
    "is_routable",
    "parse_ip",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longest tail of a forwarding header read (the right end: the entries our proxies wrote).
MAX_CHAIN_CHARS = 8192
#: Longest entry read as an address (``[v6%zone]:port`` with quotes fits easily).
_MAX_ENTRY_CHARS = 200

_IPV4_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$")

#: Networks that never reach a geo database: private, loopback, link-local, CGNAT,
#: multicast, reserved, unspecified. Documentation ranges (192.0.2.0/24 ...) are NOT here,
#: so that the bundled demo database can map them.
_NON_ROUTABLE = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)


def parse_ip(text: str) -> IPAddress | None:
    """Parse one address as headers write it (``[v6]:port``, ``v4:port``, quoted, zoned).

    IPv4-mapped IPv6 addresses come back as IPv4. Returns ``None`` when it is no address.
    """
    value = text.strip().strip('"').strip()
    if value.startswith("["):
        end = value.find("]")
        value = value[1:end] if end > 0 else value[1:]
    elif (match := _IPV4_PORT.match(value)) is not None:
        value = match.group(1)
    value = value.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _ranges(version: int) -> tuple[list[int], list[int]]:
    """The non-routable networks of one IP version as sorted, disjoint integer ranges:
    their first addresses, and their last."""
    spans = sorted(
        (int(net.network_address), int(net.broadcast_address))
        for net in _NON_ROUTABLE
        if net.version == version
    )
    firsts: list[int] = []
    lasts: list[int] = []
    for first, last in spans:
        if lasts and first <= lasts[-1] + 1:
            lasts[-1] = max(lasts[-1], last)
        else:
            firsts.append(first)
            lasts.append(last)
    return firsts, lasts


_RANGES = {4: _ranges(4), 6: _ranges(6)}


def is_routable(address: IPAddress) -> bool:
    """Whether ``address`` can belong to a visitor on the public internet."""
    firsts, lasts = _RANGES[address.version]
    number = int(address)
    at = bisect_right(firsts, number) - 1
    return at < 0 or number > lasts[at]


def _for_value(element: str) -> str | None:
    """The ``for=`` value of one ``Forwarded`` element, or ``None`` if it has none (or two)."""
    found = [
        value.strip()
        for name, sep, value in (pair.partition("=") for pair in element.split(";"))
        if sep and name.strip().lower() == "for"
    ]
    return found[0] if len(found) == 1 else None


def _trusted_entry(header: ForwardedHeader, value: str, hops: int) -> tuple[str, int]:
    """The entry ``hops`` from the right of the chain in ``value``, and ``0``; when the chain
    is shorter, its rightmost entry and how many entries it has."""
    if header == "x-real-ip":
        hops = 1  # one address, set by the proxy in front of the app
    parts = value[-MAX_CHAIN_CHARS:].rsplit(",", hops)
    if len(parts) < hops:
        return parts[-1], len(parts)
    return parts[-hops], 0


def client_ip(
    peer: str | None,
    headers: Mapping[str, str],
    trusted_proxies: int,
    forwarded_header: ForwardedHeader | None,
    notes: list[str],
) -> tuple[str | None, IPAddress | None]:
    """Pick the client's address.

    Args:
        peer: The address of the connection (``Request.ip``).
        headers: Request headers with lower-cased names.
        trusted_proxies: How many proxies of ours stand in front of the app.
        forwarded_header: The header they write; no other is read.
        notes: Where to record what degraded.

    Returns:
        The address as written, and parsed (``None`` when missing or malformed).
    """
    if trusted_proxies <= 0 or forwarded_header is None:
        if peer is None:
            notes.append("ip: no client address")
            return None, None
        text, address = _parsed(peer, notes)
        if address is not None and not is_routable(address):
            sent = [name for name in FORWARDED_HEADERS if name in headers]
            if sent:
                notes.append(
                    f"ip: {', '.join(sent)} ignored; if a proxy of yours wrote it, set "
                    "trusted_proxies and forwarded_header"
                )
        return text, address
    value = headers.get(forwarded_header, "")
    if not value.strip():
        reason = f"no {forwarded_header} header"
        rightmost = None
    else:
        entry, count = _trusted_entry(forwarded_header, value, trusted_proxies)
        if not count:
            return _entry(entry, forwarded_header, notes)
        reason = f"{forwarded_header} has {count} entries, fewer than {trusted_proxies} trusted"
        rightmost = entry
    if peer is not None:
        notes.append(f"ip: {reason}; using the peer address")
        return _parsed(peer, notes)
    if rightmost is not None:
        notes.append(f"ip: {reason}; using the nearest proxy's entry")
        return _entry(rightmost, forwarded_header, notes)
    notes.append(f"ip: {reason} and no peer address")
    return None, None


def _entry(
    entry: str, header: ForwardedHeader, notes: list[str]
) -> tuple[str | None, IPAddress | None]:
    """Parse the entry a trusted proxy wrote; never look at another."""
    text = entry.strip()[:_MAX_ENTRY_CHARS]
    if header == "forwarded":
        value = _for_value(text)
        if value is None:
            notes.append("ip: the trusted Forwarded element has no single for=")
            return None, None
        text = value
    bare = text.strip('"')
    if bare.lower() == "unknown" or bare.startswith("_"):
        notes.append(f"ip: the proxy hid the client address ({bare[:40]!r})")
        return bare, None
    return _parsed(text, notes)


#: Parses of the addresses seen lately (an address is immutable; repeat visitors are common).
_parse_seen = lru_cache(maxsize=4096)(parse_ip)


def _parsed(text: str, notes: list[str]) -> tuple[str | None, IPAddress | None]:
    text = text.strip()[:_MAX_ENTRY_CHARS]
    address = _parse_seen(text)
    if address is None:
        notes.append(f"ip: malformed address {text[:60]!r}")
    return text, address
