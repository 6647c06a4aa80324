"""What every adapter hands a view: the request, the visitor, and ``personalize`` and
``track`` bound to both.

Visitor state goes through the :class:`~personalize.Personalizer`'s store: ``personalize``
reads the visitor's history from it (and records what was served), ``track`` writes the
visitor's events to it. The ``a``-prefixed twins await the store's I/O, so an async app
with an ``AsyncStore`` (or a sync store, which the personalizer runs in worker threads for
its async methods) never blocks its event loop on the store.
"""

from __future__ import annotations

import inspect
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from personalize._models import Event, History, Request, as_utc
from personalize.errors import ConfigError
from personalize.store import EventError
from personalize.store._events import MAX_ID_CHARS, storable_url
from personalize.web._identity import Identity, IdentitySettings

if TYPE_CHECKING:
    from personalize._personalizer import Personalizer
    from personalize.result import Result

__all__ = ["Personalization", "identity_settings"]


class Personalization:
    """One request's personalization: who is visiting and what they should see.

    The adapters build one per request and put it where views find it (``request.state``
    in Starlette/FastAPI, ``g`` in Flask, ``request.personalization`` in Django). At the
    end of the request the adapter stores :attr:`identity` in the visitor's cookie, so a
    customer linked here stays linked.

    Attributes:
        identity: The visitor, from the cookie (or fresh).
        personalizer: The :class:`~personalize.Personalizer` that decides, if registered.
        now: The time of this request as the SDK sees it (``None``: the clock). Set it to
            replay or simulate a visit; events built by :meth:`event` carry it too.
        track_page_view: Whether the adapter records this request as a ``page_view``
            (where it does; a view may set it to ``False``).
    """

    __slots__ = ("_request", "identity", "now", "personalizer", "track_page_view")

    def __init__(
        self, request: Request, identity: Identity, personalizer: Personalizer | None = None
    ) -> None:
        self._request = request
        self.identity = identity
        self.personalizer = personalizer
        self.now: datetime | None = None
        self.track_page_view = True

    @property
    def request(self) -> Request:
        """The request as the SDK reads it, with ``user_id`` (the customer, else the
        anonymous visitor) and ``session_id`` from :attr:`identity`."""
        update: dict[str, Any] = {
            "user_id": self.identity.user_id,
            "session_id": self.identity.session_id,
        }
        if self.now is not None:
            update["now"] = self.now
        return self._request.model_copy(update=update)

    def link_customer(self, customer_id: str | None) -> None:
        """Link the signed-in customer to this visitor (``None`` on log-out).

        The link is written to the cookie with the response, so later requests carry it.
        """
        self.identity = self.identity.link_customer(customer_id)

    def new_session(self) -> None:
        """Start a new session for this visitor now (the visitor id stays).

        The store then reads the previous session as ended: a cart left in it becomes
        the abandoned cart, its products what the visitor "left off with".
        """
        # The cookie's clock is the real one: only events and decisions see ``now``.
        self.identity = self.identity.restart_session(time.time())

    def personalize(
        self,
        *,
        placement: str = "home",
        limit: int | None = None,
        product_id: str | None = None,
        history: History | None = None,
    ) -> Result:
        """Decide what this visitor sees; see :meth:`personalize.Personalizer.personalize`.

        Without ``history`` the visitor's history comes from the personalizer's store
        (keyed by :attr:`Identity.user_id`: the customer, else the anonymous visitor).
        Never raises on request or history data. Raises :class:`~personalize.ConfigError`
        when no :class:`~personalize.Personalizer` was registered with the adapter.
        """
        return self._personalizer().personalize(
            self.request, history, placement=placement, limit=limit, product_id=product_id
        )

    async def apersonalize(
        self,
        *,
        placement: str = "home",
        limit: int | None = None,
        product_id: str | None = None,
        history: History | None = None,
    ) -> Result:
        """:meth:`personalize` for async views.

        The decision itself is in-process CPU work of about a millisecond, so it runs on
        the event loop; the store I/O around it (reading the history, recording what was
        served) is awaited (see :meth:`personalize.Personalizer.apersonalize`).
        """
        return await self._personalizer().apersonalize(
            self.request, history, placement=placement, limit=limit, product_id=product_id
        )

    def event(self, type: str, **fields: Any) -> Event:
        """An event of this visitor in this session, at :attr:`now` (else the clock).

        Args:
            type: The event type (``view``, ``add_to_cart``, ``click`` ...).
            **fields: The other :class:`~personalize.Event` fields (``product_id``,
                ``price``, ``decision_id`` ...).
        """
        owner = {"customer_id": self.identity.user_id, "session_id": self.identity.session_id}
        return Event.model_validate({"at": self._time(), **owner, **fields, "type": type})

    def page_view(self) -> Event:
        """This request as a ``page_view`` event: its path, URL and referrer.

        A URL that is no URL (a client's ``Host: [::1`` makes one) is left out; the path
        is still recorded. The path is cut to the 256 characters and the URL and referrer
        to the 4,096 a store accepts, so a long one does not cost the page view.
        """
        request = self._request
        page = _path(request.url)
        return self.event(
            "page_view",
            page=page[:MAX_ID_CHARS] if page is not None else None,
            url=storable_url(request.url),
            referrer=storable_url(request.referrer),
        )

    def click(self, product_id: str, decision_id: str | None) -> Event:
        """A click on a recommended product, attributed to the decision that showed it."""
        return self.event("click", product_id=product_id, decision_id=decision_id)

    def track(self, *events: Event) -> None:
        """Write events of this visitor to the personalizer's store (sync apps).

        Build them with :meth:`event`, :meth:`page_view` or :meth:`click`. A failing store
        does not raise (see :meth:`personalize.Personalizer.track_many`).
        """
        self._personalizer().track_many(events)

    async def atrack(self, *events: Event) -> None:
        """:meth:`track` for async views: the store's I/O is awaited."""
        await self._personalizer().atrack_many(events)

    def records_page(self, method: str, path: str, status: int, content_type: str) -> bool:
        """Whether a response is a page view to record: a ``GET`` answered with an HTML
        page (status below 400, redirects excepted), unless the view set
        :attr:`track_page_view` to ``False`` or no sync store is there to write it (the
        sync adapters' check)."""
        store = self.personalizer.store if self.personalizer is not None else None
        return (
            self.track_page_view
            and method == "GET"
            and is_page_status(status)
            and content_type.lower().startswith("text/html")
            and store is not None
            and not inspect.iscoroutinefunction(store.append)
            and bool(path)
        )

    def track_page(self) -> None:
        """Record this request as a ``page_view`` through the sync store (sync adapters).

        A URL or referrer the store refuses (:class:`~personalize.store.EventError`) is
        not recorded; it never fails the response.
        """
        try:
            self.track(self.page_view())
        except EventError:
            return

    def _time(self) -> datetime:
        return datetime.now(UTC) if self.now is None else as_utc(self.now)

    def _personalizer(self) -> Personalizer:
        if self.personalizer is None:
            raise ConfigError(
                "no Personalizer registered: pass personalizer= to the adapter "
                "(or set app.state.personalizer in Starlette/FastAPI)"
            )
        return self.personalizer


def is_page_status(status: int) -> bool:
    """Whether a response of ``status`` shows a page: below 400 and no redirect (a
    redirect's page is the one it leads to, recorded when the browser gets there; Flask's
    and Django's redirects have an HTML body). ``304 Not Modified`` shows the cached page."""
    return status < 300 or status == 304


def _path(url: str | None) -> str | None:
    """The path of ``url``, also when ``urlsplit`` rejects it (an invalid IPv6 host: the
    ``Host`` header is the client's)."""
    if url is None:
        return None
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        after_host = url.partition("://")[2].partition("/")[2]
        return "/" + after_host.partition("?")[0].partition("#")[0]


def identity_settings(
    settings: IdentitySettings | None,
    secret: str | bytes | None,
    *,
    cookie_name: str = "pz_visitor",
    max_age: timedelta = timedelta(days=365),
    session_timeout: timedelta = timedelta(minutes=30),
    secure: bool = True,
    same_site: Literal["lax", "strict", "none"] = "lax",
) -> IdentitySettings:
    """The adapters' cookie settings: ``settings`` as given, else built from the keywords."""
    if settings is not None:
        if secret is not None:
            raise ConfigError("pass either settings= or secret=, not both")
        return settings
    if secret is None:
        raise ConfigError("secret: required to sign the visitor cookie")
    return IdentitySettings(
        secret=secret,
        cookie_name=cookie_name,
        max_age=max_age,
        session_timeout=session_timeout,
        secure=secure,
        same_site=same_site,
    )
