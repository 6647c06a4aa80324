"""Request context: device, geo, local time, referral, behaviour and history facts."""

from personalize.context._client_ip import ForwardedHeader
from personalize.context._geo import CDNName, demo_geoip_path
from personalize.context._history import build_profile
from personalize.context._model import (
    FACT_SCHEMA,
    FACT_VALUES,
    AbandonedCart,
    Behaviour,
    Cart,
    Context,
    Device,
    Engagement,
    FactKind,
    Geo,
    HistoryFacts,
    Loyalty,
    Referral,
    StoredFrequency,
    TimeFacts,
)
from personalize.context._referral import REFERRAL_HOSTS, UTM_MEDIUMS
from personalize.context._resolver import ContextResolver
from personalize.context._url import ParsedUrl, parse_url

__all__ = [
    "FACT_SCHEMA",
    "FACT_VALUES",
    "REFERRAL_HOSTS",
    "UTM_MEDIUMS",
    "AbandonedCart",
    "Behaviour",
    "CDNName",
    "Cart",
    "Context",
    "ContextResolver",
    "Device",
    "Engagement",
    "FactKind",
    "ForwardedHeader",
    "Geo",
    "HistoryFacts",
    "Loyalty",
    "ParsedUrl",
    "Referral",
    "StoredFrequency",
    "TimeFacts",
    "build_profile",
    "demo_geoip_path",
    "parse_url",
]
