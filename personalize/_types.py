"""Small shared types that both the configuration and the request context name.

They live at the bottom of the package so that :mod:`personalize.config` can name them
without importing :mod:`personalize.context`.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["CDN_NAMES", "FORWARDED_HEADERS", "CDNName", "ForwardedHeader"]

#: The forwarding headers a deployment can trust (lower case).
ForwardedHeader = Literal["forwarded", "x-forwarded-for", "x-real-ip"]
FORWARDED_HEADERS: tuple[str, ...] = get_args(ForwardedHeader)

#: The CDNs whose geo headers can be trusted (``settings.trusted_cdn``).
CDNName = Literal["appengine", "cloudflare", "cloudfront", "fastly", "vercel"]
CDN_NAMES: tuple[str, ...] = get_args(CDNName)
