"""The client address: trusted proxy hops, spoofed forwarding headers, odd formats."""

from __future__ import annotations

import ipaddress

import pytest

from personalize import Request
from personalize.context import ContextResolver, demo_geoip_path
from personalize.context._client_ip import client_ip, is_routable, parse_ip


def _pick(peer: str | None, headers: dict[str, str], trusted: int) -> str | None:
    notes: list[str] = []
    _, address = client_ip(peer, headers, trusted, notes)
    return str(address) if address is not None else None


def test_forwarding_headers_are_ignored_without_trusted_proxies() -> None:
    assert _pick("203.0.113.9", {"x-forwarded-for": "192.0.2.1"}, 0) == "203.0.113.9"


def test_one_trusted_proxy_reads_the_address_it_appended() -> None:
    headers = {"x-forwarded-for": "198.51.100.66, 192.0.2.1"}  # first entry is spoofed
    assert _pick("10.0.0.2", headers, 1) == "192.0.2.1"


def test_two_trusted_proxies_skip_one_more_hop() -> None:
    headers = {"x-forwarded-for": "198.51.100.66, 192.0.2.1, 10.0.0.5"}
    assert _pick("10.0.0.2", headers, 2) == "192.0.2.1"


def test_a_short_chain_takes_the_leftmost_address_and_says_so() -> None:
    notes: list[str] = []
    _, address = client_ip("10.0.0.2", {"x-forwarded-for": "192.0.2.1"}, 3, notes)
    assert str(address) == "192.0.2.1"
    assert any("fewer than trusted" in note for note in notes)


def test_forwarded_header_wins_over_x_forwarded_for() -> None:
    headers = {
        "forwarded": 'for=198.51.100.66;proto=https, for="[2001:db8:2::7]:4711"',
        "x-forwarded-for": "203.0.113.1",
    }
    assert _pick("10.0.0.2", headers, 1) == "2001:db8:2::7"


def test_x_real_ip_is_used_when_nothing_else_is_there() -> None:
    assert _pick("10.0.0.2", {"x-real-ip": "192.0.2.44"}, 1) == "192.0.2.44"


def test_without_a_peer_address_the_rightmost_entry_is_the_proxys_view() -> None:
    assert _pick(None, {"x-forwarded-for": "1.2.3.4, 192.0.2.1"}, 1) == "192.0.2.1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1:8080", "192.0.2.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ('"192.0.2.1"', "192.0.2.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("999.1.1.1", None),
        ("unknown", None),
        ("", None),
    ],
)
def test_addresses_are_parsed_as_headers_write_them(text: str, expected: str | None) -> None:
    address = parse_ip(text)
    assert (str(address) if address is not None else None) == expected


def test_documentation_ranges_are_routable_but_private_ranges_are_not() -> None:
    assert is_routable(ipaddress.ip_address("192.0.2.1"))
    assert is_routable(ipaddress.ip_address("2001:db8::1"))
    assert not is_routable(ipaddress.ip_address("172.16.0.1"))
    assert not is_routable(ipaddress.ip_address("100.64.0.1"))
    assert not is_routable(ipaddress.ip_address("fd00::1"))


def test_spoofed_header_does_not_move_the_visitor() -> None:
    resolver = ContextResolver(geoip=demo_geoip_path(), trusted_proxies=1)
    request = Request(
        ip="10.0.0.2",
        headers={"X-Forwarded-For": "203.0.113.70, 192.0.2.130"},  # spoof: Singapore
    )
    context = resolver.resolve(request)
    assert context.client_ip == "192.0.2.130"
    assert context.geo.city == "London"
    untrusting = ContextResolver(geoip=demo_geoip_path())
    context = untrusting.resolve(Request(ip="192.0.2.10", headers=request.headers))
    assert context.geo.city == "Toronto"


def test_huge_forwarding_headers_are_bounded() -> None:
    headers = {"x-forwarded-for": ", ".join(["192.0.2.1"] * 50_000)}
    assert _pick("10.0.0.1", headers, 1) == "192.0.2.1"
