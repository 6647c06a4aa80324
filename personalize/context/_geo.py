"""Where the visitor is: a MaxMind database lookup, CDN geo headers, and derived facts.

CDN geo headers are plain request headers: any client can send ``CF-IPCountry: CA``. They are
read only from the CDNs named in ``trusted_cdn`` (a CDN overwrites its own headers, so behind
it they are the CDN's word); the headers of other CDNs are ignored, with a note.

Derived facts, the same whatever the source:

* ``hemisphere``: ``north`` when latitude >= 0, else ``south``. Without a latitude, the
  hemisphere of the country's time zones (tzdata's ``zone.tab``) when they all agree.
* ``climate``: a band from the absolute latitude ``|lat|`` in degrees:
  ``tropical`` < 23.5 <= ``subtropical`` < 35 <= ``temperate`` < 55 <= ``cold`` < 66.5
  <= ``polar``. (23.5 and 66.5 are the tropics and polar circles; 35 and 55 split the
  mid-latitudes roughly where winter snow becomes the rule.)
* ``timezone``: the database's or header's zone; else, for a country with a single zone in
  ``zone.tab``, that zone.
* ``is_eu``: the database's ``is_in_european_union``; for headers, membership of the 27 EU
  countries.
"""

from __future__ import annotations

import importlib.resources
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

import geoip2.database
import geoip2.errors
from cachetools import LRUCache

from personalize._types import CDN_NAMES, CDNName
from personalize.context._client_ip import IPAddress
from personalize.context._model import Geo
from personalize.errors import ConfigError, Problem

__all__ = [
    "CDN_HEADERS",
    "CDN_NAMES",
    "EU_COUNTRIES",
    "CDNName",
    "GeoLocator",
    "climate_band",
    "demo_geoip_path",
    "finish_geo",
    "geo_from_headers",
    "untrusted_cdn_notes",
]


#: Climate bands by absolute latitude: (upper bound, band); at or above the last: ``polar``.
CLIMATE_BANDS: tuple[tuple[float, str], ...] = (
    (23.5, "tropical"),
    (35.0, "subtropical"),
    (55.0, "temperate"),
    (66.5, "cold"),
)

#: The 27 member states of the European Union (ISO 3166-1 alpha-2).
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)

#: Country values CDNs send when they do not know (Cloudflare XX/T1, App Engine ZZ).
_UNKNOWN_COUNTRIES = frozenset({"", "XX", "ZZ", "T1", "A1", "A2", "O1", "EU", "AP"})


@dataclass(frozen=True, slots=True)
class CDNHeaders:
    """The header names one CDN uses for each geo field (lower case; ``None``: not sent).

    ``latlong`` names a single ``"lat,long"`` header (App Engine).
    """

    name: str
    country: str
    region: str | None = None
    city: str | None = None
    postal: str | None = None
    continent: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    latlong: str | None = None
    timezone: str | None = None
    city_url_encoded: bool = False


#: The CDN geo headers read, in order of preference (the first with a country wins).
CDN_HEADERS: tuple[CDNHeaders, ...] = (
    CDNHeaders(
        "cloudflare",
        country="cf-ipcountry",
        region="cf-region-code",
        city="cf-ipcity",
        postal="cf-postal-code",
        continent="cf-ipcontinent",
        latitude="cf-iplatitude",
        longitude="cf-iplongitude",
        timezone="cf-timezone",
    ),
    CDNHeaders(
        "cloudfront",
        country="cloudfront-viewer-country",
        region="cloudfront-viewer-country-region",
        city="cloudfront-viewer-city",
        postal="cloudfront-viewer-postal-code",
        latitude="cloudfront-viewer-latitude",
        longitude="cloudfront-viewer-longitude",
        timezone="cloudfront-viewer-time-zone",
    ),
    CDNHeaders(
        "vercel",
        country="x-vercel-ip-country",
        region="x-vercel-ip-country-region",
        city="x-vercel-ip-city",
        postal="x-vercel-ip-postal-code",
        continent="x-vercel-ip-continent",
        latitude="x-vercel-ip-latitude",
        longitude="x-vercel-ip-longitude",
        timezone="x-vercel-ip-timezone",
        city_url_encoded=True,
    ),
    CDNHeaders(
        "fastly",
        country="x-fastly-country-code",
        region="x-fastly-region",
        city="x-fastly-city",
        latitude="x-fastly-latitude",
        longitude="x-fastly-longitude",
    ),
    CDNHeaders(
        "appengine",
        country="x-appengine-country",
        region="x-appengine-region",
        city="x-appengine-city",
        latlong="x-appengine-citylatlong",
    ),
)


def demo_geoip_path() -> Path:
    """The path of the small demo City database bundled with personalize.

    It maps only the documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
    2001:db8::/32 (to Toronto, London, Sydney, Oslo, Singapore, New York ...); pass the path of
    a real GeoLite2-City.mmdb in production.
    """
    return Path(str(importlib.resources.files("personalize") / "data" / "demo-city.mmdb"))


def climate_band(latitude: float) -> str:
    """The climate band of a latitude (see the module docstring for the thresholds)."""
    absolute = abs(latitude)
    for bound, band in CLIMATE_BANDS:
        if absolute < bound:
            return band
    return "polar"


def _zone_tab_coordinate(text: str) -> float:
    """``+DDMM``/``+DDMMSS`` (latitude) or ``+DDDMM``/``+DDDMMSS`` (longitude) in degrees."""
    sign = -1.0 if text[0] == "-" else 1.0
    digits = text[1:]
    width = 2 if len(digits) in (4, 6) else 3
    degrees = int(digits[:width])
    minutes = int(digits[width : width + 2])
    seconds = int(digits[width + 2 :] or 0)
    return sign * (degrees + minutes / 60 + seconds / 3600)


def _load_country_zones() -> dict[str, tuple[tuple[tuple[str, float, float], ...], str | None]]:
    """Country code -> (its zones with their coordinates, its hemisphere if all zones agree),
    from tzdata's ``zone.tab``."""
    zones: dict[str, list[tuple[str, float, float]]] = {}
    try:
        text = (importlib.resources.files("tzdata.zoneinfo") / "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - tzdata is a dependency
        return {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        coords = fields[1]
        split = max(coords.rfind("+"), coords.rfind("-"))
        latitude = _zone_tab_coordinate(coords[:split])
        longitude = _zone_tab_coordinate(coords[split:])
        zones.setdefault(fields[0], []).append((fields[2], latitude, longitude))
    result: dict[str, tuple[tuple[tuple[str, float, float], ...], str | None]] = {}
    for country, entries in zones.items():
        signs = {lat >= 0 for _, lat, _ in entries}
        hemisphere = None if len(signs) > 1 else ("north" if signs == {True} else "south")
        result[country] = (tuple(entries), hemisphere)
    return result


def _nearest_zone(
    zones: tuple[tuple[str, float, float], ...], latitude: float, longitude: float
) -> str:
    scale = math.cos(math.radians(latitude)) ** 2
    return min(zones, key=lambda z: (z[1] - latitude) ** 2 + scale * (z[2] - longitude) ** 2)[0]


_COUNTRY_ZONES = _load_country_zones()


def finish_geo(geo: Geo) -> Geo:
    """Fill the derived fields (hemisphere, climate, fallback timezone, is_eu) of ``geo``."""
    hemisphere, climate, timezone, is_eu = geo.hemisphere, geo.climate, geo.timezone, geo.is_eu
    if geo.latitude is not None:
        hemisphere = "north" if geo.latitude >= 0 else "south"
        climate = climate_band(geo.latitude)
    if geo.country is not None:
        zones, country_hemisphere = _COUNTRY_ZONES.get(geo.country, ((), None))
        if hemisphere is None:
            hemisphere = country_hemisphere
        if timezone is None and len(zones) == 1:
            timezone = zones[0][0]
        elif timezone is None and zones and geo.latitude is not None and geo.longitude is not None:
            timezone = _nearest_zone(zones, geo.latitude, geo.longitude)
        if is_eu is None:
            is_eu = geo.country in EU_COUNTRIES
    return replace(geo, timezone=timezone, is_eu=is_eu, hemisphere=hemisphere, climate=climate)


def _coordinate(text: str | None, limit: float) -> float | None:
    if not text:
        return None
    try:
        value = float(text.strip()[:40])
    except ValueError:
        return None
    return value if math.isfinite(value) and -limit <= value <= limit else None


def _text(headers: Mapping[str, str], name: str | None, url_encoded: bool = False) -> str | None:
    if name is None:
        return None
    value = headers.get(name, "").strip()[:200]
    if url_encoded and "%" in value:
        value = unquote(value, errors="replace")
    return value or None


def untrusted_cdn_notes(
    headers: Mapping[str, str], untrusted: tuple[CDNHeaders, ...], notes: list[str]
) -> None:
    """Note each CDN country header present in ``headers`` from a CDN that is not trusted."""
    notes.extend(
        f"geo: ignored {cdn.country} ({cdn.name} is not in trusted_cdn)"
        for cdn in untrusted
        if cdn.country in headers
    )


def geo_from_headers(
    headers: Mapping[str, str], notes: list[str], trusted: tuple[CDNHeaders, ...] = CDN_HEADERS
) -> Geo | None:
    """Read geo facts from the first trusted CDN whose country header is present and known.

    Args:
        headers: Request headers with lower-cased names.
        notes: Where to record what degraded.
        trusted: The CDNs to read, in order of preference.
    """
    for cdn in trusted:
        raw = headers.get(cdn.country)
        if raw is None:
            continue
        country = raw.strip().upper()[:8]
        if country in _UNKNOWN_COUNTRIES or len(country) != 2 or not country.isalpha():
            notes.append(f"geo: {cdn.name} header has no usable country ({raw[:20]!r})")
            continue
        latitude = _coordinate(_text(headers, cdn.latitude), 90.0)
        longitude = _coordinate(_text(headers, cdn.longitude), 180.0)
        latlong = _text(headers, cdn.latlong)
        if latlong is not None and "," in latlong:
            lat_text, lon_text = latlong.split(",", 1)
            latitude, longitude = _coordinate(lat_text, 90.0), _coordinate(lon_text, 180.0)
        continent = _text(headers, cdn.continent)
        return Geo(
            country=country,
            region=_text(headers, cdn.region),
            city=_text(headers, cdn.city, cdn.city_url_encoded),
            postal=_text(headers, cdn.postal),
            continent=continent.upper() if continent else None,
            latitude=latitude,
            longitude=longitude,
            timezone=_text(headers, cdn.timezone),
            source="header",
        )
    return None


class GeoLocator:
    """Look addresses up in a MaxMind City or Country database, with an LRU cache.

    The locations come back finished (:func:`finish_geo`), and are cached so.

    Args:
        geoip: A path to an ``.mmdb`` file or an open ``geoip2.database.Reader``.
        cache_size: How many addresses to remember (0 disables the cache).

    Raises:
        ConfigError: The file cannot be opened, or is neither a City nor a Country database.
    """

    def __init__(
        self, geoip: str | os.PathLike[str] | geoip2.database.Reader, cache_size: int = 4096
    ) -> None:
        if isinstance(geoip, geoip2.database.Reader):
            self._reader = geoip
        else:
            try:
                self._reader = geoip2.database.Reader(os.fspath(geoip))
            except (OSError, ValueError) as exc:
                problem = Problem("geoip", f"cannot open MaxMind database {geoip!s}: {exc}")
                raise ConfigError([problem]) from exc
        self.database_type = self._reader.metadata().database_type
        if "City" in self.database_type or "Enterprise" in self.database_type:
            self._city = True
        elif "Country" in self.database_type:
            self._city = False
        else:
            problem = Problem(
                "geoip",
                f"database type {self.database_type!r} is neither a City nor a Country database",
                "GeoLite2-City.mmdb or GeoLite2-Country.mmdb",
            )
            raise ConfigError([problem])
        self._cache: LRUCache[IPAddress, Geo | None] | None = (
            LRUCache(maxsize=cache_size) if cache_size > 0 else None
        )
        self._lock = threading.Lock()

    def lookup(self, address: IPAddress, notes: list[str]) -> Geo | None:
        """The location of ``address``, or ``None`` (with a note) when the database lacks it."""
        cache = self._cache
        if cache is not None:
            with self._lock:
                if address in cache:
                    geo = cache[address]
                    if geo is None:
                        notes.append(f"geo: {address} not in the database")
                    return geo
        geo = self._lookup(address, notes)
        if cache is not None:
            with self._lock:
                cache[address] = geo
        return geo

    def _lookup(self, address: IPAddress, notes: list[str]) -> Geo | None:
        geo = self._read(address, notes)
        return finish_geo(geo) if geo is not None else None

    def _read(self, address: IPAddress, notes: list[str]) -> Geo | None:
        try:
            if self._city:
                city = self._reader.city(address)
                location, subdivision = city.location, city.subdivisions.most_specific
                return Geo(
                    country=city.country.iso_code,
                    region=subdivision.iso_code or subdivision.name,
                    city=city.city.name,
                    postal=city.postal.code,
                    continent=city.continent.code,
                    latitude=location.latitude,
                    longitude=location.longitude,
                    timezone=location.time_zone,
                    is_eu=city.country.is_in_european_union,
                    source="mmdb",
                )
            country = self._reader.country(address)
            return Geo(
                country=country.country.iso_code,
                continent=country.continent.code,
                is_eu=country.country.is_in_european_union,
                source="mmdb",
            )
        except geoip2.errors.AddressNotFoundError:
            notes.append(f"geo: {address} not in the database")
        except (ValueError, geoip2.errors.GeoIP2Error) as exc:
            notes.append(f"geo: lookup of {address} failed ({exc})")
            return None
        return None

    def close(self) -> None:
        """Close the database file."""
        self._reader.close()
