"""Tracking: the personalizer keeps visitor state in a store, so the app passes no history.

Run from the repository root::

    python examples/tracking.py

A first visit leaves a cart behind; two days later the visitor comes back from a Google
search. The store (here a SQLite file; ``MemoryStore`` is the default) gives the second
visit its abandoned cart and comeback offer, keeps the visit's search referral on page two,
and records the offers it showed, so the caps hold with no app code.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from personalize import Catalog, Event, Personalizer, Request
from personalize.store import SQLiteStore

STORE = Path(__file__).resolve().parent / "store"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def main() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        personalizer = Personalizer.from_file(
            STORE / "personalization.yaml",
            catalog=Catalog.from_file(STORE / "catalog.json"),
            store=SQLiteStore(Path(folder) / "visitors.db"),
        )
        # Two days ago: the app tracks what the visitor did.
        before = now - timedelta(days=2)
        personalizer.track_many(
            [
                Event(
                    type="view",
                    customer_id="c1",
                    session_id="v1",
                    product_id="coat-parka",
                    at=before,
                ),
                Event(
                    type="add_to_cart",
                    customer_id="c1",
                    session_id="v1",
                    product_id="coat-parka",
                    price=189.0,
                    at=before,
                ),
            ]
        )
        # Today: a new visit from a Google search, then a second page of it.
        landing = Request(
            user_agent=IPHONE,
            referrer="https://www.google.com/",
            url="https://shop.example/",
            now=now,
            user_id="c1",
            session_id="v2",
        )
        first = personalizer.personalize(landing, limit=3)
        page_two = landing.model_copy(
            update={"referrer": "https://shop.example/", "url": "https://shop.example/c/coats"}
        )
        second = personalizer.personalize(page_two, limit=3)
        print("abandoned cart:", first.context.behaviour.abandoned_cart.items)
        print("offers:", [offer.code for offer in first.offers])
        print("page two referral:", second.context.referral.source)
        print("page two segments:", sorted(second.segments))
        print("decision ids:", first.decision_id, second.decision_id)
        # The app tracks a click with the decision id, for the attribution KPIs.
        personalizer.track(
            Event(
                type="click",
                customer_id="c1",
                session_id="v2",
                product_id=second.products[0].product_id,
                decision_id=second.decision_id,
                at=now,
            )
        )


if __name__ == "__main__":
    main()
