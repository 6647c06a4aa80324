"""``personalize demo --web``: the demo shop served from the CLI, its panel, and its wheel."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from web_servers import asgi_server

from personalize.cli import webshop

REPO = Path(__file__).resolve().parents[2]
Panel = webshop().panel.Panel


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_web_serves_the_shop_on_the_port_given(tmp_path: Path) -> None:
    port = _free_port()
    store = tmp_path / "visitors.sqlite"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "personalize.cli", "demo", "--web", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--store", str(store)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline, page = time.monotonic() + 60, None
        while page is None and time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/p/coat-parka", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert page is not None
        assert page.status_code == 200
        assert "Arctic down parka" in page.text
        assert "Goes well with" in page.text
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out
    assert store.is_file()


def test_the_panel_keeps_known_choices_and_falls_back_on_unknown_ones() -> None:
    panel = Panel.from_form(
        {"city": "Atlantis", "device": "phone", "arrival": "google", "tier": "gold", "x": "1"}
    )
    assert (panel.city, panel.device, panel.arrival, panel.tier) == (
        "Toronto",
        "phone",
        "google",
        "gold",
    )
    assert Panel.from_cookie(f"pz_demo={panel.cookie_value()}") == panel
    assert Panel.from_cookie("pz_demo=not-base64!") == Panel()


def test_the_panel_clock_is_local_to_the_city_and_never_far_ahead() -> None:
    panel = Panel.from_form({"city": "Sydney", "date": "2026-11-17", "time": "23:30"})
    clock = panel.clock()
    assert clock is not None
    assert clock.astimezone(UTC) == datetime(2026, 11, 17, 12, 30, tzinfo=UTC)
    far = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    assert Panel.from_form({"date": far, "time": "12:00"}).clock() is None


def test_moving_the_clock_past_the_session_timeout_ends_the_visit() -> None:
    before = Panel.from_form({"date": "2026-11-20", "time": "14:00"})
    soon = Panel.from_form({"date": "2026-11-20", "time": "14:20"})
    later = Panel.from_form({"date": "2026-11-22", "time": "14:00"})
    timeout = timedelta(minutes=30)
    assert not soon.left_and_came_back(before, timeout)
    assert later.left_and_came_back(before, timeout)
    assert not later.left_and_came_back(Panel(), timeout)


def test_the_panel_sends_the_city_as_cloudflare_geo_headers() -> None:
    headers = Panel.from_form({"city": "Toronto", "arrival": "newsletter"}).headers()
    assert headers[b"cf-ipcountry"] == b"CA"
    assert headers[b"cf-timezone"] == b"America/Toronto"
    assert b"referer" not in headers
    assert "utm_medium=email" in Panel.from_form({"arrival": "newsletter"}).utm()


@pytest.mark.slow
def test_the_wheel_ships_the_shop_with_its_templates_and_stylesheet(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shop = REPO / "examples" / "webshop"
    expected = {
        "personalize/_webshop/" + p.relative_to(shop).as_posix()
        for p in shop.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "personalize/_webshop/templates/base.html" in expected
    assert "personalize/_webshop/static/shop.css" in expected
    assert expected <= names


@pytest.mark.parametrize("back", ["//evil.example/x", "/\\evil.example", "https://evil.example/"])
def test_the_panel_sends_the_visitor_back_only_to_a_page_of_the_shop(
    tmp_path: Path, back: str
) -> None:
    app = webshop().create_app(tmp_path / "visitors.sqlite")
    with asgi_server(app) as base:
        moved = httpx.post(f"{base}/panel", data={"city": "Oslo", "back": back})
        stays = httpx.post(f"{base}/panel", data={"city": "Oslo", "back": "/cart"})
    assert (moved.status_code, moved.headers["location"]) == (303, "/")
    assert (stays.status_code, stays.headers["location"]) == (303, "/cart")


def test_a_cookie_name_simplecookie_refuses_neither_fails_the_shop_nor_hides_the_panel(
    tmp_path: Path,
) -> None:
    oslo = Panel(city="Oslo").cookie_value()
    header = f"x@y=1; pz_demo={oslo}; a(b)=c"  # names another app on the host may set
    assert Panel.from_cookie(header).city == "Oslo"
    app = webshop().create_app(tmp_path / "visitors.sqlite")
    with asgi_server(app) as base:
        page = httpx.get(f"{base}/c/coats", headers={"Cookie": header})
        panel = httpx.post(f"{base}/panel", data={"city": "Oslo"}, headers={"Cookie": header})
    assert page.status_code == 200
    assert "<option selected>Oslo</option>" in page.text
    assert panel.status_code == 303
