"""Quickstart: personalize one request against the bundled example store.

Run from the repository root::

    python examples/quickstart.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from personalize import Catalog, Event, History, Personalizer, Request
from personalize.context import demo_geoip_path

STORE = Path(__file__).resolve().parent / "store"


def main() -> None:
    catalog = Catalog.from_file(STORE / "catalog.json")
    with (STORE / "events.jsonl").open() as fh:
        interactions = [Event.model_validate_json(line) for line in fh]
    personalizer = Personalizer.from_file(
        STORE / "personalization.yaml",
        catalog=catalog,
        interactions=interactions,
        geoip=demo_geoip_path(),
    )
    request = Request(
        user_agent="Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ip="203.0.113.10",  # Oslo in the demo database
        url="https://shop.example/?utm_source=facebook&utm_medium=paid_social",
        now=datetime(2026, 12, 20, 19, 30, tzinfo=UTC),
        user_id="u-quickstart",
        session_id="s-1",
    )
    bought = datetime(2026, 11, 2, tzinfo=UTC)
    viewed = datetime(2026, 12, 20, 19, 20, tzinfo=UTC)
    history = History(
        events=[
            Event(type="purchase", product_id="coffee-house", at=bought, price=16.0, order_id="o1"),
            Event(type="view", product_id="scarf-wool", at=viewed, session_id="s-1"),
        ],
        loyalty={"tier": "silver", "points": 300},
    )
    result = personalizer.personalize(request, history, placement="home", limit=5)

    print(result.explain(trace=False))
    print()
    print("As JSON for a template:")
    payload = {
        "products": [r.product_id for r in result.products],
        "landing": result.landing.page if result.landing else None,
        "offers": [o.code for o in result.offers],
        "segments": sorted(result.segments),
        "experiments": dict(result.experiments),
    }
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
