"""Who is visiting: an anonymous visitor id and a session id, kept in a signed cookie.

The cookie holds a small JSON payload, URL-safe base64 encoded and signed with
HMAC-SHA256 over the cookie name and the payload. It is ``HttpOnly``, ``SameSite=Lax`` and,
by default, ``Secure``. A cookie that is missing, malformed, signed with another secret or
older than its lifetime gives a fresh identity; one idle for longer than the session
timeout keeps its visitor id and starts a new session.

These functions know nothing of any web framework; the adapters call them with the
``Cookie`` header they read and send back the ``Set-Cookie`` value they get.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

from personalize.errors import ConfigError, Problem

__all__ = ["Identity", "IdentitySettings", "identity_cookie", "read_identity", "signed_value"]

#: Longest customer id kept in the cookie; longer ids are not linked.
MAX_ID_CHARS = 256
#: Longest cookie value read; anything longer is not ours.
MAX_COOKIE_CHARS = 2048
_VERSION = 1


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """How the identity cookie is signed, named and scoped.

    Attributes:
        secret: The signing key (keep it out of the source; at least 16 characters).
        cookie_name: The cookie's name.
        max_age: How long the cookie lives without a visit.
        session_timeout: Idle time after which the next request starts a new session.
        secure: Send the cookie over HTTPS only. Turn off only for local development.
        same_site: The cookie's ``SameSite`` attribute.
        path: The cookie's ``Path``.
        domain: The cookie's ``Domain``, or ``None`` for the host only.
    """

    secret: str | bytes
    cookie_name: str = "pz_visitor"
    max_age: timedelta = timedelta(days=365)
    session_timeout: timedelta = timedelta(minutes=30)
    secure: bool = True
    same_site: Literal["lax", "strict", "none"] = "lax"
    path: str = "/"
    domain: str | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if len(self.secret) < 16:
            problems.append(Problem("secret", "must be at least 16 characters long"))
        if not self.cookie_name or not all(
            c.isascii() and (c.isalnum() or c in "-_.") for c in self.cookie_name
        ):
            problems.append(Problem("cookie_name", "must be letters, digits, '-', '_' or '.'"))
        if self.max_age <= timedelta(0):
            problems.append(Problem("max_age", "must be positive"))
        if self.session_timeout <= timedelta(0):
            problems.append(Problem("session_timeout", "must be positive"))
        if self.same_site not in ("lax", "strict", "none"):
            problems.append(Problem("same_site", "must be 'lax', 'strict' or 'none'"))
        if self.same_site == "none" and not self.secure:
            problems.append(Problem("same_site", "'none' requires secure=True"))
        if problems:
            raise ConfigError(problems, source="identity settings")

    @property
    def key(self) -> bytes:
        """The secret as bytes."""
        return self.secret.encode() if isinstance(self.secret, str) else self.secret


@dataclass(frozen=True, slots=True)
class Identity:
    """One visitor as the cookie knows them.

    Attributes:
        visitor_id: A random id for this browser, stable across sessions.
        session_id: A random id for the current session; it changes after an idle timeout.
        customer_id: The signed-in customer, once the app has linked one.
        session_started: When the session began (Unix seconds).
        last_seen: The time of this request (Unix seconds).
        is_new: True when no valid cookie came with the request.
        new_session: True when this request started a session.
    """

    visitor_id: str
    session_id: str
    customer_id: str | None = None
    session_started: float = 0.0
    last_seen: float = 0.0
    is_new: bool = False
    new_session: bool = False

    @property
    def user_id(self) -> str:
        """The id to personalize for: the customer's when linked, else the visitor's."""
        return self.customer_id or self.visitor_id

    def link_customer(self, customer_id: str | None) -> Identity:
        """This identity with ``customer_id`` linked (``None`` unlinks, e.g. on log-out).

        Ids longer than :data:`MAX_ID_CHARS` are not linked.
        """
        if customer_id is not None and not (0 < len(customer_id) <= MAX_ID_CHARS):
            return self
        return replace(self, customer_id=customer_id)

    def restart_session(self, now: float) -> Identity:
        """This visitor in a fresh session that starts at ``now`` (Unix seconds)."""
        return replace(
            self, session_id=_new_id(), session_started=now, last_seen=now, new_session=True
        )


def new_identity(now: float) -> Identity:
    """A fresh visitor with a fresh session."""
    return Identity(
        visitor_id=_new_id(),
        session_id=_new_id(),
        session_started=now,
        last_seen=now,
        is_new=True,
        new_session=True,
    )


def read_identity(
    cookie_header: str | None, settings: IdentitySettings, *, now: float | None = None
) -> Identity:
    """The visitor of a request, from its ``Cookie`` header. Never raises.

    Args:
        cookie_header: The request's ``Cookie`` header, or ``None``.
        settings: The cookie's name, secret, lifetime and session timeout.
        now: The request time in Unix seconds (default: the clock).

    Returns:
        The identity the cookie carries, with a new session when the old one was idle
        longer than ``settings.session_timeout``; a fresh identity when the cookie is
        missing, tampered with or expired.
    """
    now = time.time() if now is None else now
    value = _cookie_value(cookie_header, settings.cookie_name)
    data = _verify(value, settings) if value is not None else None
    if data is None:
        return new_identity(now)
    visitor, session, customer, started, seen = data
    if not (now - settings.max_age.total_seconds() <= seen <= now + 300):
        return new_identity(now)
    if now - seen > settings.session_timeout.total_seconds():
        return Identity(visitor, _new_id(), customer, now, now, new_session=True)
    return Identity(visitor, session, customer, started, now)


def signed_value(identity: Identity, settings: IdentitySettings) -> str:
    """The cookie's value alone (payload and signature), for frameworks that set cookies
    through their own API.

    Args:
        identity: The identity to store (its ``last_seen`` is the cookie's time).
        settings: The cookie's name and secret.
    """
    payload = {
        "v": _VERSION,
        "vid": identity.visitor_id,
        "sid": identity.session_id,
        "cid": identity.customer_id,
        "ss": int(identity.session_started),
        "ls": int(identity.last_seen),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_sign(settings, body)}"


def identity_cookie(identity: Identity, settings: IdentitySettings) -> str:
    """The ``Set-Cookie`` header value that stores ``identity``.

    Args:
        identity: The identity to store (its ``last_seen`` is the cookie's time).
        settings: The cookie's name, secret and attributes.
    """
    parts = [
        f"{settings.cookie_name}={signed_value(identity, settings)}",
        f"Max-Age={int(settings.max_age.total_seconds())}",
        f"Path={settings.path}",
        "HttpOnly",
        f"SameSite={settings.same_site.capitalize()}",
    ]
    if settings.domain:
        parts.append(f"Domain={settings.domain}")
    if settings.secure:
        parts.append("Secure")
    return "; ".join(parts)


def _cookie_value(header: str | None, name: str) -> str | None:
    if not isinstance(header, str):
        return None
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            value = value.strip().strip('"')
            return value if len(value) <= MAX_COOKIE_CHARS else None
    return None


_Payload = tuple[str, str, str | None, float, float]


def _verify(value: str, settings: IdentitySettings) -> _Payload | None:
    if not value.isascii():
        return None
    body, sep, signature = value.rpartition(".")
    if not sep or not hmac.compare_digest(signature, _sign(settings, body)):
        return None
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(data, dict) or data.get("v") != _VERSION:
        return None
    visitor: Any = data.get("vid")
    session: Any = data.get("sid")
    customer: Any = data.get("cid")
    started, seen = data.get("ss"), data.get("ls")
    if not (_is_id(visitor) and _is_id(session)):
        return None
    if customer is not None and not _is_id(customer):
        return None
    if not (isinstance(started, int) and isinstance(seen, int)):
        return None
    return visitor, session, customer, float(started), float(seen)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS


def _sign(settings: IdentitySettings, body: str) -> str:
    message = f"{settings.cookie_name}.{body}".encode()
    return _b64(hmac.new(settings.key, message, hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _new_id() -> str:
    return secrets.token_urlsafe(16)
