"""The Starlette/FastAPI middleware and dependency, through a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import httpx
import jsonschema
import pytest
from fastapi import Depends, FastAPI
from starlette.requests import Request as StarletteRequest
from web_servers import asgi_server

from personalize import Personalizer, Result, ResultModel
from personalize.web import IdentitySettings, Personalization, read_identity
from personalize.web.fastapi import PersonalizeMiddleware, personalization

Pz = Annotated[Personalization, Depends(personalization)]
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


def _app(personalizer: Personalizer, settings: IdentitySettings, *, on_state: bool) -> FastAPI:
    app = FastAPI()
    if on_state:
        app.state.personalizer = personalizer
        app.add_middleware(PersonalizeMiddleware, settings=settings)
    else:
        app.add_middleware(PersonalizeMiddleware, personalizer=personalizer, settings=settings)

    @app.get("/")
    async def home(pz: Pz) -> Result:
        return await pz.apersonalize(placement="home", limit=4)

    @app.get("/as-model", response_model=ResultModel)
    async def as_model(pz: Pz) -> dict[str, Any]:
        return (await pz.apersonalize(placement="home", limit=4)).to_dict()

    @app.post("/login/{customer_id}")
    async def login(customer_id: str, pz: Pz) -> str:
        pz.link_customer(customer_id)
        return pz.identity.user_id

    @app.get("/state")
    async def state(request: StarletteRequest) -> dict[str, str | None]:
        pz: Personalization = request.state.personalization
        return {"session_id": pz.request.session_id, "url": pz.request.url}

    return app


@pytest.fixture(scope="module", params=[False, True], ids=["argument", "app-state"])
def base_url(request: pytest.FixtureRequest, web_personalizer: Personalizer) -> Any:
    settings = IdentitySettings(secret="fastapi-test-secret-0123", secure=False)
    with asgi_server(_app(web_personalizer, settings, on_state=request.param)) as base:
        yield base


def test_a_returned_result_is_personalized_json(base_url: str) -> None:
    response = httpx.get(
        base_url, headers={"User-Agent": PHONE, "Referer": "https://www.google.com/"}
    )
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, ResultModel.model_json_schema())
    assert body["placement"] == "home"
    assert len(body["products"]) == 4
    assert body["context"]["device"]["type"] == "mobile"
    assert body["context"]["referral"]["source"] == "search"
    assert body["context"]["user_id"]
    assert body["context"]["session_id"]


def test_response_model_and_a_returned_result_give_the_same_json(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        direct = client.get("/").json()
        modelled = client.get("/as-model").json()
    # new_arrival decays with the clock, so scores differ by a hair between requests.
    assert [p["product_id"] for p in direct["products"]] == [
        p["product_id"] for p in modelled["products"]
    ]
    assert set(direct) == set(modelled)
    assert direct["context"]["session_id"] == modelled["context"]["session_id"]


def test_the_cookie_round_trips_and_keeps_visitor_and_session(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        first = client.get("/")
        set_cookie = first.headers["set-cookie"]
        assert "HttpOnly" in set_cookie
        assert "SameSite=Lax" in set_cookie
        second = client.get("/")
    one, two = first.json()["context"], second.json()["context"]
    assert one["user_id"] == two["user_id"]
    assert one["session_id"] == two["session_id"]
    # A client without the cookie is somebody else.
    assert httpx.get(base_url).json()["context"]["user_id"] != one["user_id"]


def test_a_linked_customer_is_kept_in_the_cookie(base_url: str) -> None:
    settings = IdentitySettings(secret="fastapi-test-secret-0123", secure=False)
    with httpx.Client(base_url=base_url) as client:
        visitor = client.get("/").json()["context"]["user_id"]
        assert client.post("/login/c0042").json() == "c0042"
        after = client.get("/").json()["context"]
        cookie = client.cookies["pz_visitor"]
    assert after["user_id"] == "c0042"
    identity = read_identity(f"pz_visitor={cookie}", settings)
    assert (identity.visitor_id, identity.customer_id) == (visitor, "c0042")


def test_views_find_the_personalization_on_request_state(base_url: str) -> None:
    state = httpx.get(f"{base_url}/state?utm_source=x").json()
    assert state["session_id"]
    assert state["url"].endswith("/state?utm_source=x")


def test_the_openapi_schema_documents_the_result(base_url: str) -> None:
    schema = httpx.get(f"{base_url}/openapi.json").json()
    names = set(schema["components"]["schemas"])
    assert {"ResultModel", "ProductModel"} <= names


def test_a_tampered_cookie_gets_a_fresh_identity(base_url: str) -> None:
    first = httpx.get(base_url)
    cookie = first.cookies["pz_visitor"]
    tampered = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")
    again = httpx.get(base_url, cookies={"pz_visitor": tampered})
    assert again.json()["context"]["user_id"] != first.json()["context"]["user_id"]


def test_the_dependency_without_the_middleware_says_what_is_missing() -> None:
    bare = StarletteRequest({"type": "http", "headers": []})
    with pytest.raises(RuntimeError, match="PersonalizeMiddleware"):
        asyncio.run(personalization(bare))


def test_websockets_and_lifespan_pass_through_untouched() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)

    middleware = PersonalizeMiddleware(app, secret="x" * 20)
    asyncio.run(middleware({"type": "lifespan"}, _never, _never))
    assert seen == [{"type": "lifespan"}]


async def _never(*args: Any) -> Any:
    raise AssertionError("not called")
