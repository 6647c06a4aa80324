from __future__ import annotations

from typing import Any

import pytest

from personalize import ConfigError, Personalizer, Request
from tests.campaigns.conftest import CONFIG, NOW


@pytest.fixture(scope="module")
def p() -> Personalizer:
    # no store: each decision stands alone (a store would record the offers shown)
    return Personalizer(
        CONFIG, autoload_plugins=False, freeze_gc=False, trusted_cdn=["cloudflare"], store=None
    )


def decide(p: Personalizer, channel: str) -> Any:
    request = Request(now=NOW, user_id="u1", headers={"CF-IPCountry": "CA"})
    return p.personalize(request, placement="home", channel=channel)


def test_the_web_is_the_default_channel(p: Personalizer) -> None:
    assert (
        decide(p, "web").offers
        == p.personalize(
            Request(now=NOW, user_id="u1", headers={"CF-IPCountry": "CA"}), placement="home"
        ).offers
    )


def test_an_email_only_offer_never_shows_on_the_site(p: Personalizer) -> None:
    ids = [o.offer_id for o in decide(p, "web").offers]
    assert "web-only" in ids
    assert "mail-big" not in ids
    assert "mail-small" not in ids


def test_a_web_only_offer_never_goes_out_by_email(p: Personalizer) -> None:
    result = decide(p, "email")
    ids = [o.offer_id for o in result.offers]
    assert "web-only" not in ids
    assert "mail-big" in ids
    assert "offer web-only: not for channel 'email'" in result.explain()


def test_rules_are_restricted_to_their_channels(p: Personalizer) -> None:
    assert decide(p, "web").rules == ("web-pin",)
    assert decide(p, "email").rules == ("email-knit-boost",)


def test_an_unknown_channel_is_a_config_error_at_its_path() -> None:
    config = {
        "rules": [{"id": "r", "channels": ["sms"]}],
        "offers": [{"id": "o", "channels": ["webb"]}],
    }
    with pytest.raises(ConfigError) as info:
        Personalizer(config, autoload_plugins=False, freeze_gc=False)
    paths = {problem.path for problem in info.value.problems}
    assert {"rules[0].channels[0]", "offers[0].channels[0]"} <= paths
