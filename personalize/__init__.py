"""personalize: in-process personalization for e-commerce.

Hand it a request and a customer's history; get back ranked products, a landing choice and
offers, each with its reasons, in about a millisecond and with no network call.
"""

from personalize._models import MAX_ID_LENGTH, Event, History, Product, Profile, Request
from personalize._personalizer import Personalizer
from personalize._serialize import ResultModel
from personalize.catalog import Catalog
from personalize.config import PersonalizerConfig, load_config
from personalize.context import Context, ContextResolver
from personalize.errors import ConfigError, DataError, PersonalizeError, PluginError, Problem
from personalize.landing import LandingChoice
from personalize.offers import OfferChoice
from personalize.ranking import ContinueShopping, InteractionIndex, Recommendation
from personalize.result import Result

__version__ = "0.1.0"

__all__ = [
    "MAX_ID_LENGTH",
    "Catalog",
    "ConfigError",
    "Context",
    "ContextResolver",
    "ContinueShopping",
    "DataError",
    "Event",
    "History",
    "InteractionIndex",
    "LandingChoice",
    "OfferChoice",
    "PersonalizeError",
    "Personalizer",
    "PersonalizerConfig",
    "PluginError",
    "Problem",
    "Product",
    "Profile",
    "Recommendation",
    "Request",
    "Result",
    "ResultModel",
    "__version__",
    "load_config",
]
