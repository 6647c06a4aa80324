"""The adapters keep what our proxies wrote: a client cannot push it out of the Request.

A proxy appends the address it saw at the right end of the forwarding chain, either in the
client's own header (nginx, Envoy) or as a header field of its own after the client's
(HAProxy's ``option forwardfor``). Whatever the client sends before it -- a 16 KB chain,
hundreds of header fields -- the entry at the trusted position must stay the proxy's.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from web_servers import asgi_server

from personalize import Request
from personalize.context import ContextResolver
from personalize.web import request_from_asgi, request_from_wsgi
from personalize.web._request import MAX_HEADER_CHARS, MAX_HEADERS

SPOOFED = "6.6.6.6"
REAL = "203.0.113.9"  # what our one proxy saw
PROXY = "10.0.0.1"
ONE_PROXY = ContextResolver(trusted_proxies=1, forwarded_header="x-forwarded-for")


def _chain_ending_with(address: str, length: int) -> str:
    """A client-written chain of ``length`` characters whose last entry is ``address``."""
    tail = f", {address}"
    return ("198.51.100.1, " * (length // 14 + 1))[: length - len(tail)] + tail


def _asgi(headers: list[tuple[bytes, bytes]]) -> Request:
    return request_from_asgi(
        {"type": "http", "headers": headers, "client": (PROXY, 4711), "path": "/"}
    )


def test_a_long_client_chain_does_not_cut_off_the_proxy_entry_wsgi() -> None:
    # nginx: X-Forwarded-For is the client's value, then ", <the address it saw>".
    client = _chain_ending_with(SPOOFED, MAX_HEADER_CHARS)
    environ = {"HTTP_X_FORWARDED_FOR": f"{client}, {REAL}", "REMOTE_ADDR": PROXY}
    request = request_from_wsgi(environ)
    assert request.headers["x-forwarded-for"].endswith(REAL)
    assert ONE_PROXY.resolve(request).client_ip == REAL


def test_a_long_client_field_does_not_cut_off_the_proxy_field_asgi() -> None:
    # HAProxy: the proxy's X-Forwarded-For is a field of its own, after the client's.
    client = _chain_ending_with(SPOOFED, MAX_HEADER_CHARS).encode()
    request = _asgi([(b"x-forwarded-for", client), (b"x-forwarded-for", REAL.encode())])
    assert ONE_PROXY.resolve(request).client_ip == REAL


def test_the_proxy_field_is_read_after_hundreds_of_client_fields_asgi() -> None:
    padding = [(f"x-pad-{i}".encode(), b"1") for i in range(MAX_HEADERS + 50)]
    headers = [
        (b"x-forwarded-for", SPOOFED.encode()),
        *padding,
        (b"x-forwarded-for", REAL.encode()),
    ]
    request = _asgi(headers)
    assert request.headers["x-forwarded-for"] == f"{SPOOFED}, {REAL}"
    assert ONE_PROXY.resolve(request).client_ip == REAL
    # Other fields past the limit are still not read.
    assert len(request.headers) == MAX_HEADERS + 1


def test_the_forwarding_header_is_read_past_the_limit_wsgi() -> None:
    environ: dict[str, Any] = {f"HTTP_X_PAD_{i}": "1" for i in range(MAX_HEADERS + 50)}
    environ |= {"HTTP_X_FORWARDED_FOR": REAL, "REMOTE_ADDR": PROXY}
    assert ONE_PROXY.resolve(request_from_wsgi(environ)).client_ip == REAL


def test_other_long_headers_keep_their_start() -> None:
    agent = "Mozilla/5.0 " + "x" * MAX_HEADER_CHARS
    request = _asgi([(b"user-agent", agent.encode())])
    assert request.user_agent == agent[:MAX_HEADER_CHARS]


def test_the_resolver_reads_the_proxies_header_past_its_header_limit() -> None:
    # A caller's own header mapping, with the client's instance early and the proxy's late.
    headers = {"x-forwarded-for": SPOOFED}
    headers |= {f"x-pad-{i}": "1" for i in range(300)}
    headers["X-Forwarded-For"] = REAL
    context = ONE_PROXY.resolve(Request(ip=PROXY, headers=headers))
    assert context.client_ip == REAL


@given(
    client=st.lists(
        st.sampled_from([SPOOFED, "unknown", "_hidden", "[::1]:80", "x" * 500, ""]), max_size=40
    ),
    padding=st.integers(0, MAX_HEADERS + 20),
    separate=st.booleans(),
)
def test_the_trusted_entry_is_always_the_proxys(
    client: list[str], padding: int, separate: bool
) -> None:
    client_value = ", ".join(client)
    pad = [(f"x-pad-{i}".encode(), b"1") for i in range(padding)]
    if separate:
        headers = [(b"x-forwarded-for", client_value.encode()), *pad]
        headers.append((b"x-forwarded-for", REAL.encode()))
    else:
        headers = [*pad, (b"x-forwarded-for", f"{client_value}, {REAL}".encode())]
    assert ONE_PROXY.resolve(_asgi(headers)).client_ip == REAL


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = request_from_asgi(scope).model_dump_json().encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_through_a_real_uvicorn_the_last_field_is_still_read() -> None:
    padding = [(f"X-Pad-{i}", "1") for i in range(MAX_HEADERS + 10)]
    headers = [("X-Forwarded-For", SPOOFED), *padding, ("X-Forwarded-For", REAL)]
    with asgi_server(_echo) as base:
        response = httpx.get(base, headers=headers)
    request = Request.model_validate(json.loads(response.text))
    assert (
        ContextResolver(trusted_proxies=1, forwarded_header="x-forwarded-for")
        .resolve(request)
        .client_ip
        == REAL
    )
