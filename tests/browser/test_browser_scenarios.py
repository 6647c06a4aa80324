"""The demo shop in headless Chromium: three visits, checked on the text a person sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_harness import Screenshots
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from personalize.store import SQLiteStore

pytestmark = pytest.mark.slow

Shop = tuple[str, Path]


def text_of(driver: Any, css: str) -> str:
    """The visible text of the first element matching ``css`` (waits for it)."""
    wait = WebDriverWait(driver, 15)
    element = wait.until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)))
    return str(element.text)


def set_panel(driver: Any, **fields: str) -> None:
    """Fill in the visitor panel of the current page and apply it."""
    for name, value in fields.items():
        element = driver.find_element(By.ID, f"panel-{name}")
        if element.tag_name == "select":
            Select(element).select_by_visible_text(value)
        else:
            element.clear()
            element.send_keys(value)
    driver.find_element(By.ID, "panel-apply").click()
    WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.ID, "panel"))
    )


def test_a_phone_in_toronto_late_at_night_from_google_sees_canada_and_the_night_owl_offer(
    browser: Any, shop: Shop, screenshots: Screenshots
) -> None:
    url, _ = shop
    browser.get(url + "/")
    set_panel(
        browser, city="Toronto", device="phone", arrival="google", date="2026-11-17", time="23:30"
    )

    assert browser.current_url == url + "/ca/"
    assert "Bienvenue, Canada!" in text_of(browser, "#hero")
    offers = text_of(browser, "#offers")
    assert "NIGHTOWL5" in offers
    assert "CA$5 off" in offers
    facts = text_of(browser, "#facts")
    assert "Toronto, CA" in facts
    assert "mobile" in facts
    assert "search" in facts
    assert "Tue 17 Nov 23:30 (night" in facts
    assert "Why:" in text_of(browser, "#recommended")
    screenshots.take(browser, "scenario1-toronto-night-owl")


def test_a_visitor_who_left_a_coat_in_the_cart_comes_back_to_a_comeback_offer_and_the_coat(
    browser: Any, shop: Shop, screenshots: Screenshots
) -> None:
    url, _ = shop
    browser.get(url + "/")
    set_panel(browser, city="Toronto", device="desktop", date="2026-11-20", time="14:00")
    browser.get(url + "/p/coat-parka")
    assert text_of(browser, "#product-title") == "Arctic down parka"
    browser.find_element(By.ID, "add-to-cart").click()
    assert "Arctic down parka" in text_of(browser, "#cart")
    assert "COMEBACK10" not in browser.find_element(By.TAG_NAME, "main").text
    screenshots.take(browser, "scenario2-coat-in-cart")

    # They leave; two days later (on the panel's clock) they come back.
    set_panel(browser, date="2026-11-22", time="14:00")

    offers = text_of(browser, "#offers")
    assert "COMEBACK10" in offers
    assert "10% off" in offers
    left_off = text_of(browser, "#continue")
    assert "Continue where you left off" in left_off
    assert "Arctic down parka" in left_off
    screenshots.take(browser, "scenario2-comeback")
    browser.get(url + "/cart")
    assert "Left in your cart last time: Arctic down parka" in text_of(browser, "#abandoned")


def test_a_product_page_shows_complements_and_a_click_is_stored_with_its_decision_id(
    browser: Any, shop: Shop, screenshots: Screenshots
) -> None:
    url, store_path = shop
    browser.get(url + "/p/coat-parka")
    complements = text_of(browser, "#complements")
    assert "Goes well with" in complements
    assert "Why: goes with it" in complements
    decision_id = text_of(browser, "#decision-id")
    visitor_id = text_of(browser, "#visitor-id")
    card = browser.find_element(By.CSS_SELECTOR, "#complements .card")
    clicked = card.get_attribute("data-product")
    title = card.find_element(By.CSS_SELECTOR, ".title").text
    screenshots.take(browser, "scenario3-complements")

    card.click()

    assert text_of(browser, "#product-title") == title
    store = SQLiteStore(store_path)
    try:
        events = store.export(visitor_id)["events"]
    finally:
        store.close()
    clicks = [e for e in events if e["type"] == "click"]
    assert clicks == [
        {
            "type": "click",
            "product_id": clicked,
            "at": clicks[0]["at"],
            "session_id": clicks[0]["session_id"],
            "customer_id": visitor_id,
            "decision_id": decision_id,
        }
    ]
    assert len(decision_id) == 32
