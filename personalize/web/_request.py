"""Build a :class:`~personalize.Request` from an ASGI scope or a WSGI environ.

Both readers are best effort and never raise: a header that is no pair of byte strings, a
missing key or a value of the wrong type is skipped or read as missing. Header names come out
lower-cased; repeated headers are joined the way RFC 9110 (section 5.3) allows, with ``, ``,
except ``Cookie``, whose parts are joined with ``; `` (RFC 6265, section 5.4).

Forwarding headers (``Forwarded``, ``X-Forwarded-For``, ``X-Real-IP``) are passed through,
and ``Request.ip`` is the peer of the connection: which forwarded address to believe is
decided later by the :class:`~personalize.ContextResolver`, from its trusted-proxy settings.
Their right ends are what our proxies wrote, so they are read whatever else the request
carries: a long value is cut from the left (other headers keep their start), and every
instance is read even past :data:`MAX_HEADERS` (a proxy may add its own after the client's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from personalize._models import Request
from personalize._types import FORWARDED_HEADERS

__all__ = ["request_from_asgi", "request_from_wsgi"]

#: Longest header value kept; longer values are cut: a forwarding header keeps its right
#: end (what our proxies appended, all the resolver reads), any other its start.
MAX_HEADER_CHARS = 16384
#: Most header fields read from one request, forwarding headers aside (always read).
MAX_HEADERS = 256

#: Characters left unescaped when a decoded path is written back into a URL.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def request_from_asgi(scope: Mapping[str, Any]) -> Request:
    """Read an ASGI ``http`` (or ``websocket``) scope into a :class:`~personalize.Request`.

    Args:
        scope: The connection scope the ASGI server passed to the app.

    Returns:
        The request: lower-cased headers, the full URL (scheme, host, root path, path and
        query string), referrer, user agent and the peer address from ``scope["client"]``.
        Fields that cannot be read are ``None``; this never raises.
    """
    if not isinstance(scope, Mapping):
        return Request()
    headers = _join(_asgi_pairs(scope.get("headers")))
    scheme = _text(scope.get("scheme")) or "http"
    host = headers.get("host") or _asgi_server(scheme, scope.get("server"))
    path = _asgi_path(scope)
    query = _latin1(scope.get("query_string"))
    return _build(headers, scheme, host, path, query, _asgi_client(scope.get("client")))


def request_from_wsgi(environ: Mapping[str, Any]) -> Request:
    """Read a WSGI environ (PEP 3333) into a :class:`~personalize.Request`.

    Args:
        environ: The environ the WSGI server passed to the app (Django's ``request.META``
            has the same keys).

    Returns:
        The request: lower-cased headers (``HTTP_*``, ``CONTENT_TYPE``, ``CONTENT_LENGTH``),
        the full URL rebuilt as PEP 3333 describes, referrer, user agent and the peer
        address from ``REMOTE_ADDR``. This never raises.
    """
    if not isinstance(environ, Mapping):
        return Request()
    pairs: list[tuple[str, str]] = []
    for key, value in environ.items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        if key.startswith("HTTP_"):
            pairs.append((key[5:].replace("_", "-").lower(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            pairs.append((key.replace("_", "-").lower(), value))
    headers = _join(pairs)
    host = headers.get("host")
    scheme = _text(environ.get("wsgi.url_scheme")) or "http"
    if not host:
        name, port = _text(environ.get("SERVER_NAME")), _text(environ.get("SERVER_PORT"))
        host = _host(scheme, name, port) if name else None
    # WSGI strings carry the raw bytes as latin-1; encode them back before quoting.
    raw = _text(environ.get("SCRIPT_NAME")) + _text(environ.get("PATH_INFO"))
    path = quote(raw.encode("latin-1", "replace"), safe=_PATH_SAFE)
    query = _text(environ.get("QUERY_STRING"))
    return _build(headers, scheme, host, path, query, _text(environ.get("REMOTE_ADDR")) or None)


def _build(
    headers: dict[str, str],
    scheme: str,
    host: str | None,
    path: str,
    query: str,
    peer: str | None,
) -> Request:
    url = None
    if host:
        url = f"{scheme}://{host}{path or '/'}" + (f"?{query}" if query else "")
    return Request(
        user_agent=headers.get("user-agent"),
        ip=peer,
        headers=headers,
        referrer=headers.get("referer"),
        url=url,
    )


def _join(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased names; repeated fields joined with ``, `` (``; `` for ``cookie``).

    The first :data:`MAX_HEADERS` fields are read, and every forwarding header field.
    """
    out: dict[str, str] = {}
    fields = 0
    for name, value in pairs:
        if not name:
            continue
        forwarding = name in FORWARDED_HEADERS
        if not forwarding:
            if fields >= MAX_HEADERS:
                continue
            fields += 1
        value = value.strip()
        if name in out:
            value = out[name] + ("; " if name == "cookie" else ", ") + value
        out[name] = value[-MAX_HEADER_CHARS:] if forwarding else value[:MAX_HEADER_CHARS]
    return out


def _asgi_pairs(raw: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if not isinstance(raw, Iterable) or isinstance(raw, str | bytes | Mapping):
        return pairs
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) != 2:
            continue
        name, value = _latin1(item[0]).lower(), _latin1(item[1])
        pairs.append((name.strip(), value))
    return pairs


def _asgi_path(scope: Mapping[str, Any]) -> str:
    root = _text(scope.get("root_path"))
    raw = scope.get("raw_path")
    if isinstance(raw, bytes | bytearray) and raw:
        # raw_path is the path as sent (percent-escapes kept); it includes root_path
        # when a server mounts the app below one, so only prefix it when it does not.
        path = quote(bytes(raw), safe=_PATH_SAFE)
        quoted_root = quote(root.encode("utf-8", "replace"), safe=_PATH_SAFE)
        if root and not path.startswith(quoted_root):
            path = quoted_root + path
        return path
    path = _text(scope.get("path"))
    if root and not path.startswith(root):
        path = root + path
    return quote(path.encode("utf-8", "replace"), safe=_PATH_SAFE)


def _asgi_server(scheme: str, server: Any) -> str | None:
    if not isinstance(server, list | tuple) or len(server) != 2:
        return None
    name, port = _text(server[0]), server[1]
    if not name:
        return None
    return _host(scheme, name, str(port) if isinstance(port, int) else None)


def _asgi_client(client: Any) -> str | None:
    if isinstance(client, list | tuple) and client:
        return _text(client[0]) or None
    return None


_DEFAULT_PORTS = {"http": "80", "ws": "80", "https": "443", "wss": "443"}


def _host(scheme: str, name: str, port: str | None) -> str:
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return f"{name}:{port}" if port and port != _DEFAULT_PORTS.get(scheme) else name


def _latin1(value: Any) -> str:
    """Bytes as latin-1 text (every byte maps to one character); text as it is."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
