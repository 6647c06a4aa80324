"""What every adapter hands a view: the request, the visitor, and ``personalize`` bound
to both."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from personalize._models import History, Request
from personalize.errors import ConfigError
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
    """

    __slots__ = ("_request", "identity", "personalizer")

    def __init__(
        self, request: Request, identity: Identity, personalizer: Personalizer | None = None
    ) -> None:
        self._request = request
        self.identity = identity
        self.personalizer = personalizer

    @property
    def request(self) -> Request:
        """The request as the SDK reads it, with ``user_id`` (the customer, else the
        anonymous visitor) and ``session_id`` from :attr:`identity`."""
        return self._request.model_copy(
            update={"user_id": self.identity.user_id, "session_id": self.identity.session_id}
        )

    def link_customer(self, customer_id: str | None) -> None:
        """Link the signed-in customer to this visitor (``None`` on log-out).

        The link is written to the cookie with the response, so later requests carry it.
        """
        self.identity = self.identity.link_customer(customer_id)

    def personalize(
        self,
        *,
        placement: str = "home",
        limit: int | None = None,
        product_id: str | None = None,
        history: History | None = None,
    ) -> Result:
        """Decide what this visitor sees; see :meth:`personalize.Personalizer.personalize`.

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
        the event loop; any I/O it needs (the visitor's history) is awaited here.
        """
        # The one place an async app waits: the visitor's history will be awaited from
        # the Personalizer's async store here, before the in-process decision below.
        return self.personalize(
            placement=placement, limit=limit, product_id=product_id, history=history
        )

    def _personalizer(self) -> Personalizer:
        if self.personalizer is None:
            raise ConfigError(
                "no Personalizer registered: pass personalizer= to the adapter "
                "(or set app.state.personalizer in Starlette/FastAPI)"
            )
        return self.personalizer


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
