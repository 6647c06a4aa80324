"""The visitor panel: who the demo visitor pretends to be, and how the request shows it.

The panel's choices live in a plain (unsigned) ``pz_demo`` cookie; they are a demo's
make-believe, not a secret. :class:`DemoHeaders` is an ASGI middleware, outside the
personalize middleware, that rewrites each request as a real one from that visitor would
arrive: the country and city in Cloudflare's geo headers (the shop trusts Cloudflare
explicitly in its settings), the device in ``User-Agent``, the arrival in ``Referer`` and
UTM parameters. The local time is the panel's clock, read by the views.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

__all__ = [
    "ARRIVALS",
    "CITIES",
    "DEVICES",
    "PANEL_COOKIE",
    "TIERS",
    "DemoHeaders",
    "Panel",
]

PANEL_COOKIE = "pz_demo"
#: How far ahead of the real clock the panel's clock may be.
MAX_AHEAD = timedelta(hours=12)

#: City -> (country, region, latitude, longitude, IANA zone), sent as Cloudflare headers.
CITIES: dict[str, tuple[str, str, float, float, str]] = {
    "Toronto": ("CA", "ON", 43.65, -79.38, "America/Toronto"),
    "Vancouver": ("CA", "BC", 49.28, -123.12, "America/Vancouver"),
    "New York": ("US", "NY", 40.71, -74.01, "America/New_York"),
    "London": ("GB", "ENG", 51.51, -0.13, "Europe/London"),
    "Oslo": ("NO", "03", 59.91, 10.75, "Europe/Oslo"),
    "Sydney": ("AU", "NSW", -33.87, 151.21, "Australia/Sydney"),
    "Singapore": ("SG", "01", 1.29, 103.85, "Asia/Singapore"),
}

#: Device -> user agent.
DEVICES: dict[str, str] = {
    "phone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ),
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    ),
}

#: Arrival -> (referrer, UTM parameters).
ARRIVALS: dict[str, tuple[str | None, dict[str, str]]] = {
    "direct": (None, {}),
    "google": ("https://www.google.com/", {}),
    "instagram": ("https://www.instagram.com/", {}),
    "newsletter": (
        None,
        {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "winter"},
    ),
    "ad": ("https://www.google.com/", {"utm_source": "google", "utm_medium": "cpc"}),
}

TIERS = ("none", "silver", "gold", "platinum")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Panel:
    """The demo visitor: city, device, arrival, loyalty tier and the clock.

    ``date`` and ``time`` are the visitor's local date and time (``YYYY-MM-DD``, ``HH:MM``);
    empty means the real clock. The clock may go back in time but not more than
    :data:`MAX_AHEAD` ahead: stores refuse events from further in the future.
    """

    city: str = "Toronto"
    device: str = "desktop"
    arrival: str = "direct"
    tier: str = "none"
    date: str = ""
    time: str = ""
    landing: str = "redirect"

    @classmethod
    def from_cookie(cls, header: str | None) -> Panel:
        """The panel stored in the ``Cookie`` header (defaults when absent or garbled)."""
        # Read by hand: SimpleCookie raises on a name it deems illegal (``x@y=1``), which
        # another app on the same host may well have set.
        value = _cookie(header or "", PANEL_COOKIE)
        if value is None:
            return cls()
        try:
            data = json.loads(base64.urlsafe_b64decode(value.encode()))
        except ValueError:
            return cls()
        return cls.from_form(data) if isinstance(data, dict) else cls()

    @classmethod
    def from_form(cls, form: dict[str, Any]) -> Panel:
        """A panel from submitted form fields; unknown choices fall back to the defaults."""
        names = {f.name for f in fields(cls)}
        panel = cls(**{k: str(v).strip()[:40] for k, v in form.items() if k in names})
        default = cls()
        if panel.city not in CITIES:
            panel = replace(panel, city=default.city)
        if panel.device not in DEVICES:
            panel = replace(panel, device=default.device)
        if panel.arrival not in ARRIVALS:
            panel = replace(panel, arrival=default.arrival)
        if panel.tier not in TIERS:
            panel = replace(panel, tier=default.tier)
        if panel.landing not in ("redirect", "banner"):
            panel = replace(panel, landing=default.landing)
        if panel.clock() is None:
            panel = replace(panel, date="", time="")
        return panel

    def cookie_value(self) -> str:
        """The panel as the ``pz_demo`` cookie's value."""
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @property
    def zone(self) -> ZoneInfo:
        """The visitor's time zone, from the city."""
        return ZoneInfo(CITIES[self.city][4])

    def clock(self) -> datetime | None:
        """The panel's clock as an aware time, or ``None`` for the real clock."""
        if not self.date and not self.time:
            return None
        try:
            today = datetime.now(self.zone).date().isoformat()
            local = datetime.fromisoformat(f"{self.date or today}T{self.time or '12:00'}")
        except ValueError:
            return None
        clock = local.replace(tzinfo=self.zone)
        return clock if clock <= datetime.now(UTC) + MAX_AHEAD else None

    def now(self) -> datetime:
        """The time of this visit: the panel's clock, else the real one."""
        return self.clock() or datetime.now(UTC)

    def headers(self) -> dict[bytes, bytes]:
        """The request headers this visitor's browser and the CDN would send."""
        country, region, lat, lon, zone = CITIES[self.city]
        out = {
            b"user-agent": DEVICES[self.device].encode(),
            b"cf-ipcountry": country.encode(),
            b"cf-region-code": region.encode(),
            b"cf-ipcity": self.city.encode(),
            b"cf-iplatitude": str(lat).encode(),
            b"cf-iplongitude": str(lon).encode(),
            b"cf-timezone": zone.encode(),
        }
        referrer = ARRIVALS[self.arrival][0]
        if referrer is not None:
            out[b"referer"] = referrer.encode()
        return out

    def utm(self) -> str:
        """The UTM query string of this visitor's arrival ("" when none)."""
        return urlencode(ARRIVALS[self.arrival][1])

    def left_and_came_back(self, before: Panel, timeout: timedelta) -> bool:
        """Whether moving the clock from ``before`` to this panel ends the visit."""
        old, new = before.clock(), self.clock()
        return old is not None and new is not None and new - old > timeout


def _cookie(header: str, name: str) -> str | None:
    """The value of the first cookie called ``name`` in a ``Cookie`` header."""
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip('"')
    return None


class DemoHeaders:
    """ASGI middleware: rewrite each request as the panel's visitor would send it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Rewrite the headers (and UTM parameters) of ``http`` requests."""
        if scope.get("type") == "http":
            headers = [(bytes(k).lower(), bytes(v)) for k, v in scope.get("headers", ())]
            cookie = b"; ".join(v for k, v in headers if k == b"cookie").decode("latin-1")
            panel = Panel.from_cookie(cookie)
            replaced = panel.headers()
            drop = {*replaced, b"referer"}
            kept = [(k, v) for k, v in headers if k not in drop and not k.startswith(b"cf-")]
            scope = {**scope, "headers": [*kept, *replaced.items()]}
            utm = panel.utm()
            if utm and b"utm_" not in scope.get("query_string", b""):
                query = scope.get("query_string", b"")
                joined = query + b"&" + utm.encode() if query else utm.encode()
                scope["query_string"] = joined
            scope["demo_panel"] = panel
        await self.app(scope, receive, send)
