"""Django: a middleware configured from ``settings.PERSONALIZE``.

```python
MIDDLEWARE = [..., "personalize.web.django.PersonalizeMiddleware"]
PERSONALIZE = {
    "PERSONALIZER": "shop.personalization:personalizer",  # or the object itself
    "SECRET": env("PZ_SECRET"),  # default: settings.SECRET_KEY
    "COOKIE_NAME": "pz_visitor",
    "MAX_AGE": timedelta(days=365),
    "SESSION_TIMEOUT": timedelta(minutes=30),
    "SECURE": True,
    "SAME_SITE": "lax",
    "TRACK_PAGE_VIEWS": True,  # HTML pages served to GETs become page_view events
    "UNTRACKED_PATHS": ["/static/", "/favicon.ico"],
}
```

Views read ``request.personalization`` (a :class:`~personalize.web.Personalization`);
the refreshed visitor cookie is set on every response. Every problem in the settings is
reported at once, each with its path, as a :class:`~personalize.ConfigError`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from personalize._personalizer import Personalizer
from personalize.errors import ConfigError, Problem
from personalize.web._core import Personalization
from personalize.web._identity import IdentitySettings, read_identity, signed_value
from personalize.web._request import request_from_wsgi

try:
    from django.conf import settings as django_settings
    from django.http import HttpRequest, HttpResponse
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "personalize.web.django needs Django: pip install 'personalize[django]'"
    ) from exc

__all__ = ["PersonalizeMiddleware", "load_settings"]

_KEYS = {
    "PERSONALIZER",
    "SECRET",
    "COOKIE_NAME",
    "MAX_AGE",
    "SESSION_TIMEOUT",
    "SECURE",
    "SAME_SITE",
    "TRACK_PAGE_VIEWS",
    "UNTRACKED_PATHS",
}


class PersonalizeMiddleware:
    """Gives each request ``request.personalization`` and the visitor cookie.

    Args:
        get_response: The next handler, as Django passes it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        config = getattr(django_settings, "PERSONALIZE", {})
        self.personalizer, self.settings = load_settings(
            config, default_secret=getattr(django_settings, "SECRET_KEY", None)
        )
        self.track_page_views = bool(config.get("TRACK_PAGE_VIEWS", True))
        self.untracked_paths = tuple(config.get("UNTRACKED_PATHS", ("/static/", "/favicon.ico")))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Personalize one request and set the refreshed cookie on its response."""
        req = request_from_wsgi(request.META)
        identity = read_identity(req.headers.get("cookie"), self.settings)
        pz = Personalization(req, identity, self.personalizer)
        request.personalization = pz
        response = self.get_response(request)
        s = self.settings
        response.set_cookie(
            s.cookie_name,
            signed_value(pz.identity, s),
            max_age=int(s.max_age.total_seconds()),
            path=s.path,
            domain=s.domain,
            secure=s.secure,
            httponly=True,
            samesite=s.same_site.capitalize(),
        )
        path = request.path
        if (
            self.track_page_views
            and not path.startswith(self.untracked_paths)
            and pz.records_page(
                request.method or "", path, response.status_code, response.get("Content-Type", "")
            )
        ):
            pz.track_page()
        return response


def load_settings(
    config: Mapping[str, Any], *, default_secret: str | None = None
) -> tuple[Personalizer | None, IdentitySettings]:
    """Read ``settings.PERSONALIZE``; every problem is reported at once.

    Args:
        config: The ``PERSONALIZE`` mapping.
        default_secret: The secret when ``SECRET`` is not given (Django's ``SECRET_KEY``).

    Raises:
        ConfigError: With a problem per bad key, each under ``PERSONALIZE.<KEY>``.
    """
    problems: list[Problem] = []
    if not isinstance(config, Mapping):
        raise ConfigError([Problem("PERSONALIZE", "must be a dict")])
    problems.extend(
        Problem(f"PERSONALIZE.{key}", "unknown setting") for key in sorted(set(config) - _KEYS)
    )
    personalizer = _personalizer(config.get("PERSONALIZER"), problems)
    secret = config.get("SECRET", default_secret)
    if not isinstance(secret, str | bytes):
        problems.append(Problem("PERSONALIZE.SECRET", "required (or set SECRET_KEY)"))
    durations = {}
    for key, default in (
        ("MAX_AGE", timedelta(days=365)),
        ("SESSION_TIMEOUT", timedelta(minutes=30)),
    ):
        value = config.get(key, default)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = timedelta(seconds=value)
        if not isinstance(value, timedelta):
            problems.append(Problem(f"PERSONALIZE.{key}", "must be a timedelta or seconds"))
            value = default
        durations[key] = value
    if not isinstance(config.get("TRACK_PAGE_VIEWS", True), bool):
        problems.append(Problem("PERSONALIZE.TRACK_PAGE_VIEWS", "must be true or false"))
    untracked = config.get("UNTRACKED_PATHS", ())
    if not isinstance(untracked, list | tuple) or not all(isinstance(x, str) for x in untracked):
        problems.append(Problem("PERSONALIZE.UNTRACKED_PATHS", "must be a list of path prefixes"))
    secure = config.get("SECURE", True)
    if not isinstance(secure, bool):
        problems.append(Problem("PERSONALIZE.SECURE", "must be true or false"))
    same_site = str(config.get("SAME_SITE", "lax")).lower()
    settings: IdentitySettings | None = None
    if isinstance(secret, str | bytes):
        try:
            settings = IdentitySettings(
                secret=secret,
                cookie_name=config.get("COOKIE_NAME", "pz_visitor"),
                max_age=durations["MAX_AGE"],
                session_timeout=durations["SESSION_TIMEOUT"],
                secure=bool(secure),
                same_site=same_site,  # type: ignore[arg-type]
            )
        except ConfigError as exc:
            problems.extend(
                Problem(f"PERSONALIZE.{_SETTING_KEYS.get(p.path, p.path)}", p.message)
                for p in exc.problems
            )
    if problems or settings is None:
        raise ConfigError(problems, source="settings.PERSONALIZE")
    return personalizer, settings


_SETTING_KEYS = {
    "secret": "SECRET",
    "cookie_name": "COOKIE_NAME",
    "max_age": "MAX_AGE",
    "session_timeout": "SESSION_TIMEOUT",
    "same_site": "SAME_SITE",
}


def _personalizer(value: Any, problems: list[Problem]) -> Personalizer | None:
    """A Personalizer, a zero-argument factory, or ``"module:attribute"`` naming either."""
    if value is None:
        return None
    if isinstance(value, str):
        module, sep, attr = value.partition(":") if ":" in value else value.rpartition(".")
        try:
            value = getattr(importlib.import_module(module), attr) if sep else None
        except (ImportError, AttributeError) as exc:
            problems.append(Problem("PERSONALIZE.PERSONALIZER", f"cannot import: {exc}"))
            return None
    if callable(value) and not isinstance(value, Personalizer):
        value = value()
    if not isinstance(value, Personalizer):
        problems.append(
            Problem("PERSONALIZE.PERSONALIZER", "must be a Personalizer or 'module:attribute'")
        )
        return None
    return value
