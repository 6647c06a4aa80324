"""Starlette and FastAPI: a pure ASGI middleware and the ``personalization`` dependency.

```python
app = FastAPI()
app.add_middleware(PersonalizeMiddleware, personalizer=p, secret=os.environ["PZ_SECRET"])


@app.get("/")
async def home(pz: Personalization = Depends(personalization)) -> Result:
    return await pz.apersonalize(placement="home")
```

The middleware reads the visitor cookie, builds the :class:`~personalize.Request` from the
ASGI scope, puts a :class:`~personalize.web.Personalization` in ``scope["state"]`` (so
``request.state.personalization`` in views) and adds the refreshed cookie to the response.
Once an HTML page has been answered (a ``GET`` with a status below 400, no redirect), it
records the request as a ``page_view`` in the personalizer's store, awaited through the
async store.
It is plain ASGI, so streaming responses and background tasks pass through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import timedelta
from typing import Any, Literal

from personalize._personalizer import Personalizer
from personalize.store import EventError
from personalize.web._core import Personalization, identity_settings, is_page_status
from personalize.web._identity import IdentitySettings, identity_cookie, read_identity
from personalize.web._request import request_from_asgi

try:
    from starlette.requests import HTTPConnection
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "personalize.web.fastapi needs Starlette: pip install 'personalize[fastapi]'"
    ) from exc

__all__ = ["STATE_KEY", "PersonalizeMiddleware", "personalization"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The key under ``scope["state"]`` (``request.state``) that holds the Personalization.
STATE_KEY = "personalization"


class PersonalizeMiddleware:
    """ASGI middleware giving each HTTP request a :class:`~personalize.web.Personalization`.

    Args:
        app: The ASGI app to wrap.
        personalizer: The :class:`~personalize.Personalizer` to decide with; when omitted,
            ``app.state.personalizer`` is used at request time.
        secret: The key that signs the visitor cookie (or pass ``settings``).
        settings: Complete cookie settings, instead of ``secret`` and the keywords below.
        cookie_name: The cookie's name.
        max_age: The cookie's lifetime.
        session_timeout: Idle time after which a new session starts.
        secure: Mark the cookie ``Secure`` (HTTPS only); turn off for local HTTP only.
        same_site: The cookie's ``SameSite`` attribute.
        track_page_views: Record each HTML page served (``GET``, status below 400) as a
            ``page_view`` in the personalizer's store (a redirect is not one); a view opts
            out with ``pz.track_page_view = False``.
        untracked_paths: Path prefixes never recorded as page views.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        personalizer: Personalizer | None = None,
        secret: str | bytes | None = None,
        settings: IdentitySettings | None = None,
        cookie_name: str = "pz_visitor",
        max_age: timedelta = timedelta(days=365),
        session_timeout: timedelta = timedelta(minutes=30),
        secure: bool = True,
        same_site: Literal["lax", "strict", "none"] = "lax",
        track_page_views: bool = True,
        untracked_paths: Iterable[str] = ("/static/", "/favicon.ico"),
    ) -> None:
        self.app = app
        self.personalizer = personalizer
        self.track_page_views = track_page_views
        self.untracked_paths = tuple(untracked_paths)
        self.settings = identity_settings(
            settings,
            secret,
            cookie_name=cookie_name,
            max_age=max_age,
            session_timeout=session_timeout,
            secure=secure,
            same_site=same_site,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection; only ``http`` requests are personalized."""
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        request = request_from_asgi(scope)
        identity = read_identity(request.headers.get("cookie"), self.settings)
        pz = Personalization(request, identity, self.personalizer or _app_personalizer(scope))
        state = scope.setdefault("state", {})
        state[STATE_KEY] = pz

        served = False

        async def send_with_cookie(message: Message) -> None:
            nonlocal served
            if message.get("type") == "http.response.start":
                cookie = identity_cookie(pz.identity, self.settings).encode("latin-1")
                headers = [*message.get("headers", ()), (b"set-cookie", cookie)]
                message = {**message, "headers": headers}
                served = _is_page(message)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
        if served and pz.track_page_view and self._tracks(scope, pz):
            try:
                await pz.atrack(pz.page_view())
            except EventError:  # a URL or referrer the store refuses: not a page to record
                return

    def _tracks(self, scope: Scope, pz: Personalization) -> bool:
        if not self.track_page_views or scope.get("method") != "GET":
            return False
        path = scope.get("path")
        if not isinstance(path, str) or path.startswith(self.untracked_paths):
            return False
        return pz.personalizer is not None and pz.personalizer.store is not None


async def personalization(request: HTTPConnection) -> Personalization:
    """FastAPI dependency: this request's :class:`~personalize.web.Personalization`.

    Use it as ``pz: Personalization = Depends(personalization)``; it needs
    :class:`PersonalizeMiddleware` on the app.
    """
    found = request.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(found, Personalization):
        raise RuntimeError(
            "personalization needs PersonalizeMiddleware: "
            "app.add_middleware(PersonalizeMiddleware, personalizer=..., secret=...)"
        )
    return found


def _is_page(start: Message) -> bool:
    """Whether a response start is a successful HTML page (no error, no redirect)."""
    status = start.get("status")
    if not isinstance(status, int) or not is_page_status(status):
        return False
    for name, value in start.get("headers", ()):
        if bytes(name).lower() == b"content-type":
            return bytes(value).lower().startswith(b"text/html")
    return False


def _app_personalizer(scope: Scope) -> Personalizer | None:
    app = scope.get("app")
    state = getattr(app, "state", None)
    found = getattr(state, "personalizer", None)
    return found if isinstance(found, Personalizer) else None
