"""Resolve the context of requests without the rest of the SDK.

Run from the repository root::

    python examples/context_only.py
"""

from __future__ import annotations

from datetime import UTC, datetime

from personalize import Request
from personalize.context import ContextResolver, demo_geoip_path

REQUESTS = {
    "iPhone in Sydney from Instagram": Request(
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ip="198.51.100.7",
        referrer="https://l.instagram.com/",
        now=datetime(2026, 1, 10, 9, 0, tzinfo=UTC),
    ),
    "Googlebot": Request(
        user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ip="66.249.66.1",
    ),
    "Behind our load balancer (one trusted hop)": Request(
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
        "Firefox/133.0",
        ip="10.0.0.2",  # the load balancer
        headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.200"},  # 6.6.6.6 is client-supplied
        url="https://shop.example/?gclid=abc123",
        now=datetime(2026, 7, 1, 20, 0, tzinfo=UTC),
    ),
    "Private address, CDN headers say Berlin": Request(
        ip="10.1.2.3",
        headers={
            "CF-IPCountry": "DE",
            "cf-ipcity": "Berlin",
            "cf-iplatitude": "52.52",
            "cf-iplongitude": "13.40",
        },
        now=datetime(2026, 7, 1, 20, 0, tzinfo=UTC),
    ),
}


def main() -> None:
    # One load balancer appends to X-Forwarded-For, and the app sits behind Cloudflare: only
    # that header and that CDN's geo headers are believed.
    resolver = ContextResolver(
        geoip=demo_geoip_path(),
        trusted_proxies=1,
        forwarded_header="x-forwarded-for",
        trusted_cdn=["cloudflare"],
    )
    for name, request in REQUESTS.items():
        ctx = resolver.resolve(request)
        print(f"{name}:")
        print(
            f"  device   {ctx.device.type} ({ctx.device.os}, {ctx.device.browser}), "
            f"bot={ctx.device.is_bot}"
        )
        print(
            f"  geo      {ctx.geo.country} {ctx.geo.city} [{ctx.geo.source}] "
            f"climate={ctx.geo.climate} hemisphere={ctx.geo.hemisphere}"
        )
        print(f"  time     {ctx.time.local} {ctx.time.daypart} {ctx.time.season}")
        print(f"  referral {ctx.referral.source} medium={ctx.referral.medium}")
        for note in ctx.notes:
            print(f"  note     {note}")


if __name__ == "__main__":
    main()
