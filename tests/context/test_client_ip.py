"""The client address: one trusted header, trusted hops, the attack matrix, odd formats."""

from __future__ import annotations

import functools
import ipaddress
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spoofing_cases import PEER, REAL, SPOOF, SPOOFING_CASES, as_params, case_ids

from personalize import Personalizer, Request
from personalize.config import load_config
from personalize.context import ContextResolver, demo_geoip_path
from personalize.context._client_ip import (
    _NON_ROUTABLE,
    FORWARDED_HEADERS,
    ForwardedHeader,
    client_ip,
    is_routable,
    parse_ip,
)
from personalize.errors import ConfigError


def _pick(
    peer: str | None,
    headers: dict[str, str],
    trusted: int,
    header: ForwardedHeader | None = "x-forwarded-for",
    notes: list[str] | None = None,
) -> str | None:
    lowered = {name.lower(): value for name, value in headers.items()}
    _, address = client_ip(peer, lowered, trusted, header, notes if notes is not None else [])
    return str(address) if address is not None else None


# -- the attack matrix (tests/context/spoofing_cases.py) --------------------------------


@functools.cache
def _resolver(trusted: int, header: ForwardedHeader | None) -> ContextResolver:
    return ContextResolver(trusted_proxies=trusted, forwarded_header=header)


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "header", "expected"), as_params(), ids=case_ids()
)
def test_spoofing_matrix_picks_only_what_a_trusted_proxy_wrote(
    peer: str | None,
    headers: dict[str, str],
    trusted: int,
    header: ForwardedHeader | None,
    expected: str | None,
) -> None:
    resolver = _resolver(trusted, header)
    start = time.perf_counter()
    context = resolver.resolve(Request(ip=peer, headers=headers))
    assert time.perf_counter() - start < 0.5  # overlong headers are read by their tail
    address = parse_ip(context.client_ip) if context.client_ip is not None else None
    assert (str(address) if address is not None else None) == expected


def test_the_matrix_covers_every_header_and_both_fallbacks() -> None:
    assert {case[4] for case in SPOOFING_CASES} == {None, *FORWARDED_HEADERS}
    assert {case[5] for case in SPOOFING_CASES} >= {REAL, PEER, None}


_CLIENT_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ['for="', '"', ";for=6.6.6.6", "for=6.6.6.6,", ",,,", "[", "for=_x", f"for={SPOOF}"]
)
_PROXY_ENTRIES = {
    "x-forwarded-for": [REAL, "10.0.0.5", "10.0.0.6"],
    "forwarded": [f"for={REAL};proto=https", 'for="[2001:db8::5]:80"', "for=_lb;by=_me"],
}


@given(
    st.sampled_from(["x-forwarded-for", "forwarded"]),
    st.integers(min_value=1, max_value=3),
    _CLIENT_TEXT,
    st.booleans(),
)
def test_nothing_a_client_writes_before_the_proxies_moves_the_choice(
    header: ForwardedHeader, hops: int, client_text: str, with_peer: bool
) -> None:
    proxies = ", ".join(_PROXY_ENTRIES[header][:hops])
    peer = PEER if with_peer else None
    honest = _pick(peer, {header: proxies}, hops, header)
    assert _pick(peer, {header: f"{client_text}, {proxies}"}, hops, header) == honest
    assert honest in {REAL, "2001:db8::5", None}


@given(
    st.sampled_from(FORWARDED_HEADERS),
    st.dictionaries(
        st.sampled_from([*FORWARDED_HEADERS, "cf-connecting-ip", "true-client-ip"]),
        _CLIENT_TEXT,
        max_size=4,
    ),
)
def test_headers_other_than_the_configured_one_are_never_read(
    header: ForwardedHeader, others: dict[str, str]
) -> None:
    others.pop(header, None)
    written = f"for={REAL}" if header == "forwarded" else REAL
    assert _pick(PEER, {**others, header: written}, 1, header) == REAL
    assert _pick(PEER, others, 1, header) == PEER  # missing: the peer, never another header


# -- notes and fallbacks ------------------------------------------------------------------


def test_a_short_chain_uses_the_peer_and_says_so() -> None:
    notes: list[str] = []
    assert _pick(PEER, {"x-forwarded-for": SPOOF}, 3, notes=notes) == PEER
    assert notes == [
        "ip: x-forwarded-for has 1 entries, fewer than 3 trusted; using the peer address"
    ]


def test_a_missing_header_uses_the_peer_and_says_so() -> None:
    notes: list[str] = []
    assert _pick(PEER, {"x-real-ip": SPOOF}, 1, "forwarded", notes) == PEER
    assert notes == ["ip: no forwarded header; using the peer address"]


def test_without_peer_or_header_there_is_no_address() -> None:
    notes: list[str] = []
    assert _pick(None, {}, 1, notes=notes) is None
    assert notes == ["ip: no x-forwarded-for header and no peer address"]


def test_an_obfuscated_address_is_no_address_and_is_noted() -> None:
    notes: list[str] = []
    assert _pick(PEER, {"forwarded": "for=_hidden"}, 1, "forwarded", notes) is None
    assert notes == ["ip: the proxy hid the client address ('_hidden')"]


def test_a_private_peer_beside_ignored_headers_hints_at_the_settings() -> None:
    notes: list[str] = []
    assert _pick(PEER, {"x-forwarded-for": REAL}, 0, None, notes) == PEER
    assert notes == [
        "ip: x-forwarded-for ignored; if a proxy of yours wrote it, set trusted_proxies "
        "and forwarded_header"
    ]
    public: list[str] = []
    assert _pick(REAL, {"x-forwarded-for": SPOOF}, 0, None, public) == REAL
    assert public == []  # a public peer sending headers is a client, not our proxy


def test_huge_forwarding_headers_are_bounded() -> None:
    headers = {"x-forwarded-for": ", ".join(["192.0.2.1"] * 50_000)}
    assert _pick("10.0.0.1", headers, 1) == "192.0.2.1"


# -- configuration: explicit, validated, overridable ---------------------------------------


def test_trusting_proxies_without_naming_their_header_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        ContextResolver(trusted_proxies=1)
    assert info.value.path == "forwarded_header"
    assert "x-forwarded-for" in str(info.value)


def test_header_names_are_case_insensitive_and_checked() -> None:
    resolver = ContextResolver(trusted_proxies=1, forwarded_header="X-Forwarded-For")  # type: ignore[arg-type]
    assert resolver.resolve(Request(ip=PEER, headers={"x-forwarded-for": REAL})).client_ip == REAL
    with pytest.raises(ConfigError) as info:
        ContextResolver(trusted_proxies=1, forwarded_header="x-forwarded-fro")  # type: ignore[arg-type]
    assert info.value.problems[0].suggestion == "x-forwarded-for"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"trusted_proxies": 1}, "trusted_proxies needs forwarded_header"),
        ({"forwarded_header": "forwarded"}, "forwarded_header needs trusted_proxies"),
        ({"forwarded_header": "via", "trusted_proxies": 1}, "settings.forwarded_header"),
        ({"trusted_proxies": -1, "forwarded_header": "forwarded"}, "settings.trusted_proxies"),
    ],
)
def test_settings_must_name_header_and_hops_together(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({"settings": settings})


def test_settings_choose_the_header_and_constructor_options_override_them() -> None:
    settings = {"trusted_proxies": 1, "forwarded_header": "Forwarded"}
    request = Request(
        ip=PEER, headers={"Forwarded": f"for={REAL}", "X-Forwarded-For": f"{REAL}, {SPOOF}"}
    )
    from_settings = Personalizer({"settings": settings}, autoload_plugins=False)
    assert from_settings.personalize(request).context.client_ip == REAL
    overridden = Personalizer(
        {"settings": settings},
        autoload_plugins=False,
        trusted_proxies=2,
        forwarded_header="x-forwarded-for",
    )
    assert overridden.personalize(request).context.client_ip == REAL
    untrusting = Personalizer({"settings": settings}, autoload_plugins=False, trusted_proxies=0)
    assert untrusting.personalize(request).context.client_ip == PEER


def test_an_old_style_personalizer_with_only_trusted_proxies_fails_loudly() -> None:
    with pytest.raises(ConfigError) as info:
        Personalizer({}, autoload_plugins=False, trusted_proxies=1)
    assert info.value.path == "forwarded_header"


def test_spoofed_header_does_not_move_the_visitor() -> None:
    resolver = ContextResolver(
        geoip=demo_geoip_path(), trusted_proxies=1, forwarded_header="x-forwarded-for"
    )
    request = Request(
        ip="10.0.0.2",
        headers={"X-Forwarded-For": "203.0.113.70, 192.0.2.130", "Forwarded": "for=203.0.113.70"},
    )
    context = resolver.resolve(request)
    assert context.client_ip == "192.0.2.130"
    assert context.geo.city == "London"
    untrusting = ContextResolver(geoip=demo_geoip_path())
    context = untrusting.resolve(Request(ip="192.0.2.10", headers=request.headers))
    assert context.geo.city == "Toronto"


# -- address forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1:8080", "192.0.2.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ('"[2001:db8::1]:443"', "2001:db8::1"),
        ('"192.0.2.1"', "192.0.2.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("999.1.1.1", None),
        ("unknown", None),
        ("_hidden", None),
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


EDGES = [
    ipaddress.ip_address(number) if net.version == 4 else ipaddress.IPv6Address(number)
    for net in _NON_ROUTABLE
    for edge in (int(net.network_address), int(net.broadcast_address))
    for number in (edge - 1, edge, edge + 1)
    if 0 <= number < 2 ** (32 if net.version == 4 else 128)
]


@given(st.one_of(st.ip_addresses(), st.sampled_from(EDGES)))
def test_routable_means_in_none_of_the_non_routable_networks(address: Any) -> None:
    outside = not any(address.version == n.version and address in n for n in _NON_ROUTABLE)
    assert is_routable(address) is outside
