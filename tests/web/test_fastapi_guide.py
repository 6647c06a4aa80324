"""The complete app of the FastAPI guide works as the guide says, served by uvicorn."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from web_servers import asgi_server

from personalize import ResultModel
from personalize.store import SQLiteStore

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "fastapi.md"


def guide_app_code() -> str:
    """The python block that follows ``<!-- guide-app -->`` in the guide."""
    match = re.search(r"<!-- guide-app -->\n```python\n(.*?)^```", GUIDE.read_text(), re.S | re.M)
    assert match, "the guide has no <!-- guide-app --> block"
    return match.group(1)


@pytest.fixture(scope="module")
def guide_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("guide") / "visitors.sqlite"


@pytest.fixture(scope="module")
def base_url(repo_root: Path, guide_store: Path) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo_root)
        mp.setenv("PZ_SECRET", "guide-test-secret-0123456789")
        mp.setenv("PZ_COOKIE_SECURE", "0")
        mp.setenv("PZ_STORE", str(guide_store))
        namespace: dict[str, Any] = {"__name__": "shop"}
        exec(compile(guide_app_code(), str(GUIDE), "exec"), namespace)
    with asgi_server(namespace["app"]) as base:
        yield base


def test_the_guide_app_is_short() -> None:
    assert len(guide_app_code().splitlines()) <= 50


def test_the_guide_app_has_no_glue_beyond_the_adapter() -> None:
    code = guide_app_code()
    for glue in ("Request(", "History(", "Event(", ".headers", "cookie", ".history("):
        assert glue not in code


def test_views_and_clicks_of_the_guide_app_reach_the_store_with_the_decision_id(
    base_url: str, guide_store: Path
) -> None:
    with httpx.Client(base_url=base_url) as client:
        page = client.get("/products/coat-parka").json()
        clicked = page["products"][0]["product_id"]
        recorded = client.post(f"/clicks/{clicked}", params={"decision_id": page["decision_id"]})
        assert recorded.json() == {"clicked": clicked}
        later = client.get("/").json()
    visitor = later["context"]["user_id"]

    events = SQLiteStore(guide_store).export(visitor)["events"]
    assert [e["product_id"] for e in events if e["type"] == "view"] == ["coat-parka"]
    clicks = [(e["product_id"], e["decision_id"]) for e in events if e["type"] == "click"]
    assert clicks == [(clicked, page["decision_id"])]


def test_home_returns_a_personalized_result(base_url: str) -> None:
    response = httpx.get(base_url, headers={"Referer": "https://www.google.com/"})
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, ResultModel.model_json_schema())
    assert body["placement"] == "home"
    assert body["products"]
    assert body["context"]["referral"]["source"] == "search"


def test_a_product_page_gets_its_complements(base_url: str) -> None:
    body = httpx.get(f"{base_url}/products/coat-parka").json()
    assert body["placement"] == "pdp"
    assert "coat-parka" not in [p["product_id"] for p in body["products"]]


def test_the_visitor_and_a_login_survive_across_requests(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        first = client.get("/").json()["context"]
        second = client.get("/").json()["context"]
        assert (first["user_id"], first["session_id"]) == (
            second["user_id"],
            second["session_id"],
        )
        assert client.post("/login/c0042").json() == {"customer_id": "c0042"}
        after = client.get("/").json()["context"]
    assert after["user_id"] == "c0042"
    assert after["session_id"] == first["session_id"]
