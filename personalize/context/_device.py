"""The device behind a user agent: ua-parser's parse plus our own device classification.

ua-parser (uap-core's rules) names the browser, the OS and the device model; it does not say
whether the device is a phone, a tablet or a television. :func:`classify` decides that from
the parse and a few tokens of the raw string, in this order (the first match wins):

1. crawlers (ua-parser's ``Spider`` device, or a crawler token) are ``bot``, but the other
   fields are still classified, so a smartphone crawler is touch-capable;
2. smart TVs, set-top boxes and streaming sticks are ``tv``;
3. game consoles, handhelds included, are ``console``;
4. tablets: iPads (also an iPad asking for the desktop site when its string betrays it),
   Kindle/Silk, Android without a ``Mobile`` token, Windows RT, anything saying ``Tablet``;
5. phones: iPhone/iPod, generic smartphones and feature phones, mobile OSes, ``Mobile`` tokens;
6. desktop OSes are ``desktop``; anything else is ``other``.

Parses are cached in a bounded, thread-safe LRU cache keyed on the user-agent string.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from typing import Literal

from cachetools import LRUCache
from ua_parser import Domain, PartialResult
from ua_parser import Resolver as _UAResolver
from ua_parser.basic import Resolver as BasicResolver
from ua_parser.loaders import load_builtins, load_lazy_builtins

from personalize._models import without_surrogates
from personalize.context._model import Device

__all__ = ["UA_ENGINES", "DeviceDetector", "UAEngine", "classify", "make_ua_resolver"]

#: Longest user agent parsed; longer strings are cut (real ones stay under 500 characters).
MAX_UA_LENGTH = 1024

UAEngine = Literal["auto", "rs", "basic"]

#: Whether the ua-parser-rs accelerator can be used in this interpreter.
HAS_UA_PARSER_RS = importlib.util.find_spec("ua_parser_rs") is not None
UA_ENGINES: tuple[str, ...] = ("rs", "basic") if HAS_UA_PARSER_RS else ("basic",)

# Token checks run on the lower-cased string: plain substrings (fast C searches) plus a few
# case-sensitive regexes for the tokens that need word boundaries.
_BOT_SUBSTRINGS = (
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "curl/",
    "wget/",
    "go-http-client",
    "libwww",
    "httpclient",
    "scrapy",
    "lighthouse",
    "pingdom",
    "uptimerobot",
    "mediapartners",
    "feedfetcher",
    "bingpreview",
    "whatsapp/",
    "ia_archiver",
    "archive.org",
)
_BOT_WORD = re.compile(r"bot(?:[/;)\-+_ ]|$)")
_TV_SUBSTRINGS = (
    "smart-tv",
    "smarttv",
    "hbbtv",
    "netcast",
    "googletv",
    "google tv",
    "androidtv",
    "android tv",
    "appletv",
    "apple tv",
    "crkey",
    "roku",
    "bravia",
    "inettv",
    "web0s",
    "webos.tv",
    "viera",
    "philipstv",
    "aquos",
    "opera tv",
    "firetv",
    "fire tv",
)
_TV_WORDS = re.compile(r"tizen[^)]{0,40}\btv\b|\bdtv\b|; ?tv[;)]|\bbox\b[^)]{0,20}\btv\b")
_FIRE_TV = re.compile(r"\bAFT[A-Z][A-Z0-9]{0,6}\b")  # Fire TV models: AFTB, AFTMM ...
_CONSOLE_SUBSTRINGS = ("playstation", "xbox", "nintendo", "ouya", "steam deck")
_CONSOLE_WORDS = re.compile(r"\bwiiu?\b|\bpsp\b")
_IPAD_DESKTOP_MODE = re.compile(r"Macintosh;[^)]{0,80}\)[^\n]{0,200}(?:Mobile/|CriOS|FxiOS|EdgiOS)")
_TABLET_SUBSTRINGS = ("tablet", "silk/", "kindle", "playbook", "ipad")
_STRONG_MOBILE_SUBSTRINGS = (
    "iemobile",
    "windows ce",
    "windows phone",
    "opera mini",
    "j2me",
    "midp",
    "up.browser",
)
_WAP = re.compile(r"\bwap\b")
_MOBI = re.compile(r"mobi\b")
_WINDOWS_ARM = re.compile(r"Windows NT [^)]{0,40}\bARM\b")
_TOUCH_TOKEN = re.compile(r";\s?Touch\b")


def _has(text: str, substrings: tuple[str, ...]) -> bool:
    return any(token in text for token in substrings)


def _mobile_word(low: str) -> bool:
    return "mobile" in low or _MOBI.search(low) is not None


_TV_FAMILIES = ("HbbTV", "NetCast", "Inettv", "Chromecast", "AppleTV", "GoogleTV", "Roku")
_TV_BRANDS = frozenset({"Generic_Inettv"})
_CONSOLE_FAMILIES = ("PlayStation", "Xbox", "Nintendo", "OUYA")
_TABLET_FAMILIES = ("iPad", "Kindle", "Generic Tablet", "BlackBerry Playbook", "Galaxy Tab")
_TABLET_BRANDS = frozenset({"Generic_Android_Tablet"})
_PHONE_FAMILIES = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone"})
_TABLET_OS = frozenset({"BlackBerry Tablet OS", "iPadOS"})
_MOBILE_OS = frozenset(
    {
        "iOS",
        "Android",
        "Windows Phone",
        "Windows Mobile",
        "BlackBerry OS",
        "Symbian OS",
        "Symbian^3",
        "Symbian^3 Anna",
        "Symbian^3 Belle",
        "MeeGo",
        "Maemo",
        "Bada",
        "BREW",
        "webOS",
        "Firefox OS",
        "KaiOS",
        "Tizen",
        "Sailfish",
        "Ubuntu Touch",
        "HarmonyOS",
        "Series40",
        "Nokia Series 40",
    }
)
_TOUCH_OS = frozenset(
    {
        "iOS",
        "iPadOS",
        "Android",
        "Windows Phone",
        "Windows Mobile",
        "MeeGo",
        "webOS",
        "Firefox OS",
        "Tizen",
        "Sailfish",
        "Ubuntu Touch",
        "HarmonyOS",
        "BlackBerry Tablet OS",
    }
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "macOS",
        "Mac OS",
        "Linux",
        "Ubuntu",
        "Kubuntu",
        "Xubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "CentOS",
        "SUSE",
        "openSUSE",
        "Mandriva",
        "Gentoo",
        "Slackware",
        "Linux Mint",
        "Mint",
        "Arch Linux",
        "Chrome OS",
        "ChromeOS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
        "SunOS",
        "BeOS",
        "Haiku",
        "OS/2",
        "AIX",
        "HP-UX",
        "IRIX",
    }
)
_DESKTOP_OS_PREFIXES = ("Windows", "Mac OS", "Linux")


def _version(major: str | None, minor: str | None, patch: str | None) -> str | None:
    parts = [p for p in (major, minor, patch) if p]
    return ".".join(parts) if parts else None


def _known(value: str | None) -> str | None:
    return None if value in (None, "", "Other") else value


def classify(ua: str, parsed: PartialResult) -> Device:
    """Classify one parsed user agent into a :class:`Device`.

    Args:
        ua: The user-agent string that was parsed.
        parsed: ua-parser's parse of ``ua`` with every domain resolved.

    Returns:
        The device, with ``type``, ``is_bot`` and ``is_touch`` decided by our rules.
    """
    agent, os, dev = parsed.user_agent, parsed.os, parsed.device
    os_family = os.family if os is not None else "Other"
    family = dev.family if dev is not None else "Other"
    brand = dev.brand if dev is not None else None
    low = ua.lower()
    is_bot = family == "Spider" or _BOT_WORD.search(low) is not None or _has(low, _BOT_SUBSTRINGS)
    kind = _device_type(ua, low, os_family, family, brand)
    is_touch = _is_touch(ua, kind, os_family, family, agent.family if agent else "Other")
    return Device(
        type="bot" if is_bot else kind,
        os=_known(os_family),
        os_version=_version(os.major, os.minor, os.patch) if os else None,
        browser=_known(agent.family) if agent else None,
        browser_version=_version(agent.major, agent.minor, agent.patch) if agent else None,
        brand=None if brand in (None, "Spider") else brand,
        model=_known(dev.model) if dev and brand != "Spider" else None,
        is_bot=is_bot,
        is_touch=is_touch,
    )


def _device_type(ua: str, low: str, os_family: str, family: str, brand: str | None) -> str:
    if (
        family.startswith(_TV_FAMILIES)
        or brand in _TV_BRANDS
        or _has(low, _TV_SUBSTRINGS)
        or _TV_WORDS.search(low)
        or _FIRE_TV.search(ua)
    ):
        return "tv"
    if (
        family.startswith(_CONSOLE_FAMILIES)
        or _has(low, _CONSOLE_SUBSTRINGS)
        or _CONSOLE_WORDS.search(low)
    ):
        return "console"
    if _is_tablet(ua, low, os_family, family, brand):
        return "tablet"
    if (
        family in _PHONE_FAMILIES
        or os_family in _MOBILE_OS
        or _has(low, _STRONG_MOBILE_SUBSTRINGS)
        or _WAP.search(low)
        or (family != "Other" and brand not in (None, "Spider", "Apple") and "Mac" not in family)
    ):
        return "mobile"
    if os_family in _DESKTOP_OS or os_family.startswith(_DESKTOP_OS_PREFIXES):
        return "desktop"
    return "mobile" if _mobile_word(low) or "phone" in low else "other"


def _is_tablet(ua: str, low: str, os_family: str, family: str, brand: str | None) -> bool:
    if family.startswith(_TABLET_FAMILIES) or brand in _TABLET_BRANDS or os_family in _TABLET_OS:
        return True
    if family in _PHONE_FAMILIES:
        return False
    if _has(low, _TABLET_SUBSTRINGS) or _IPAD_DESKTOP_MODE.search(ua) or _WINDOWS_ARM.search(ua):
        return True
    # Android phones carry a "Mobile" token (Opera: "Mobi"); Android tablets do not.
    return os_family == "Android" and not _mobile_word(low)


def _is_touch(ua: str, kind: str, os_family: str, family: str, browser: str) -> bool:
    if kind == "tablet":
        return True
    if kind == "mobile":
        return (
            os_family in _TOUCH_OS
            or family in ("iPhone", "iPod", "Generic Smartphone")
            or browser == "IE Mobile"
        )
    if kind == "desktop":
        return _TOUCH_TOKEN.search(ua) is not None
    return False


def make_ua_resolver(engine: UAEngine = "auto") -> _UAResolver:
    """Build a ua-parser resolver over the bundled uap-core rules.

    Args:
        engine: ``"rs"`` for the ua-parser-rs accelerator, ``"basic"`` for the pure-Python
            resolver, ``"auto"`` for the accelerator when it is installed.

    Raises:
        ImportError: ``"rs"`` was asked for and ua-parser-rs is not installed.
    """
    if engine == "rs" or (engine == "auto" and HAS_UA_PARSER_RS):
        from ua_parser.regex import Resolver as RegexResolver

        return RegexResolver(load_lazy_builtins())
    return BasicResolver(load_builtins())


class DeviceDetector:
    """Parse and classify user agents, with a bounded LRU cache of results.

    Thread-safe: the cache is guarded by a lock; parsing happens outside it.

    Args:
        cache_size: How many distinct user agents to remember (0 disables the cache).
        engine: Which ua-parser resolver to use; see :func:`make_ua_resolver`.
    """

    def __init__(self, cache_size: int = 4096, engine: UAEngine = "auto") -> None:
        self._resolver = make_ua_resolver(engine)
        self._cache: LRUCache[str, Device] | None = (
            LRUCache(maxsize=cache_size) if cache_size > 0 else None
        )
        self._lock = threading.Lock()

    def detect(self, ua: str) -> Device:
        """Return the device for ``ua`` (cut to :data:`MAX_UA_LENGTH` characters).

        Lone surrogates (which no header carries, but a Python string can) are replaced
        with U+FFFD first: the ua-parser-rs engine cannot encode them.
        """
        ua = without_surrogates(ua[:MAX_UA_LENGTH])
        cache = self._cache
        if cache is not None:
            with self._lock:
                hit = cache.get(ua)
            if hit is not None:
                return hit
        device = classify(ua, self._resolver(ua, Domain.ALL))
        if cache is not None:
            with self._lock:
                cache[ua] = device
        return device

    def clear(self) -> None:
        """Forget every cached parse."""
        if self._cache is not None:
            with self._lock:
                self._cache.clear()
