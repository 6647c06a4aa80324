"""Compile conditions of the rule language and evaluate them over plain mappings.

Run from the repository root::

    python examples/conditions.py
"""

from __future__ import annotations

from personalize.context import FACT_SCHEMA
from personalize.errors import ConfigError
from personalize.rules import compile_condition


def main() -> None:
    late_big_cart = compile_condition(
        {"time.hour": {"$between": [22, 5]}, "behaviour.cart.value": {"$gte": 50}}
    )
    print(late_big_cart({"time": {"hour": 23}, "behaviour": {"cart": {"value": 80}}}))  # True
    print(late_big_cart({"time": {"hour": 12}, "behaviour": {"cart": {"value": 80}}}))  # False

    nordic_or_gold = compile_condition(
        {"$or": [{"geo.country": {"$in": ["NO", "SE", "FI"]}}, {"loyalty.tier": "gold"}]}
    )
    print(nordic_or_gold({"geo": {"country": "SE"}, "loyalty": {}}))  # True

    vip = compile_condition({"user_id": {"$inGroup": "vip"}}, groups={"vip": ["u1", "u2"]})
    print(vip({"user_id": "u2"}))  # True

    try:
        compile_condition({"geo.contry": "CA", "time.hour": {"$gt": "noon"}}, schema=FACT_SCHEMA)
    except ConfigError as exc:
        print(exc)


if __name__ == "__main__":
    main()
