"""Where the visitor came from: UTM parameters, click ids and the referrer host.

The first rule that applies decides ``source``:

1. ``utm_medium`` (see :data:`UTM_MEDIUMS`: ``cpc``/``ppc``/``paid`` -> ``paid``, ``email``
   -> ``email`` ...); an unknown medium falls to ``utm_source``'s host class, else ``other``.
2. an ad click id in the URL (:data:`PAID_CLICK_IDS`, e.g. ``gclid``, ``fbclid``,
   ``msclkid``, ``ttclid``) -> ``paid``; an affiliate network id -> ``affiliate``.
3. ``utm_source`` alone: its class in :data:`REFERRAL_HOSTS`, else ``other``.
4. the referrer: the same host as the page or an internal host -> ``internal``; a host in
   :data:`REFERRAL_HOSTS` -> its class; any other host -> ``other``.
5. nothing at all -> ``direct``.

UTM parameters therefore win over the referrer. Hosts match on any parent domain
(``news.google.com`` matches ``google.com``), and an entry ``google.*`` matches the label
``google`` followed by a top-level domain of one or two short labels (``google.co.uk``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

from personalize.context._model import Referral
from personalize.context._url import MAX_URL_CHARS, ParsedUrl, bare_host

__all__ = [
    "AFFILIATE_CLICK_IDS",
    "PAID_CLICK_IDS",
    "REFERRAL_HOSTS",
    "UTM_MEDIUMS",
    "ReferralClassifier",
]

#: Referrer hosts (or app ids, as in ``android-app://``) and the source they mean.
REFERRAL_HOSTS: Mapping[str, str] = {
    # search engines
    "google.*": "search",
    "bing.com": "search",
    "yahoo.*": "search",
    "search.yahoo.com": "search",
    "duckduckgo.com": "search",
    "baidu.com": "search",
    "yandex.*": "search",
    "ecosia.org": "search",
    "qwant.com": "search",
    "startpage.com": "search",
    "search.brave.com": "search",
    "naver.com": "search",
    "seznam.cz": "search",
    "ask.com": "search",
    "aol.com": "search",
    "sogou.com": "search",
    "so.com": "search",
    "com.google.android.googlequicksearchbox": "search",
    # social networks
    "facebook.com": "social",
    "fb.com": "social",
    "m.facebook.com": "social",
    "l.facebook.com": "social",
    "instagram.com": "social",
    "l.instagram.com": "social",
    "twitter.com": "social",
    "t.co": "social",
    "x.com": "social",
    "linkedin.com": "social",
    "lnkd.in": "social",
    "pinterest.*": "social",
    "pin.it": "social",
    "reddit.com": "social",
    "tiktok.com": "social",
    "youtube.com": "social",
    "youtu.be": "social",
    "snapchat.com": "social",
    "threads.net": "social",
    "bsky.app": "social",
    "mastodon.social": "social",
    "tumblr.com": "social",
    "vk.com": "social",
    "weibo.com": "social",
    "quora.com": "social",
    "whatsapp.com": "social",
    "telegram.org": "social",
    "t.me": "social",
    "discord.com": "social",
    "com.facebook.katana": "social",
    "com.instagram.android": "social",
    "com.twitter.android": "social",
    "com.linkedin.android": "social",
    "com.pinterest": "social",
    "com.reddit.frontpage": "social",
    # webmail and mail apps
    "mail.google.com": "email",
    "outlook.live.com": "email",
    "outlook.office.com": "email",
    "outlook.office365.com": "email",
    "mail.yahoo.com": "email",
    "mail.aol.com": "email",
    "mail.proton.me": "email",
    "mail.yandex.ru": "email",
    "icloud.com": "email",
    "com.google.android.gm": "email",
    "com.microsoft.office.outlook": "email",
    # affiliate networks
    "awin1.com": "affiliate",
    "anrdoezrs.net": "affiliate",
    "dpbolvw.net": "affiliate",
    "jdoqocy.com": "affiliate",
    "kqzyfj.com": "affiliate",
    "tkqlhce.com": "affiliate",
    "shareasale.com": "affiliate",
    "linksynergy.com": "affiliate",
    "impact.com": "affiliate",
    "partnerize.com": "affiliate",
    "skimresources.com": "affiliate",
    "go.skimresources.com": "affiliate",
    "rakuten.com": "affiliate",
    # ad servers
    "googleadservices.com": "paid",
    "doubleclick.net": "paid",
    "googlesyndication.com": "paid",
}

#: ``utm_medium`` values (lower case) and the source they mean.
UTM_MEDIUMS: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "cpc",
            "ppc",
            "paid",
            "paidsearch",
            "paid_search",
            "paid-search",
            "paidsocial",
            "paid_social",
            "paid-social",
            "cpm",
            "cpv",
            "cpa",
            "display",
            "banner",
            "retargeting",
            "remarketing",
            "shopping",
            "ads",
        ),
        "paid",
    ),
    **dict.fromkeys(("email", "e-mail", "e_mail", "newsletter", "mail"), "email"),
    **dict.fromkeys(
        ("social", "social-network", "social_network", "social-media", "sm", "organic_social"),
        "social",
    ),
    **dict.fromkeys(("organic", "seo", "search"), "search"),
    **dict.fromkeys(("affiliate", "affiliates", "partner", "partners"), "affiliate"),
}

#: URL parameters that ad platforms add to a click (any of them means ``paid``).
PAID_CLICK_IDS = frozenset(
    {
        "gclid",
        "gbraid",
        "wbraid",
        "gclsrc",
        "dclid",
        "fbclid",
        "msclkid",
        "ttclid",
        "twclid",
        "li_fat_id",
        "epik",
        "sccid",
        "yclid",
        "rdt_cid",
        "qclid",
    }
)

#: URL parameters that affiliate networks add to a click (any of them means ``affiliate``).
AFFILIATE_CLICK_IDS = frozenset({"irclickid", "awc", "cjevent", "ransiteid", "sscid", "clickref"})

#: ``medium`` reported when no ``utm_medium`` is given, by source.
_DEFAULT_MEDIUM = {
    "search": "organic",
    "social": "social",
    "email": "email",
    "paid": "cpc",
    "affiliate": "affiliate",
    "internal": "internal",
    "other": "referral",
}
_SEARCH_QUERY_PARAMS = ("q", "query", "p", "text", "wd")


class ReferralClassifier:
    """Classify referrals from UTM parameters, click ids and referrer hosts.

    Args:
        hosts: Extra or replacement entries for :data:`REFERRAL_HOSTS`.
        internal_hosts: Hosts of the shop itself, besides the host of the requested URL.
    """

    def __init__(
        self, hosts: Mapping[str, str] | None = None, internal_hosts: Iterable[str] = ()
    ) -> None:
        table = {**REFERRAL_HOSTS, **(hosts or {})}
        self._exact = {k.lower(): v for k, v in table.items() if not k.endswith(".*")}
        self._brands = {k[:-2].lower(): v for k, v in table.items() if k.endswith(".*")}
        self._internal = frozenset(bare_host(h.lower()) for h in internal_hosts)
        # The most labels a listed host can match with: its own, or a brand's and a top-level
        # domain of two labels. Longer suffixes match nothing, so they are not tried (a
        # referrer host of 2,000 labels cost 48 ms when every suffix was joined and looked up).
        longest_brand = max((k.count(".") + 3 for k in self._brands), default=0)
        self._max_labels = max([k.count(".") + 1 for k in self._exact] + [longest_brand])

    def host_class(self, host: str) -> str | None:
        """The source class of a host (or app id), or ``None`` when it is not listed."""
        labels = host.split(".")
        for i in range(max(len(labels) - self._max_labels, 0), len(labels)):
            suffix = ".".join(labels[i:])
            found = self._exact.get(suffix)
            if found is not None:
                return found
            rest = labels[i + 1 :]
            if rest and len(rest) <= 2 and all(len(label) <= 3 for label in rest):
                found = self._brands.get(labels[i])
                if found is not None:
                    return found
        return None

    def source_class(self, utm_source: str) -> str | None:
        """The class of a ``utm_source`` value: a host, or a bare name (``google``)."""
        name = utm_source.lower()
        if "." in name:
            return self.host_class(name)
        return self._brands.get(name) or self._exact.get(f"{name}.com")

    def classify(self, url: ParsedUrl, referrer: str | None, notes: list[str]) -> Referral:
        """The referral of a request to ``url`` (parsed by the resolver) from ``referrer``."""
        params, page_host = _query(url, notes)
        utm_medium = _first(params, "utm_medium")
        utm_source = _first(params, "utm_source")
        campaign = _first(params, "utm_campaign")
        term = _first(params, "utm_term")
        ref_host = ""
        ref_params: dict[str, list[str]] = {}
        if referrer:
            try:
                parts = urlsplit(referrer.strip()[:MAX_URL_CHARS])
                ref_host = bare_host((parts.hostname or "").lower())
                ref_params = parse_qs(parts.query, max_num_fields=100)
            except ValueError:
                notes.append("referral: malformed referrer")
        site = utm_source or ref_host or None

        source: str | None = None
        if utm_medium is not None:
            source = UTM_MEDIUMS.get(utm_medium.lower())
            if source is None:
                source = (utm_source and self.source_class(utm_source)) or "other"
        elif any(key in PAID_CLICK_IDS for key in params):
            source = "paid"
        elif any(key in AFFILIATE_CLICK_IDS for key in params):
            source = "affiliate"
        elif utm_source is not None:
            source = self.source_class(utm_source) or "other"
        elif ref_host:
            if ref_host == page_host or ref_host in self._internal:
                source = "internal"
            else:
                source = self.host_class(ref_host) or "other"
        if source is None:
            return Referral(source="direct", medium=None, campaign=campaign, site=None, term=term)
        if term is None and source == "search" and ref_params:
            term = next((v for k in _SEARCH_QUERY_PARAMS if (v := _first(ref_params, k))), None)
        return Referral(
            source=source,
            medium=utm_medium or _DEFAULT_MEDIUM[source],
            campaign=campaign,
            site=site,
            term=term,
        )


#: Most query fields read; a URL with more is read as malformed.
_MAX_FIELDS = 200


def _query(url: ParsedUrl, notes: list[str]) -> tuple[dict[str, list[str]], str]:
    if url.malformed or 1 + url.query.count("&") > _MAX_FIELDS:
        notes.append("referral: malformed url")
        return {}, ""
    params: dict[str, list[str]] = {}
    for name, value in url.pairs:
        params.setdefault(name, []).append(value)
    return {k.lower(): v for k, v in params.items()}, url.host


def _first(params: Mapping[str, list[str]], key: str) -> str | None:
    values = params.get(key)
    if not values:
        return None
    value = values[0].strip()[:200]
    return value or None
