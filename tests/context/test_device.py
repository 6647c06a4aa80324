"""Device classification: against python-user-agents' expectations, hard cases, uap-core."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import ua_parser
import yaml

from personalize.context._device import MAX_UA_LENGTH, UA_ENGINES, DeviceDetector

#: Cases where we knowingly disagree with python-user-agents, and why (also in docs/context.md).
EXPECTED_DISAGREEMENTS = {
    # The PlayStation Vita is a handheld game console; upstream calls it a phone (is_mobile)
    # because it is portable. We say "console": a shop treats it like the PlayStation 3.
    "playstation_vita": "console",
}

DETECTOR = DeviceDetector()


def _expected_type(flags: dict[str, Any]) -> str | None:
    """The device type a record's flags imply; '' when the flags assert no class at all."""
    if flags.get("is_bot"):
        return "bot"
    if flags.get("is_tablet"):
        return "tablet"
    if flags.get("is_mobile"):
        return "mobile"
    if flags.get("is_pc"):
        return "desktop"
    keys = ("is_mobile", "is_tablet", "is_pc", "is_bot")
    if all(flags.get(k) is False for k in keys):
        return None  # none of the four: a TV, a console or something else
    return ""


def _cases(shared_data: Path) -> list[tuple[str, str, dict[str, Any]]]:
    folder = shared_data / "useragents" / "python-user-agents"
    devices = json.loads((folder / "devices.json").read_text())
    flags = json.loads((folder / "ua_flags_from_tests.json").read_text())["cases"]
    cases = [(f"devices:{name}", rec["ua_string"], rec) for name, rec in devices.items()]
    cases += [(f"tests:{rec['name']}", rec["ua"], rec) for rec in flags]
    return cases


def _disagreement(ua: str, flags: dict[str, Any]) -> str | None:
    """What we get where it differs from the flags (type and touch), else None."""
    device = DETECTOR.detect(ua)
    expected = _expected_type(flags)
    if expected is None:
        type_ok = device.type in ("tv", "console", "other")
    else:
        type_ok = expected == "" or device.type == expected
    touch = flags.get("is_touch_capable")
    touch_ok = touch is None or touch == device.is_touch
    if type_ok and touch_ok:
        return None
    return device.type if not type_ok else f"touch={device.is_touch}"


def _checkable(flags: dict[str, Any]) -> bool:
    return _expected_type(flags) != "" or flags.get("is_touch_capable") is not None


def test_classification_agrees_with_python_user_agents(shared_data: Path) -> None:
    checked = 0
    disagreements: list[tuple[str, str]] = []
    for name, ua, flags in _cases(shared_data):
        if not _checkable(flags):
            continue
        checked += 1
        found = _disagreement(ua, flags)
        if found is not None:
            disagreements.append((name.split(":", 1)[1], found))
    agreed = checked - len(disagreements)
    assert dict(disagreements) == EXPECTED_DISAGREEMENTS
    assert len(disagreements) == len(EXPECTED_DISAGREEMENTS)
    assert checked == 68
    assert agreed / checked >= 0.95, f"{agreed}/{checked}"


@pytest.mark.parametrize(
    ("ua", "kind", "touch"),
    [
        # iPhone, iPad, iPad asking for the desktop site from an app or Chrome
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "mobile",
            True,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            "tablet",
            True,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148",
            "tablet",
            True,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/120.0.6099.119 Safari/604.1",
            "tablet",
            True,
        ),
        # Android phone vs Android tablet (no "Mobile" token)
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            "mobile",
            True,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "tablet",
            True,
        ),
        (
            "Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0",
            "tablet",
            True,
        ),
        # Kindle Fire (Silk)
        (
            "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Silk/119.3.1 like Chrome/119.0.6045.193 Safari/537.36",
            "tablet",
            True,
        ),
        # desktops
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "desktop",
            False,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
            "desktop",
            False,
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "desktop",
            False,
        ),
        # crawlers
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bot", False),
        ("curl/8.4.0", "bot", False),
        ("python-requests/2.31.0", "bot", False),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/120.0.0.0 Safari/537.36",
            "bot",
            False,
        ),
        # smart TVs and streaming devices
        (
            "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "76.0.3809.146/6.0 TV Safari/537.36",
            "tv",
            False,
        ),
        (
            "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/79.0.3945.79 Safari/537.36 WebAppManager",
            "tv",
            False,
        ),
        (
            "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/112.0.5615.136 Mobile Safari/537.36",
            "tv",
            False,
        ),
        ("Roku/DVP-9.10 (519.10E04111A)", "tv", False),
        # consoles
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
            "console",
            False,
        ),
        (
            "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/13.0 Safari/605.1.15",
            "console",
            False,
        ),
        (
            "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 "
            "(KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
            "console",
            False,
        ),
        # garbage
        ("", "other", False),
        ("\x00\x01 not a browser", "other", False),
    ],
)
def test_hard_cases_are_classified(ua: str, kind: str, touch: bool) -> None:
    device = DETECTOR.detect(ua)
    assert (device.type, device.is_touch) == (kind, touch)
    assert device.is_bot == (kind == "bot")


def test_a_smartphone_crawler_is_a_touch_capable_bot() -> None:
    ua = (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    )
    device = DETECTOR.detect(ua)
    assert device.type == "bot"
    assert device.is_bot
    assert device.is_touch


def test_browser_and_os_families_follow_ua_parser_on_uap_core_vectors(shared_data: Path) -> None:
    folder = shared_data / "useragents" / "uap-core"
    ua_cases = yaml.safe_load((folder / "test_ua.yaml").read_text())["test_cases"]
    os_cases = yaml.safe_load((folder / "test_os.yaml").read_text())["test_cases"]
    rng = random.Random(20260801)
    for case in rng.sample(ua_cases, 150):
        device = DETECTOR.detect(case["user_agent_string"])
        expected = None if case["family"] == "Other" else case["family"]
        assert device.browser == expected, case["user_agent_string"]
    for case in rng.sample(os_cases, 100):
        device = DETECTOR.detect(case["user_agent_string"])
        expected = None if case["family"] == "Other" else case["family"]
        assert device.os == expected, case["user_agent_string"]


def test_versions_are_joined_from_the_parse() -> None:
    ua = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.109 Safari/537.36"
    )
    device = DETECTOR.detect(ua)
    parsed = ua_parser.parse(ua)
    assert parsed.user_agent is not None
    assert device.browser == "Chrome"
    assert device.browser_version == "120.0.6099"
    assert device.os == "Windows"


@pytest.mark.parametrize("engine", UA_ENGINES)
def test_every_engine_gives_the_same_devices(engine: str, shared_data: Path) -> None:
    detector = DeviceDetector(cache_size=0, engine=engine)  # type: ignore[arg-type]
    for _, ua, _ in _cases(shared_data):
        assert detector.detect(ua) == DETECTOR.detect(ua)


def test_the_cache_is_bounded_and_returns_the_same_result() -> None:
    detector = DeviceDetector(cache_size=2)
    first = detector.detect("Mozilla/5.0 (iPhone; CPU iPhone OS 5_1 like Mac OS X)")
    for i in range(5):
        detector.detect(f"agent {i}")
    assert detector.detect("Mozilla/5.0 (iPhone; CPU iPhone OS 5_1 like Mac OS X)") == first


def test_huge_user_agents_are_cut_before_parsing() -> None:
    device = DETECTOR.detect("Mozilla/5.0 (iPhone; CPU iPhone OS 5_1 like Mac OS X) " * 1000)
    assert device.type == "mobile"
    assert MAX_UA_LENGTH < 100_000
