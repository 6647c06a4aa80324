"""personalize: in-process personalization for e-commerce.

Hand it a request and a customer's history; get back ranked products, a landing choice and
offers, each with its reasons, in about a millisecond and with no network call.
"""

from personalize._models import Event, History, Product, Profile, Request
from personalize.catalog import Catalog
from personalize.config import PersonalizerConfig, load_config
from personalize.errors import ConfigError, DataError, PersonalizeError, PluginError

__version__ = "0.1.0"

__all__ = [
    "Catalog",
    "ConfigError",
    "DataError",
    "Event",
    "History",
    "PersonalizeError",
    "PersonalizerConfig",
    "PluginError",
    "Product",
    "Profile",
    "Request",
    "__version__",
    "load_config",
]
