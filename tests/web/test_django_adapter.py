"""The Django middleware, through Django's WSGI handler under wsgiref on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import django
import httpx
import jsonschema
import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path
from web_servers import wsgi_server

from personalize import Catalog, ConfigError, Personalizer, Product, ResultModel
from personalize.web.django import load_settings

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


def home(request: HttpRequest) -> JsonResponse:
    result = request.personalization.personalize(placement="home", limit=3)
    return JsonResponse(result.to_dict())


def login(request: HttpRequest, customer_id: str) -> HttpResponse:
    request.personalization.link_customer(customer_id)
    return HttpResponse(request.personalization.identity.user_id)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<p>a page</p>", content_type="text/html; charset=utf-8")


def old_page(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/page")  # text/html, as Django's responses default to


urlpatterns = [
    path("", home),
    path("page", page),
    path("old-page", old_page),
    path("login/<str:customer_id>", login),
]


@pytest.fixture(scope="module")
def base_url(web_personalizer: Personalizer) -> Iterator[str]:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-test-secret-key-0123456789",
            ALLOWED_HOSTS=["127.0.0.1"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=[],
            MIDDLEWARE=["personalize.web.django.PersonalizeMiddleware"],
            USE_TZ=True,
            PERSONALIZE={"PERSONALIZER": web_personalizer, "SECURE": False},
        )
        django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    with wsgi_server(WSGIHandler()) as base:
        yield base


def test_a_view_returns_personalized_json(base_url: str) -> None:
    response = httpx.get(f"{base_url}/", headers={"User-Agent": PHONE})
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, ResultModel.model_json_schema())
    assert len(body["products"]) == 3
    assert body["context"]["device"]["type"] == "mobile"


def test_the_cookie_round_trips(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        first = client.get("/")
        set_cookie = first.headers["set-cookie"]
        assert "HttpOnly" in set_cookie
        assert "SameSite=Lax" in set_cookie
        second = client.get("/")
    one, two = first.json()["context"], second.json()["context"]
    assert (one["user_id"], one["session_id"]) == (two["user_id"], two["session_id"])


def test_a_linked_customer_stays_linked(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        client.get("/")
        assert client.get("/login/c0042").text == "c0042"
        assert client.get("/").json()["context"]["user_id"] == "c0042"


def test_the_secret_defaults_to_django_s_secret_key() -> None:
    _, cookie = load_settings({}, default_secret="fallback-secret-0123456")
    assert cookie.secret == "fallback-secret-0123456"


def small_personalizer() -> Personalizer:
    """A factory named by a dotted path in the settings below."""
    return Personalizer(config={}, catalog=Catalog(products=[Product(id="a")]))


def test_durations_may_be_seconds_and_the_personalizer_a_dotted_path() -> None:
    found, cookie = load_settings(
        {
            "PERSONALIZER": f"{__name__}:small_personalizer",
            "SESSION_TIMEOUT": 600,
            "SECRET": "x" * 20,
        }
    )
    assert isinstance(found, Personalizer)
    assert cookie.session_timeout == timedelta(minutes=10)


def test_bad_settings_report_every_problem_with_its_path() -> None:
    bad: dict[str, Any] = {
        "PERSONALIZER": "no.such.module:thing",
        "SECRET": "short",
        "MAX_AGE": "forever",
        "SECURE": "yes",
        "COOKIE_NAME": "bad name",
        "COLOR": "blue",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(bad)
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == sorted(
        f"PERSONALIZE.{key}"
        for key in ("COLOR", "PERSONALIZER", "MAX_AGE", "SECURE", "SECRET", "COOKIE_NAME")
    )


def test_an_html_page_is_recorded_as_a_page_view_and_json_is_not(
    base_url: str, web_personalizer: Personalizer
) -> None:
    from personalize.web import IdentitySettings, read_identity

    with httpx.Client(base_url=base_url) as client:
        client.get("/page", headers={"Referer": "https://www.google.com/"})
        response = client.get("/")
    secret = IdentitySettings(secret="django-test-secret-key-0123456789", secure=False)
    visitor = read_identity(f"pz_visitor={response.cookies['pz_visitor']}", secret).visitor_id

    events = web_personalizer.store.export(visitor)["events"]  # type: ignore[union-attr]
    pages = [(e.get("page"), e.get("referrer")) for e in events if e["type"] == "page_view"]
    assert ("/page", "https://www.google.com/") in pages
    assert all(page != "/" for page, _ in pages)


def test_a_redirect_is_no_page_view_and_the_page_it_leads_to_is(
    base_url: str, web_personalizer: Personalizer
) -> None:
    from personalize.web import IdentitySettings, read_identity

    with httpx.Client(base_url=base_url, follow_redirects=True) as client:
        response = client.get("/old-page")
    assert [r.status_code for r in response.history] == [302]
    secret = IdentitySettings(secret="django-test-secret-key-0123456789", secure=False)
    visitor = read_identity(f"pz_visitor={response.cookies['pz_visitor']}", secret).visitor_id

    events = web_personalizer.store.export(visitor)["events"]  # type: ignore[union-attr]
    assert [e.get("page") for e in events if e["type"] == "page_view"] == ["/page"]


def test_page_view_settings_are_checked() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"SECRET": "x" * 20, "TRACK_PAGE_VIEWS": "yes", "UNTRACKED_PATHS": "/s/"})
    paths = [p.path for p in info.value.problems]
    assert paths == ["PERSONALIZE.TRACK_PAGE_VIEWS", "PERSONALIZE.UNTRACKED_PATHS"]
