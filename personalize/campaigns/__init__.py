"""Email campaigns: the personalizer's decision for every customer of a mailing list.

:func:`plan_campaign` yields a :class:`CampaignRow` per customer -- offers with unique
coupon codes, products with their reasons, the landing link -- and records what it sends
as ``offer_sent`` events, once per campaign id. :func:`run_campaign` does it for files,
with worker processes; ``personalize campaign`` is its command line. See
``docs/campaigns.md``.
"""

from personalize.campaigns._codes import DEFAULT_CODE_FORMAT, CodeFormat, issue_code, verify_code
from personalize.campaigns._plan import COUNTRY_HEADER, SENT, plan_campaign
from personalize.campaigns._rows import (
    CampaignOffer,
    CampaignProduct,
    CampaignRow,
    SkippedCustomer,
)
from personalize.campaigns._run import (
    CampaignJob,
    CampaignSummary,
    load_personalizer,
    run_campaign,
)
from personalize.campaigns._sources import histories_from_file, read_customers

__all__ = [
    "COUNTRY_HEADER",
    "DEFAULT_CODE_FORMAT",
    "SENT",
    "CampaignJob",
    "CampaignOffer",
    "CampaignProduct",
    "CampaignRow",
    "CampaignSummary",
    "CodeFormat",
    "SkippedCustomer",
    "histories_from_file",
    "issue_code",
    "load_personalizer",
    "plan_campaign",
    "read_customers",
    "run_campaign",
    "verify_code",
]
