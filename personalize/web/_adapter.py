"""What the Flask extension and the ASGI middleware share: their options and how they read them.

Each adapter subclasses :class:`Adapter` and takes ``**options: Unpack[AdapterOptions]``
after its own app argument, so the keywords, their defaults and the cookie settings they
build are written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Literal, TypedDict, Unpack

from personalize._personalizer import Personalizer
from personalize.web._core import identity_settings
from personalize.web._identity import IdentitySettings

__all__ = ["Adapter", "AdapterOptions"]


class AdapterOptions(TypedDict, total=False):
    """The keywords every framework adapter accepts (see :class:`Adapter` for defaults)."""

    personalizer: Personalizer | None
    secret: str | bytes | None
    settings: IdentitySettings | None
    cookie_name: str
    max_age: timedelta
    session_timeout: timedelta
    secure: bool
    same_site: Literal["lax", "strict", "none"]
    track_page_views: bool
    untracked_paths: Iterable[str]


class Adapter:
    """The options of a framework adapter, resolved: personalizer, cookie settings, tracking."""

    def __init__(self, **options: Unpack[AdapterOptions]) -> None:
        self.personalizer = options.get("personalizer")
        self.track_page_views = options.get("track_page_views", True)
        self.untracked_paths = tuple(options.get("untracked_paths", ("/static/", "/favicon.ico")))
        self.settings = identity_settings(
            options.get("settings"),
            options.get("secret"),
            cookie_name=options.get("cookie_name", "pz_visitor"),
            max_age=options.get("max_age", timedelta(days=365)),
            session_timeout=options.get("session_timeout", timedelta(minutes=30)),
            secure=options.get("secure", True),
            same_site=options.get("same_site", "lax"),
        )
