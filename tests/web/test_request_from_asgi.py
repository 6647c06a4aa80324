"""request_from_asgi: direct scopes, garbage scopes, and scopes from a real uvicorn."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from web_servers import asgi_server

from personalize import Request
from personalize.web import request_from_asgi

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


def _scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "https",
        "server": ("shop.example", 443),
        "client": ("203.0.113.7", 51234),
        "root_path": "",
        "path": "/c/outerwear",
        "raw_path": b"/c/outerwear",
        "query_string": b"utm_source=google&utm_medium=cpc",
        "headers": [
            (b"host", b"shop.example"),
            (b"user-agent", UA.encode()),
            (b"referer", b"https://www.google.com/"),
        ],
    }
    scope.update(overrides)
    return scope


def test_reads_url_user_agent_referrer_and_peer() -> None:
    req = request_from_asgi(_scope())
    assert req.url == "https://shop.example/c/outerwear?utm_source=google&utm_medium=cpc"
    assert req.user_agent == UA
    assert req.referrer == "https://www.google.com/"
    assert req.ip == "203.0.113.7"


def test_header_names_are_lower_cased() -> None:
    req = request_from_asgi(_scope(headers=[(b"X-Geo-Country", b"CA"), (b"Host", b"a.example")]))
    assert req.headers == {"x-geo-country": "CA", "host": "a.example"}


def test_repeated_headers_are_joined_with_commas_and_cookies_with_semicolons() -> None:
    headers = [
        (b"accept-language", b"fr-CA"),
        (b"Accept-Language", b"en;q=0.5"),
        (b"cookie", b"a=1"),
        (b"cookie", b"b=2"),
    ]
    req = request_from_asgi(_scope(headers=headers))
    assert req.headers["accept-language"] == "fr-CA, en;q=0.5"
    assert req.headers["cookie"] == "a=1; b=2"


def test_forwarding_headers_pass_through_and_ip_stays_the_peer() -> None:
    headers = [(b"x-forwarded-for", b"198.51.100.1, 10.0.0.2"), (b"forwarded", b"for=1.2.3.4")]
    req = request_from_asgi(_scope(headers=headers, client=("10.0.0.3", 80)))
    assert req.ip == "10.0.0.3"
    assert req.headers["x-forwarded-for"] == "198.51.100.1, 10.0.0.2"
    assert req.headers["forwarded"] == "for=1.2.3.4"


def test_host_falls_back_to_the_server_and_keeps_a_non_default_port() -> None:
    req = request_from_asgi(_scope(headers=[], scheme="http", server=("127.0.0.1", 8000)))
    assert req.url == "http://127.0.0.1:8000/c/outerwear?utm_source=google&utm_medium=cpc"
    v6 = request_from_asgi(_scope(headers=[], server=("::1", 443), query_string=b""))
    assert v6.url == "https://[::1]/c/outerwear"


def test_root_path_is_part_of_the_url() -> None:
    req = request_from_asgi(_scope(root_path="/shop", raw_path=None, path="/cart"))
    assert req.url is not None
    assert req.url.startswith("https://shop.example/shop/cart?")


def test_non_ascii_path_is_percent_encoded() -> None:
    req = request_from_asgi(_scope(raw_path=None, path="/c/vêtements", query_string=b""))
    assert req.url == "https://shop.example/c/v%C3%AAtements"


def test_non_latin1_header_bytes_are_read_byte_for_byte() -> None:
    req = request_from_asgi(_scope(headers=[(b"user-agent", "Ωmega".encode())]))
    assert req.user_agent == "Ωmega".encode().decode("latin-1")


def test_missing_everything_gives_an_empty_request() -> None:
    assert request_from_asgi({}) == Request()
    assert request_from_asgi({"type": "http", "headers": None, "client": None}) == Request()


_junk = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.lists(st.binary(max_size=5), max_size=3),
    st.tuples(st.text(max_size=5), st.integers()),
)
_header = st.one_of(
    st.tuples(st.binary(max_size=20), st.binary(max_size=40)),
    st.lists(st.one_of(st.binary(max_size=10), st.text(max_size=10)), max_size=3),
    _junk,
)


@given(
    scope=st.one_of(
        st.dictionaries(
            st.sampled_from(
                ["type", "scheme", "server", "client", "root_path", "path", "raw_path",
                 "query_string", "headers"]
            ),
            st.one_of(_junk, st.lists(_header, max_size=6)),
        ),
        _junk,
    )
)  # fmt: skip
def test_garbage_scopes_never_raise(scope: Any) -> None:
    assert isinstance(request_from_asgi(scope), Request)


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app answering with the Request it read from its scope."""
    body = request_from_asgi(scope).model_dump_json().encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_a_real_uvicorn_scope_becomes_a_request() -> None:
    with asgi_server(_echo) as base:
        response = httpx.get(
            f"{base}/p/coat-parka?utm_campaign=winter",
            headers=[
                ("User-Agent", UA),
                ("Referer", "https://news.example/"),
                ("X-Forwarded-For", "198.51.100.9"),
                ("Accept-Language", "fr"),
                ("Accept-Language", "en"),
            ],
        )
    req = Request.model_validate(json.loads(response.text))
    port = base.rsplit(":", 1)[1]
    assert req.url == f"http://127.0.0.1:{port}/p/coat-parka?utm_campaign=winter"
    assert req.user_agent == UA
    assert req.referrer == "https://news.example/"
    assert req.ip == "127.0.0.1"
    assert req.headers["x-forwarded-for"] == "198.51.100.9"
    assert req.headers["accept-language"] == "fr, en"


def test_uvicorn_proxy_headers_put_the_forwarded_address_in_the_peer() -> None:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default (--proxy-headers): the scope's
    # client is then already the forwarded address, and Request.ip says so.
    with asgi_server(_echo, proxy_headers=True) as base:
        response = httpx.get(base, headers={"X-Forwarded-For": "198.51.100.9"})
    assert Request.model_validate(json.loads(response.text)).ip == "198.51.100.9"
