"""The context resolver: one request and a history in, one :class:`Context` out."""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

import geoip2.database
from cachetools import LRUCache

from personalize._models import History, Request, as_utc, lower_keys
from personalize.context._client_ip import (
    FORWARDED_HEADERS,
    ForwardedHeader,
    IPAddress,
    client_ip,
    is_routable,
)
from personalize.context._device import DeviceDetector, UAEngine
from personalize.context._geo import (
    CDN_HEADERS,
    CDNName,
    GeoLocator,
    finish_geo,
    geo_from_headers,
    untrusted_cdn_notes,
)
from personalize.context._history import session_entry, summarize
from personalize.context._model import Context, Device, Geo, Referral
from personalize.context._referral import ReferralClassifier
from personalize.context._time import load_zone, time_facts
from personalize.context._url import MAX_URL_CHARS, ParsedUrl, parse_url
from personalize.errors import ConfigError, Problem

__all__ = ["ContextResolver"]

#: A parsed page URL, its referral, and the notes working them out made.
_Page = tuple[ParsedUrl, Referral, tuple[str, ...]]

#: Headers beyond this many are ignored (a request may carry a huge header block).
MAX_HEADERS = 256
_CLIENT_HINT_MOBILE = "sec-ch-ua-mobile"


class ContextResolver:
    """Resolve the context of a request: device, geo, local time, referral and behaviour.

    Build one per application and share it: it is thread-safe, and caches user-agent parses
    and geo lookups in bounded LRU caches. :meth:`resolve` never raises on request or
    history data; whatever degrades is written to ``Context.notes``.

    Args:
        geoip: A MaxMind City or Country database: a path, an open
            ``geoip2.database.Reader``, or ``None`` for no database (CDN headers only).
        trusted_proxies: How many proxies of yours stand in front of the app; the
            forwarding header is read through exactly that many hops (0: the peer address
            is the client and no header is read).
        forwarded_header: The one header those proxies write: ``"forwarded"``,
            ``"x-forwarded-for"`` or ``"x-real-ip"``. Required when ``trusted_proxies`` is
            1 or more; no other header is ever read.
        trusted_cdn: The CDNs whose geo headers to read when the database gives nothing
            (``"cloudflare"``, ``"cloudfront"``, ``"vercel"``, ``"fastly"``,
            ``"appengine"``). Any client can send these headers, so name only the CDN the
            app is behind; the headers of the others are ignored, with a note.
        cache_size: Entries of each LRU cache (user agents, IP addresses).
        default_timezone: The zone for local time when the visitor's is unknown.
        referral_hosts: Extra referrer hosts and their source class, e.g.
            ``{"news.example": "social", "bing.*": "search"}``.
        internal_hosts: Hosts of your own shop besides the requested URL's host.
        ua_engine: ``"auto"`` uses ua-parser-rs when installed; ``"basic"`` forces the
            pure-Python parser.

    Raises:
        ConfigError: The database cannot be opened or has an unsupported type, the default
            time zone is unknown, a number is out of range, a header or CDN is unknown, or
            proxies are trusted without naming their header.
    """

    def __init__(
        self,
        geoip: str | os.PathLike[str] | geoip2.database.Reader | None = None,
        *,
        trusted_proxies: int = 0,
        forwarded_header: ForwardedHeader | None = None,
        trusted_cdn: Iterable[CDNName] = (),
        cache_size: int = 4096,
        default_timezone: str = "UTC",
        referral_hosts: Mapping[str, str] | None = None,
        internal_hosts: Iterable[str] | None = None,
        ua_engine: UAEngine = "auto",
    ) -> None:
        if forwarded_header is not None:
            forwarded_header = cast(ForwardedHeader, forwarded_header.lower())
        cdns = [trusted_cdn] if isinstance(trusted_cdn, str) else list(trusted_cdn)
        cdns = [cast(CDNName, name.lower()) if isinstance(name, str) else name for name in cdns]
        problems = forwarding_problems(trusted_proxies, forwarded_header, cdns)
        if cache_size < 0:
            problems.append(Problem("cache_size", "must be 0 or more"))
        zone = load_zone(default_timezone)
        if zone is None:
            problems.append(
                Problem("default_timezone", f"unknown time zone {default_timezone!r}", "UTC")
            )
        bad_classes = {
            host: kind
            for host, kind in (referral_hosts or {}).items()
            if kind not in {"search", "social", "email", "paid", "affiliate", "internal", "other"}
        }
        problems.extend(
            Problem(f"referral_hosts.{host}", f"unknown source {kind!r}")
            for host, kind in bad_classes.items()
        )
        if problems or zone is None:
            raise ConfigError(problems)
        self._default_zone = zone
        self._trusted_proxies = trusted_proxies
        self._forwarded_header = forwarded_header
        self._trusted_cdns = tuple(cdn for cdn in CDN_HEADERS if cdn.name in cdns)
        self._untrusted_cdns = tuple(cdn for cdn in CDN_HEADERS if cdn.name not in cdns)
        self._devices = DeviceDetector(cache_size, ua_engine)
        self._geo = GeoLocator(geoip, cache_size) if geoip is not None else None
        self._referrals = ReferralClassifier(referral_hosts, internal_hosts or ())
        self._pages: LRUCache[tuple[str | None, str | None], _Page] | None = (
            LRUCache(maxsize=cache_size) if cache_size > 0 else None
        )
        self._pages_lock = threading.Lock()

    @property
    def database_type(self) -> str | None:
        """The MaxMind database type in use (``GeoIP2-City`` ...), or ``None``."""
        return self._geo.database_type if self._geo is not None else None

    def resolve(
        self,
        request: Request,
        history: History | None = None,
        *,
        now: datetime | None = None,
        notes: Iterable[str] = (),
    ) -> Context:
        """Resolve the complete context of ``request`` for the customer with ``history``.

        Args:
            request: The incoming request.
            history: The customer's past events and loyalty details, if known.
            now: The moment to resolve at; defaults to ``request.now``, then the clock.
            notes: What the caller already noted about the request (an id cut to length
                ...); they follow the resolver's own notes in :attr:`Context.notes`.

        Returns:
            The context. Never raises on request or history data.
        """
        earlier = tuple(notes)
        notes = []
        moment = _plausible(as_utc(now or request.now or datetime.now(UTC)), notes)
        items = list(request.headers.items())
        raw = dict(items[:MAX_HEADERS])
        headers = lower_keys(raw)
        if len(items) > MAX_HEADERS:
            notes.append(f"headers: only the first {MAX_HEADERS} headers were read")
        if self._forwarded_header is not None and (
            len(items) > MAX_HEADERS or len(headers) < len(raw)
        ):  # the proxies' header is read wherever it is, in whatever case
            _join_instances(items, self._forwarded_header, headers)

        device = self._device(request.user_agent, headers, notes)
        ip_text, address = client_ip(
            request.ip, headers, self._trusted_proxies, self._forwarded_header, notes
        )
        geo = self._locate(address, headers, notes)
        summary = summarize(history, moment, request.session_id, notes)
        local = time_facts(moment, geo.timezone, self._default_zone, geo.hemisphere, notes)
        url, referral = self._page(request, notes)
        return Context(
            device=device,
            geo=geo,
            time=local,
            referral=self._visit_referral(referral, request, history, notes),
            behaviour=summary.behaviour,
            history=summary.history,
            loyalty=summary.loyalty,
            engagement=summary.engagement,
            client_ip=str(address) if address is not None else ip_text,
            user_id=request.user_id,
            session_id=request.session_id,
            notes=(*notes, *earlier),
            query=url.pairs,
        )

    def _page(self, request: Request, notes: list[str]) -> tuple[ParsedUrl, Referral]:
        """The request's URL, parsed, and the referral it and its referrer make.

        Both depend on the two strings only, so they are remembered for the pages and
        referrers seen lately (with the notes they made); longer strings than are read
        are worked out afresh.
        """
        text, referrer = request.url, request.referrer
        key = (text, referrer)
        short = len(text or "") <= MAX_URL_CHARS and len(referrer or "") <= MAX_URL_CHARS
        cache = self._pages if short else None
        if cache is not None:
            with self._pages_lock:
                hit = cache.get(key)
            if hit is not None:
                notes.extend(hit[2])
                return hit[0], hit[1]
        made: list[str] = []
        url = parse_url(text)
        referral = self._referrals.classify(url, referrer, made)
        if cache is not None:
            with self._pages_lock:
                cache[key] = (url, referral, tuple(made))
        notes.extend(made)
        return url, referral

    def _visit_referral(
        self, referral: Referral, request: Request, history: History | None, notes: list[str]
    ) -> Referral:
        """The request's referral; a page inside a visit reads the visit's entry referral."""
        if referral.source not in ("internal", "direct") or history is None:
            return referral
        entry = session_entry(history.profile, request.session_id)
        if entry is None:
            return referral
        return self._referrals.classify(parse_url(entry[0]), entry[1], notes)

    def _device(
        self, user_agent: str | None, headers: Mapping[str, str], notes: list[str]
    ) -> Device:
        if not user_agent or not user_agent.strip():
            notes.append("device: no user agent")
            return Device()
        device = self._devices.detect(user_agent)
        if device.type == "other":
            notes.append("device: unrecognised user agent")
        if headers.get(_CLIENT_HINT_MOBILE) == "?1" and device.type in ("desktop", "other"):
            notes.append("device: Sec-CH-UA-Mobile says mobile")
            return replace(device, type="mobile", is_touch=True)
        return device

    def _locate(
        self, address: IPAddress | None, headers: Mapping[str, str], notes: list[str]
    ) -> Geo:
        geo: Geo | None = None
        if address is not None and not is_routable(address):
            notes.append(f"geo: {address} is a private or reserved address")
        elif address is not None and self._geo is not None:
            geo = self._geo.lookup(address, notes)  # finished already
        if self._untrusted_cdns and headers:
            untrusted_cdn_notes(headers, self._untrusted_cdns, notes)
        if geo is None and self._trusted_cdns:
            geo = geo_from_headers(headers, notes, self._trusted_cdns)
            if geo is not None:
                return finish_geo(geo)
        if geo is None:
            if self._geo is None:
                notes.append("geo: no database configured and no trusted CDN geo header")
            return Geo()
        return geo


def _join_instances(items: Iterable[tuple[str, str]], name: str, headers: dict[str, str]) -> None:
    """Set header ``name`` to its instances, spelled in any case, in order, joined as one
    comma-separated chain (``lower_keys`` keeps only the last, and only of the headers
    read)."""
    values = [str(value) for key, value in items if str(key).lower() == name]
    if values:
        headers[name] = ", ".join(values)


def forwarding_problems(
    trusted_proxies: int, forwarded_header: str | None, trusted_cdn: Iterable[str]
) -> list[Problem]:
    """What is wrong with these client-address and CDN settings (empty: nothing).

    Trusting proxies without naming their header is an error rather than a guess: reading
    the wrong header lets any client choose its address.
    """
    problems: list[Problem] = []
    if trusted_proxies < 0:
        problems.append(Problem("trusted_proxies", "must be 0 or more"))
    if forwarded_header is not None and forwarded_header not in FORWARDED_HEADERS:
        problems.append(
            Problem(
                "forwarded_header",
                f"unknown forwarding header {forwarded_header!r}",
                _closest(forwarded_header, FORWARDED_HEADERS),
            )
        )
    elif trusted_proxies > 0 and forwarded_header is None:
        problems.append(
            Problem(
                "forwarded_header",
                f"trusted_proxies is {trusted_proxies} but no header is named: set the one "
                "your proxies write (forwarded, x-forwarded-for or x-real-ip)",
            )
        )
    known = [cdn.name for cdn in CDN_HEADERS]
    problems.extend(
        Problem("trusted_cdn", f"unknown CDN {name!r}", _closest(str(name), known))
        for name in trusted_cdn
        if name not in known
    )
    return problems


def _closest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.5)
    return found[0] if found else None


#: Request times outside this range are garbage; clamping keeps date arithmetic in range.
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime, notes: list[str]) -> datetime:
    if _EARLIEST <= moment <= _LATEST:
        return moment
    clamped = _EARLIEST if moment < _EARLIEST else _LATEST
    notes.append(f"time: implausible request time {moment.isoformat()}, using {clamped.date()}")
    return clamped
