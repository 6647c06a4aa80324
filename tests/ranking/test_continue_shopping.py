"""Continue shopping: the last session's products and category."""

from __future__ import annotations

from ranking_helpers import context, shop_catalog

from personalize.ranking import ContinueShopping, continue_shopping

CATALOG = shop_catalog()


def test_gives_the_last_session_products_and_category() -> None:
    ctx = context(last_session=("kettle", "mug"), last_category="gear")
    assert continue_shopping(ctx, CATALOG) == ContinueShopping(("kettle", "mug"), "gear")


def test_leaves_out_unknown_out_of_stock_and_repeated_products() -> None:
    ctx = context(last_session=("ghost", "milk-frother", "kettle", "kettle", "mug"))
    result = continue_shopping(ctx, CATALOG, limit=5)
    assert result.products == ("kettle", "mug")


def test_infers_the_category_from_the_first_product_when_missing() -> None:
    assert continue_shopping(context(last_session=("teapot",)), CATALOG).category == "gear"


def test_is_empty_and_false_without_a_last_session() -> None:
    result = continue_shopping(context(), CATALOG)
    assert result == ContinueShopping()
    assert not result


def test_limit_caps_the_products() -> None:
    ctx = context(last_session=("kettle", "mug", "beans", "teapot"))
    assert continue_shopping(ctx, CATALOG, limit=2).products == ("kettle", "mug")


def test_a_limit_of_zero_or_less_gives_no_products() -> None:
    ctx = context(last_session=("kettle", "mug"), last_category="gear")
    for limit in (0, -3):
        assert continue_shopping(ctx, CATALOG, limit=limit) == ContinueShopping((), "gear")
