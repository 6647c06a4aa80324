"""The client's IP address, read through a known number of trusted proxies.

Forwarding headers are written by whoever sent the request, so a client can put any address
in ``X-Forwarded-For``. Only the entries appended by our own proxies can be believed: with
``trusted_proxies=N`` the client is the N-th address counted from the right of the chain
``<forwarded addresses..., peer address>``, i.e. the address that our outermost proxy saw.
With ``trusted_proxies=0`` (the default) the headers are ignored and the peer address is the
client.

The chain is read from ``Forwarded`` (RFC 7239 ``for=``), else ``X-Forwarded-For``, else
``X-Real-IP``. When ``Request.ip`` is missing, the rightmost forwarded entry stands for the
address our nearest proxy saw.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

__all__ = ["IPAddress", "client_ip", "is_routable", "parse_ip"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longest tail of a forwarding header read (the right end: the entries our proxies wrote).
MAX_CHAIN_CHARS = 8192

_FOR_PARAM = re.compile(r"(?i)(?:^|[;,\s])for=(\"[^\"]{0,100}\"|[^;,\s]{0,100})")
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


def is_routable(address: IPAddress) -> bool:
    """Whether ``address`` can belong to a visitor on the public internet."""
    return not any(address.version == net.version and address in net for net in _NON_ROUTABLE)


def _forwarded_chain(headers: Mapping[str, str]) -> list[str]:
    forwarded = headers.get("forwarded")
    if forwarded:
        found = _FOR_PARAM.findall(forwarded[-MAX_CHAIN_CHARS:])
        if found:
            return list(found)
    xff = headers.get("x-forwarded-for")
    if xff:
        return [part for part in xff[-MAX_CHAIN_CHARS:].split(",") if part.strip()]
    real = headers.get("x-real-ip")
    return [real[:200]] if real else []


def client_ip(
    peer: str | None, headers: Mapping[str, str], trusted_proxies: int, notes: list[str]
) -> tuple[str | None, IPAddress | None]:
    """Pick the client's address.

    Args:
        peer: The address of the connection (``Request.ip``).
        headers: Request headers with lower-cased names.
        trusted_proxies: How many proxies of ours stand in front of the app.
        notes: Where to record what degraded.

    Returns:
        The address as written, and parsed (``None`` when missing or malformed).
    """
    chain: list[str] = []
    if trusted_proxies > 0:
        chain = _forwarded_chain(headers)
    if peer is not None:
        chain.append(peer)
        hops = trusted_proxies + 1
    else:
        hops = trusted_proxies
    if not chain or hops == 0:
        notes.append("ip: no client address")
        return None, None
    if len(chain) < hops:
        notes.append(f"ip: forwarding chain has {len(chain)} hops, fewer than trusted")
        hops = len(chain)
    text = chain[-hops].strip()[:200]
    address = parse_ip(text)
    if address is None:
        notes.append(f"ip: malformed address {text!r}")
    return text, address
