"""Flask: the ``Personalize`` extension and the ``personalization()`` helper.

```python
app = Flask(__name__)
Personalize(app, personalizer=p, secret=os.environ["PZ_SECRET"])


@app.get("/")
def home() -> dict[str, Any]:
    return personalization().personalize(placement="home").to_dict()
```

Before each request the extension reads the visitor cookie and builds the
:class:`~personalize.Request` from the WSGI environ; the
:class:`~personalize.web.Personalization` is bound to ``flask.g``. After the request the
refreshed cookie is added to the response, and an HTML page answered to a ``GET`` is
recorded as a ``page_view`` in the personalizer's store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Literal

from personalize._personalizer import Personalizer
from personalize.web._core import Personalization, identity_settings
from personalize.web._identity import IdentitySettings, identity_cookie, read_identity
from personalize.web._request import request_from_wsgi

try:
    import flask
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "personalize.web.flask needs Flask: pip install 'personalize[flask]'"
    ) from exc

__all__ = ["Personalize", "personalization"]

_G_KEY = "personalization"
_EXTENSION_KEY = "personalize"


class Personalize:
    """The Flask extension.

    Args:
        app: The app; or call :meth:`init_app` later (application factories).
        personalizer: The :class:`~personalize.Personalizer` to decide with.
        secret: The key that signs the visitor cookie (or pass ``settings``).
        settings: Complete cookie settings, instead of ``secret`` and the keywords below.
        cookie_name: The cookie's name.
        max_age: The cookie's lifetime.
        session_timeout: Idle time after which a new session starts.
        secure: Mark the cookie ``Secure`` (HTTPS only); turn off for local HTTP only.
        same_site: The cookie's ``SameSite`` attribute.
        track_page_views: Record each HTML page served (``GET``, status below 400) as a
            ``page_view`` in the personalizer's store (a redirect is not one); a view opts
            out with ``personalization().track_page_view = False``.
        untracked_paths: Path prefixes never recorded as page views.
    """

    def __init__(
        self,
        app: flask.Flask | None = None,
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
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        """Register the extension's request hooks on ``app``."""
        app.extensions[_EXTENSION_KEY] = self
        app.before_request(self._before)
        app.after_request(self._after)

    def _before(self) -> None:
        request = request_from_wsgi(flask.request.environ)
        identity = read_identity(request.headers.get("cookie"), self.settings)
        setattr(flask.g, _G_KEY, Personalization(request, identity, self.personalizer))

    def _after(self, response: flask.Response) -> flask.Response:
        pz = flask.g.get(_G_KEY)
        if isinstance(pz, Personalization):
            response.headers.add("Set-Cookie", identity_cookie(pz.identity, self.settings))
            path = flask.request.path
            if (
                self.track_page_views
                and not path.startswith(self.untracked_paths)
                and pz.records_page(
                    flask.request.method, path, response.status_code, response.content_type or ""
                )
            ):
                pz.track_page()
        return response


def personalization() -> Personalization:
    """This request's :class:`~personalize.web.Personalization` (from ``flask.g``).

    Raises:
        RuntimeError: Outside a request, or when the extension is not registered.
    """
    found = flask.g.get(_G_KEY)
    if not isinstance(found, Personalization):
        raise RuntimeError("personalization() needs Personalize(app, ...) and a request")
    return found
