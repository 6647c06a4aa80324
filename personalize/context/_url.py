"""The request's URL, parsed once: its host and its query string as ordered pairs.

The resolver parses the URL here; the referral reads the UTM parameters and click ids
from it, and the experiments read the forcing parameter (``pz_force``) from
:attr:`~personalize.context.Context.query` instead of parsing the URL again.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

__all__ = ["MAX_URL_CHARS", "ParsedUrl", "parse_url"]

#: Longest URL (and referrer) read; the rest is ignored.
MAX_URL_CHARS = 4096


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    """A URL taken apart.

    Attributes:
        host: The host, lower case, without ``www.`` (empty when there is none).
        query: The raw query string.
        pairs: The query's ``(name, value)`` pairs, in order, names as written; blank
            values are left out.
        malformed: ``urlsplit`` rejected the URL (an invalid IPv6 host ...); the query is
            then what follows the first ``?`` up to a ``#``, and there is no host.
    """

    host: str = ""
    query: str = ""
    pairs: tuple[tuple[str, str], ...] = ()
    malformed: bool = False


_EMPTY = ParsedUrl()


def bare_host(host: str) -> str:
    """``host`` without a trailing dot and a leading ``www.``."""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def parse_url(url: str | None) -> ParsedUrl:
    """Parse the first :data:`MAX_URL_CHARS` characters of ``url``; never raises."""
    if not url:
        return _EMPTY
    text = url.strip()[:MAX_URL_CHARS]
    try:
        parts = urlsplit(text)
        host = bare_host((parts.hostname or "").lower())
        query = parts.query
        malformed = False
    except ValueError:
        host, query, malformed = "", text.partition("?")[2].partition("#")[0], True
    return ParsedUrl(host, query, tuple(parse_qsl(query)), malformed)
