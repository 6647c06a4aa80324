"""A client's ``Host`` header that is no host must not fail the response.

The adapters build ``Request.url`` from the ``Host`` header, which the client writes;
``Host: [::1`` makes a URL that ``urlsplit`` rejects ("Invalid IPv6 URL"). Recording the
page view must neither raise (a 500 in Flask and Django, an error after the response in
ASGI) nor store a URL that no later read can parse.
"""

from __future__ import annotations

import asyncio
from typing import Any

import flask
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from personalize import Catalog, Personalizer
from personalize.cli import example_store
from personalize.web import IdentitySettings, Personalization, read_identity, request_from_wsgi
from personalize.web._identity import new_identity
from personalize.web.fastapi import PersonalizeMiddleware
from personalize.web.flask import Personalize

SETTINGS = IdentitySettings(secret="hostile-host-secret-0123", secure=False)
BAD_HOSTS = ["[::1", "a]b", "[not-v6]", "[v1.x"]


def _personalizer() -> Personalizer:
    store = example_store()
    return Personalizer.from_file(
        store / "personalization.yaml",
        catalog=Catalog.from_file(store / "catalog.json"),
        autoload_plugins=False,
        freeze_gc=False,
    )


def _page_views(personalizer: Personalizer, cookie: str) -> list[dict[str, Any]]:
    visitor = read_identity(f"pz_visitor={cookie}", SETTINGS).visitor_id
    events = personalizer.store.export(visitor)["events"]  # type: ignore[union-attr]
    return [e for e in events if e["type"] == "page_view"]


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_page_view_with_an_unparsable_url_keeps_the_path(host: str) -> None:
    environ = {"HTTP_HOST": host, "PATH_INFO": "/c/outerwear", "QUERY_STRING": "utm_source=x"}
    pz = Personalization(request_from_wsgi(environ), new_identity(0.0))
    event = pz.page_view()
    assert (event.page, event.url) == ("/c/outerwear", None)


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_flask_serves_a_page_to_a_bad_host_and_records_it(host: str) -> None:
    personalizer = _personalizer()
    app = flask.Flask(__name__)
    Personalize(app, personalizer=personalizer, settings=SETTINGS)

    @app.get("/page")
    def page() -> str:
        return "<p>a page</p>"

    response = app.test_client().get("/page", headers={"Host": host})
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert [e["page"] for e in _page_views(personalizer, cookie)] == ["/page"]
    # The visitor's next decision reads that history without a store failure.
    visitor = read_identity(f"pz_visitor={cookie}", SETTINGS)
    result = personalizer.personalize(
        request_from_wsgi({"HTTP_HOST": host}).model_copy(
            update={"user_id": visitor.user_id, "session_id": visitor.session_id}
        )
    )
    assert not result.degraded, result.trace.errors


def _call_asgi(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one request through ``app`` in-process; what it sent (its errors propagate)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_the_asgi_middleware_records_a_bad_host_page_without_raising() -> None:
    personalizer = _personalizer()
    app = FastAPI()
    app.add_middleware(PersonalizeMiddleware, personalizer=personalizer, settings=SETTINGS)

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<p>a page</p>"

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/page",
        "raw_path": b"/page",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"[::1")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    sent = _call_asgi(app, scope)
    start = sent[0]
    assert start["status"] == 200
    cookie = next(v for k, v in start["headers"] if k == b"set-cookie").decode("latin-1")
    value = cookie.split(";")[0].split("=", 1)[1]
    assert [e["page"] for e in _page_views(personalizer, value)] == ["/page"]


def test_a_surrogate_in_the_root_path_does_not_break_the_asgi_reader() -> None:
    from personalize.web import request_from_asgi

    scope = {
        "type": "http",
        "headers": [(b"host", b"shop.example")],
        "root_path": "/shop\ud800",
        "path": "/x",
        "raw_path": b"/x",
    }
    assert request_from_asgi(scope).url == "http://shop.example/shop%3F/x"
