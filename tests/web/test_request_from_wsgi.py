"""request_from_wsgi: direct environs, garbage environs, and environs from wsgiref."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from web_servers import wsgi_server

from personalize import Request
from personalize.web import request_from_wsgi


def _environ(**overrides: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "wsgi.url_scheme": "https",
        "SERVER_NAME": "shop.example",
        "SERVER_PORT": "443",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/c/outerwear",
        "QUERY_STRING": "utm_source=newsletter",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_HOST": "shop.example",
        "HTTP_USER_AGENT": "curl/8.5",
        "HTTP_REFERER": "https://mail.example/",
        "HTTP_X_GEO_COUNTRY": "CA",
        "CONTENT_TYPE": "text/plain",
    }
    environ.update(overrides)
    return environ


def test_reads_url_headers_referrer_and_peer() -> None:
    req = request_from_wsgi(_environ())
    assert req.url == "https://shop.example/c/outerwear?utm_source=newsletter"
    assert req.user_agent == "curl/8.5"
    assert req.referrer == "https://mail.example/"
    assert req.ip == "203.0.113.7"
    assert req.headers["x-geo-country"] == "CA"
    assert req.headers["content-type"] == "text/plain"
    assert "remote-addr" not in req.headers


def test_without_host_header_the_server_name_and_port_make_the_host() -> None:
    environ = _environ(HTTP_HOST=None, SERVER_PORT="8443", SCRIPT_NAME="/shop")
    del environ["HTTP_HOST"]
    assert request_from_wsgi(environ).url == (
        "https://shop.example:8443/shop/c/outerwear?utm_source=newsletter"
    )


def test_latin1_path_bytes_are_percent_encoded_back() -> None:
    # PEP 3333: PATH_INFO carries the raw bytes decoded as latin-1.
    path = "/c/vêtements".encode().decode("latin-1")
    req = request_from_wsgi(_environ(PATH_INFO=path, QUERY_STRING=""))
    assert req.url == "https://shop.example/c/v%C3%AAtements"


def test_non_latin1_text_in_the_environ_does_not_raise() -> None:
    req = request_from_wsgi(_environ(PATH_INFO="/Ω", HTTP_USER_AGENT="Ω"))
    assert req.user_agent == "Ω"
    assert req.url is not None


def test_missing_keys_give_an_empty_request() -> None:
    assert request_from_wsgi({}) == Request()


@given(
    environ=st.one_of(
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    ["wsgi.url_scheme", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
                     "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "HTTP_HOST",
                     "HTTP_USER_AGENT", "HTTP_COOKIE", "CONTENT_TYPE"]
                ),
                st.text(max_size=10),
                st.integers(),
            ),
            st.one_of(st.none(), st.integers(), st.text(max_size=30), st.binary(max_size=10)),
        ),
        st.none(),
        st.text(max_size=5),
    )
)  # fmt: skip
def test_garbage_environs_never_raise(environ: Any) -> None:
    assert isinstance(request_from_wsgi(environ), Request)


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [request_from_wsgi(environ).model_dump_json().encode()]


def test_a_real_wsgiref_environ_becomes_a_request() -> None:
    with wsgi_server(_echo) as base:
        response = httpx.get(
            f"{base}/p/coat-parka?gclid=abc",
            headers={"User-Agent": "curl/8.5", "X-Forwarded-For": "198.51.100.9"},
        )
    req = Request.model_validate(json.loads(response.text))
    assert req.url == f"{base}/p/coat-parka?gclid=abc"
    assert req.ip == "127.0.0.1"
    assert req.user_agent == "curl/8.5"
    assert req.headers["x-forwarded-for"] == "198.51.100.9"
