"""personalize in web apps: requests from ASGI/WSGI, the visitor cookie, and adapters.

The framework-neutral parts live here; each framework's adapter is a module of its own that
imports its framework only when imported (install the matching extra):

- :mod:`personalize.web.fastapi`: Starlette/FastAPI middleware and ``personalization``
  dependency (``pip install 'personalize[fastapi]'``);
- :mod:`personalize.web.flask`: the ``Personalize`` Flask extension (``[flask]``);
- :mod:`personalize.web.django`: a Django middleware configured in settings (``[django]``).

Visitor state goes through the :class:`~personalize.Personalizer`'s store: each adapter
records the HTML pages it serves as ``page_view`` events, and views record clicks and other
events with :meth:`Personalization.track` (``atrack`` in async views, which never block the
event loop on the store).
"""

from personalize.web._core import Personalization
from personalize.web._identity import (
    Identity,
    IdentitySettings,
    identity_cookie,
    read_identity,
    signed_value,
)
from personalize.web._request import request_from_asgi, request_from_wsgi

__all__ = [
    "Identity",
    "IdentitySettings",
    "Personalization",
    "identity_cookie",
    "read_identity",
    "request_from_asgi",
    "request_from_wsgi",
    "signed_value",
]
