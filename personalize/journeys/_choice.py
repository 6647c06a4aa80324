"""How simulated shoppers respond to what they are shown: the choice model.

All responses are logistic in a utility, so each parameter is a log-odds step:

* **clicking a shown product** (multinomial logit per page): every product ``j`` at rank
  ``r`` (0-based) has utility ::

      v_j = click_base + click_affinity * a_j - click_price * s * ln(price_j / ref_price)
            - click_position * ln(1 + r)

  where ``a_j`` is the shopper's latent affinity for the product's category (plus
  ``season_bonus`` when the product's ``winter``/``summer`` tag matches the season where they
  live) and ``s`` their price sensitivity. Two more options compete on every page:
  *leave* with utility ``leave_per_page * pages_seen`` and *find it myself* (browse a
  category of their choosing) with ``navigate``; with a non-empty cart, *checkout* with
  ``checkout_base + checkout_per_item * items``. Products already viewed this session are
  not clicked again. ``P(option) = exp(v) / sum(exp(v))``.
* **adding to cart** on a product page: ``sigmoid(atc_base + atc_affinity * a -
  atc_price * s * ln(price / ref_price))``.
* **buying** at checkout: ``sigmoid(buy_base + buy_percent * percent / 10 +
  buy_free_shipping * free_shipping + buy_tier[tier] + buy_device[device]
  - buy_price * s * ln(cart / ref_price))``, where ``percent`` is the best discount offer
  shown in the session (an ``amount`` offer counts as its share of the cart); otherwise the
  cart is abandoned.
* **coming back**: on each later day, a visit with probability ``visit_rate``, times
  ``comeback_boost`` in the week after an abandoned cart; a comeback visit goes straight to
  the cart with probability ``cart_recall`` and arrives from the reminder email with
  probability ``reminder_email``.

The defaults give realistic orders of magnitude (a third of sessions bounce, add-to-cart
around 10-15% of sessions, two thirds of carts abandoned), not a fit to any real store.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["ChoiceModel", "choose", "pick", "sigmoid"]


def sigmoid(x: float) -> float:
    """The logistic function ``1 / (1 + exp(-x))``, safe for any finite ``x``."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def choose(rng: random.Random, utilities: Sequence[float]) -> int:
    """Draw an option index with probability ``exp(v_i) / sum(exp(v))``."""
    top = max(utilities)
    return pick(rng, [math.exp(v - top) for v in utilities])


def pick(rng: random.Random, weights: Sequence[float]) -> int:
    """Draw an index with probability proportional to ``weights`` (non-negative)."""
    x = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def _frozen(data: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(data))


@dataclass(frozen=True, slots=True)
class ChoiceModel:
    """The parameters of the shoppers' responses (see the module docstring for formulas).

    Attributes:
        ref_price: Price at which the price term is 0.
        click_base: Base utility of clicking a shown product.
        click_affinity: Utility per unit of affinity.
        click_price: Utility lost per unit of ``s * ln(price / ref_price)``.
        click_position: Utility lost per unit of ``ln(1 + rank)``.
        season_bonus: Affinity added when a product's season tag matches the local season.
        navigate: Utility of browsing a category of one's own choosing instead.
        leave_per_page: Utility of leaving, per page already seen.
        checkout_base: Utility of going to checkout with one item in the cart.
        checkout_per_item: Added per further item.
        atc_base: Add-to-cart log-odds at affinity 0 and the reference price.
        atc_affinity: Per unit of affinity.
        atc_price: Per unit of ``s * ln(price / ref_price)``.
        buy_base: Purchase log-odds at checkout, no offer, reference cart value.
        buy_percent: Per 10% of discount offered.
        buy_free_shipping: When free shipping is offered.
        buy_price: Per unit of ``s * ln(cart / ref_price)``.
        buy_tier: Per loyalty tier.
        buy_device: Per device kind.
        max_pages: Hard stop of a session.
        comeback_boost: Visit-rate factor in the week after an abandoned cart.
        cart_recall: Chance a comeback visit goes straight to the cart.
        reminder_email: Chance a comeback visit comes from the reminder email.
        dwell_seconds: Median seconds on a page.
    """

    ref_price: float = 50.0
    click_base: float = -2.2
    click_affinity: float = 3.2
    click_price: float = 0.4
    click_position: float = 0.6
    season_bonus: float = 0.3
    navigate: float = -1.0
    leave_per_page: float = 0.25
    checkout_base: float = 0.2
    checkout_per_item: float = 0.3
    atc_base: float = -3.2
    atc_affinity: float = 2.4
    atc_price: float = 0.5
    buy_base: float = -0.4
    buy_percent: float = 0.6
    buy_free_shipping: float = 0.35
    buy_price: float = 0.3
    buy_tier: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"none": 0.0, "silver": 0.1, "gold": 0.3, "platinum": 0.4})
    )
    buy_device: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"mobile": -0.3, "desktop": 0.2, "tablet": 0.0})
    )
    max_pages: int = 25
    comeback_boost: float = 3.0
    cart_recall: float = 0.5
    reminder_email: float = 0.4
    dwell_seconds: float = 35.0

    def price_term(self, sensitivity: float, price: float | None) -> float:
        """``s * ln(price / ref_price)``; 0 for an unknown price."""
        if price is None or price <= 0:
            return 0.0
        return sensitivity * math.log(price / self.ref_price)

    def click_utility(self, affinity: float, price_term: float, rank: int) -> float:
        """Utility of clicking a product shown at ``rank`` (0-based)."""
        return (
            self.click_base
            + self.click_affinity * affinity
            - self.click_price * price_term
            - self.click_position * math.log1p(rank)
        )

    def add_to_cart(self, affinity: float, price_term: float) -> float:
        """Probability of adding the product on its page to the cart."""
        return sigmoid(self.atc_base + self.atc_affinity * affinity - self.atc_price * price_term)

    def buy(
        self,
        *,
        cart_term: float,
        percent: float,
        free_shipping: bool,
        tier: str,
        device: str,
    ) -> float:
        """Probability of buying the cart at checkout."""
        return sigmoid(
            self.buy_base
            + self.buy_percent * percent / 10.0
            + (self.buy_free_shipping if free_shipping else 0.0)
            + self.buy_tier.get(tier, 0.0)
            + self.buy_device.get(device, 0.0)
            - self.buy_price * cart_term
        )

    def dwell(self, rng: random.Random, affinity: float = 0.0) -> int:
        """Seconds spent on a page: log-normal, longer on products they like."""
        return max(3, round(rng.lognormvariate(math.log(self.dwell_seconds), 0.6) * (1 + affinity)))
