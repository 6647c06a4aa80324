"""The Flask extension, through werkzeug's real server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import jsonschema
import pytest
from werkzeug.serving import make_server

from personalize import Personalizer, ResultModel
from personalize.web import IdentitySettings, Personalization
from personalize.web.flask import Personalize, personalization

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


def _app(personalizer: Personalizer) -> flask.Flask:
    app = flask.Flask(__name__)
    settings = IdentitySettings(secret="flask-test-secret-0123456", secure=False)
    Personalize(app, personalizer=personalizer, settings=settings)

    @app.get("/")
    def home() -> dict[str, Any]:
        return personalization().personalize(placement="home", limit=3).to_dict()

    @app.get("/page")
    def page() -> str:
        return "<p>a page</p>"

    @app.get("/old-page")
    def old_page() -> flask.Response:
        return flask.redirect("/page")  # an HTML body, as Flask's redirects have

    @app.post("/login/<customer_id>")
    def login(customer_id: str) -> str:
        personalization().link_customer(customer_id)
        return personalization().identity.user_id

    return app


@pytest.fixture(scope="module")
def base_url(web_personalizer: Personalizer) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _app(web_personalizer), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_a_view_returns_personalized_json(base_url: str) -> None:
    response = httpx.get(base_url, headers={"User-Agent": PHONE})
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, ResultModel.model_json_schema())
    assert len(body["products"]) == 3
    assert body["context"]["device"]["type"] == "mobile"


def test_the_cookie_round_trips(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        first = client.get("/")
        assert "HttpOnly" in first.headers["set-cookie"]
        second = client.get("/")
    one, two = first.json()["context"], second.json()["context"]
    assert (one["user_id"], one["session_id"]) == (two["user_id"], two["session_id"])
    assert httpx.get(base_url).json()["context"]["user_id"] != one["user_id"]


def test_a_linked_customer_stays_linked(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        client.get("/")
        assert client.post("/login/c0042").text == "c0042"
        assert client.get("/").json()["context"]["user_id"] == "c0042"


def test_personalization_outside_the_extension_says_what_is_missing() -> None:
    app = flask.Flask(__name__)
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="Personalize"):
        personalization()


def test_init_app_supports_application_factories(web_personalizer: Personalizer) -> None:
    extension = Personalize(personalizer=web_personalizer, secret="factory-secret-0123456")
    app = flask.Flask(__name__)
    extension.init_app(app)
    assert app.extensions["personalize"] is extension

    @app.get("/")
    def home() -> str:
        return type(personalization()).__name__

    with app.test_client() as client:
        assert client.get("/").text == Personalization.__name__


def test_an_html_page_is_recorded_as_a_page_view_and_json_is_not(
    base_url: str, web_personalizer: Personalizer
) -> None:
    from personalize.web import read_identity

    with httpx.Client(base_url=base_url) as client:
        client.get("/page", headers={"Referer": "https://www.google.com/"})
        response = client.get("/")
    settings = IdentitySettings(secret="flask-test-secret-0123456", secure=False)
    visitor = read_identity(f"pz_visitor={response.cookies['pz_visitor']}", settings).visitor_id

    events = web_personalizer.store.export(visitor)["events"]  # type: ignore[union-attr]
    pages = [(e.get("page"), e.get("referrer")) for e in events if e["type"] == "page_view"]
    assert ("/page", "https://www.google.com/") in pages
    assert all(page != "/" for page, _ in pages)


def test_a_redirect_is_no_page_view_and_the_page_it_leads_to_is(
    base_url: str, web_personalizer: Personalizer
) -> None:
    from personalize.web import read_identity

    with httpx.Client(base_url=base_url, follow_redirects=True) as client:
        response = client.get("/old-page")
    assert [r.status_code for r in response.history] == [302]
    settings = IdentitySettings(secret="flask-test-secret-0123456", secure=False)
    visitor = read_identity(f"pz_visitor={response.cookies['pz_visitor']}", settings).visitor_id

    events = web_personalizer.store.export(visitor)["events"]  # type: ignore[union-attr]
    assert [e.get("page") for e in events if e["type"] == "page_view"] == ["/page"]
