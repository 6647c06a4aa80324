"""``personalize demo`` output: scores that add up, pins in words, offers as text."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from pathlib import Path

import pytest

from personalize import Context, ContinueShopping, Recommendation, Result
from personalize.cli import main

TIMES = "\N{MULTIPLICATION SIGN}"
#: ``  3. coat-wool  score 3.756 = (affinity 0.846 + co_view 0.725) x boost 2 [rule r]``
PRODUCT_LINE = re.compile(r"^\s+\d+\. (?P<id>\S+)  (?P<rest>.*)$")
SCORE = re.compile(
    r"score (?P<score>\d+\.\d{3}) = \(?(?P<terms>[^)\[]+?)\)?"
    rf"(?: {TIMES} boost (?P<boost>[\d.]+))?(?: \[rules? (?P<rules>[^\]]+)\])?$"
)


@pytest.fixture(scope="module")
def demo_output() -> str:
    out = io.StringIO()  # once for the module (capsys is per test)
    with contextlib.redirect_stdout(out):
        assert main(["demo"]) == 0
    return out.getvalue()


def _product_lines(text: str) -> list[tuple[str, str]]:
    lines, inside = [], False
    for line in text.splitlines():
        if line == "Products:":
            inside = True
        elif inside and (match := PRODUCT_LINE.match(line)):
            lines.append((match["id"], match["rest"]))
        else:
            inside = False
    return lines


def test_every_score_adds_up_to_its_reasons_times_its_boost(demo_output: str) -> None:
    lines = _product_lines(demo_output)
    assert len(lines) == 24  # three visitors and the tracked one, six products each
    boosted = 0
    for product_id, rest in lines:
        if rest.startswith("pinned at"):
            continue
        match = SCORE.match(rest)
        assert match, rest
        terms = [float(term.rsplit(" ", 1)[1]) for term in match["terms"].split(" + ")]
        boost = float(match["boost"] or 1.0)
        boosted += match["boost"] is not None
        # Each shown term is rounded to 0.0005, and terms under it are left out.
        slack = 0.0005 * (len(terms) + 8) * boost + 0.0005
        assert math.isclose(sum(terms) * boost, float(match["score"]), abs_tol=slack), product_id
        assert (match["boost"] is None) == (match["rules"] is None), rest
    assert boosted >= 10


def test_a_pin_names_its_rule_and_shows_no_zero_score(demo_output: str) -> None:
    assert "giftcard-50  pinned at 3 by rule newcomer-gift-card" in demo_output
    assert "score 0.000" not in demo_output
    assert "[pin]" not in demo_output


def test_a_boosted_product_shows_the_factor_and_the_rule(demo_output: str) -> None:
    assert f"{TIMES} boost 2 [rule cold-weather-boost]" in demo_output
    assert f"{TIMES} boost 1.8 [rule loyal-new-arrivals]" in demo_output


def test_offers_read_as_text_in_the_store_currency(demo_output: str) -> None:
    assert "  - night-owl: CA$5 off, code NIGHTOWL5 (5 off for night owls this winter)" in (
        demo_output
    )
    assert "  - comeback10: 10% off, code COMEBACK10 (" in demo_output
    assert "  - loyal-free-shipping: free shipping, code GOLDSHIP (" in demo_output
    assert "{'" not in demo_output  # no Python dicts


def test_explain_shows_amounts_in_the_configured_currency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "euro.yaml"
    config.write_text(
        "offers:\n"
        "  - {id: five, description: Five off, code: FIVE, value: {amount: 5}}\n"
        "  - {id: pounds, description: In pounds, value: {amount: 7.5, currency: GBP}}\n"
        "settings: {currency: EUR, max_offers: 5}\n",
        encoding="utf-8",
    )
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"request": {"ip": "192.0.2.10"}}), encoding="utf-8")
    assert main(["explain", str(config), str(request)]) == 0
    out = capsys.readouterr().out
    assert "  - five: €5 off, code FIVE (Five off)" in out
    assert "  - pounds: £7.50 off (In pounds)" in out


def _explained(*products: Recommendation) -> list[str]:
    result = Result(
        products=list(products),
        landing=None,
        offers=[],
        continue_shopping=ContinueShopping(),
        segments=frozenset(),
        experiments={},
        context=Context(),
        placement="home",
    )
    return [rest for _, rest in _product_lines(result.explain(trace=False))]


def test_a_pinned_product_with_a_score_shows_both() -> None:
    rec = Recommendation(
        "a", 2.0, {"co_purchase": 0.8, "popularity": 0.2}, ("up", "pin"), "co_purchase", 2.0, "pin"
    )
    assert _explained(rec) == [
        "pinned at 1 by rule pin; score 2.000 = (co_purchase 0.800 + popularity 0.200)"
        f" {TIMES} boost 2 [rule up]"
    ]


def test_a_score_a_plugin_changed_says_so_instead_of_not_adding_up() -> None:
    rec = Recommendation("b", 5.0, {"trending": 1.0}, (), "trending")
    assert _explained(rec) == ["score 1.000 = trending 1.000, adjusted to 5.000"]


def test_several_rules_share_one_boost_and_negative_reasons_show_their_sign() -> None:
    rec = Recommendation(
        "c", 0.9, {"trending": 0.5, "affinity": -0.2}, ("r1", "r2"), "trending", 3.0
    )
    assert _explained(rec) == [
        f"score 0.900 = (trending 0.500 + affinity -0.200) {TIMES} boost 3 [rules r1, r2]"
    ]
