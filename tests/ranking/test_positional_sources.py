"""The built-in sources on positions propose exactly what their dict-returning namesakes do:
the same products with the same floats, best first (an unknown id is only counted, so only
the known ones keep their place)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from ranking_helpers import PRODUCT_IDS, contexts, shop_catalog, shop_index

from personalize.config import RankingConfig
from personalize.context import Context
from personalize.ranking import NewArrivals, RankingInput
from personalize.ranking._positional import POSITIONAL, NewArrivalsAt, On, top_by_value
from personalize.ranking._sources import top_by_value as reference_top
from personalize.ranking._space import distinct, first_places, space_of

INDEX = shop_index(max_neighbours=3)  # short rows: the top-k cut is exercised
CATALOG = shop_catalog()
SPACE = space_of(CATALOG, INDEX)


def _request(ctx: Context, anchors: tuple[str, ...], per_source: int) -> RankingInput:
    return RankingInput(
        context=ctx,
        catalog=CATALOG,
        index=INDEX,
        config=RankingConfig(max_anchors=3, popular_candidates=4),
        placement="pdp",
        product_id=anchors[0] if anchors else None,
        limit=10,
        now=ctx.time.local,
        per_source=per_source,
        anchors=anchors,
    )


@given(
    contexts,
    st.lists(st.sampled_from(PRODUCT_IDS), max_size=3, unique=True).map(tuple),
    st.integers(1, 8),
)
def test_each_twin_proposes_the_same_products_values_and_order(
    ctx: Context, anchors: tuple[str, ...], per_source: int
) -> None:
    request = _request(ctx, anchors, per_source)
    for reference, twin in POSITIONAL.items():
        expected = reference(request)
        got = twin(On(request, SPACE)).mapping(SPACE)
        assert got == expected, reference
        known = [(pid, value) for pid, value in expected.items() if pid in SPACE.position]
        assert [item for item in got.items() if item[0] in SPACE.position] == known


@given(
    contexts,
    st.integers(1, 8),
    st.booleans(),
    st.sampled_from([None, 30.0, 200.0]),
    st.sampled_from([1.0, 1.5, 2.0]),
)
def test_personal_twins_match_the_reference_with_and_without_exclusions(
    ctx: Context, per_source: int, exclude: bool, window: float | None, power: float
) -> None:
    from personalize.ranking import _personal
    from personalize.ranking._positional import neighbours, personal

    config = RankingConfig(
        max_anchors=3,
        exclude_purchased=exclude,
        repurchase_window_days=window,
        neighbour_power=power,
        repurchase_weight=8.0,
    )
    request = replace(_request(ctx, (), per_source), config=config)
    for reference, twin in ((_personal.personal, personal), (_personal.neighbours, neighbours)):
        expected = reference(request)
        got = twin(On(request, SPACE)).mapping(SPACE)
        assert got == expected, reference
        known = [(pid, value) for pid, value in expected.items() if pid in SPACE.position]
        assert [item for item in got.items() if item[0] in SPACE.position] == known


def test_neighbours_on_positions_leave_out_the_purchases_before_the_cut() -> None:
    from ranking_helpers import context

    from personalize.ranking import _personal
    from personalize.ranking._positional import neighbours

    ctx = context(purchases={"teapot": (3, 2.0), "beans": (1, 5.0)})
    config = RankingConfig(max_anchors=3, exclude_purchased=True)
    request = replace(_request(ctx, (), 8), config=config)
    got = neighbours(On(request, SPACE)).mapping(SPACE)
    assert got
    assert "teapot" not in got
    assert "beans" not in got
    assert got == dict(_personal.neighbours(request))


@given(contexts, st.integers(1, 8))
def test_new_arrivals_on_positions_match_the_reference(ctx: Context, per_source: int) -> None:
    request = _request(ctx, (), per_source)
    newest = NewArrivals(CATALOG)
    got = NewArrivalsAt(newest, SPACE)(On(request, SPACE)).mapping(SPACE)
    assert list(got.items()) == list(newest(request).items())


@given(
    st.dictionaries(
        st.sampled_from(sorted(SPACE.position)),
        st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0]),  # ties are the point
    ),
    st.integers(0, 6),
)
def test_top_by_value_on_positions_breaks_ties_by_id_as_the_reference(
    scores: dict[str, float], limit: int
) -> None:
    import numpy as np

    positions = np.array([SPACE.position[pid] for pid in scores], dtype=np.intp)
    values = np.array(list(scores.values()), dtype=np.float64)
    got = top_by_value(positions, values, limit, SPACE).mapping(SPACE)
    assert list(got.items()) == list(reference_top(scores, limit).items())


@given(st.lists(st.integers(0, 20)))
def test_distinct_is_numpy_unique_with_first_index_and_inverse(values: list[int]) -> None:
    import numpy as np

    array = np.array(values, dtype=np.intp)
    found, inverse = distinct(array, 21)
    first = first_places(inverse, len(found))
    expected, expected_first, expected_inverse = np.unique(
        array, return_index=True, return_inverse=True
    )
    assert found.tolist() == expected.tolist()
    assert inverse.tolist() == expected_inverse.tolist()
    assert first.tolist() == expected_first.tolist()


def test_rankers_of_one_catalog_and_index_share_their_space() -> None:
    assert space_of(CATALOG, INDEX) is SPACE
    assert space_of(shop_catalog(), INDEX) is not SPACE  # another catalog object


class _CountingTuple(tuple[str, ...]):
    """A tuple that counts the items read through iteration."""

    read = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for item in super().__iter__():
            type(self).read += 1
            yield item


def test_a_long_purchase_history_is_read_once_and_only_as_far_as_the_sources_need() -> None:
    from dataclasses import replace
    from datetime import timedelta
    from types import MappingProxyType

    from ranking_helpers import NOW, context, product

    from personalize.ranking import Ranker

    ids = [f"gone{i:04d}" for i in range(1000)] + ["beans", "teapot"]
    last = {pid: NOW - timedelta(days=i + 1) for i, pid in enumerate(ids)}
    ctx = context()
    history = replace(
        ctx.history,
        purchases=_CountingTuple(ids),
        purchase_counts=MappingProxyType(dict.fromkeys(ids, 1)),
        last_purchased=MappingProxyType(last),
    )
    config = RankingConfig(candidates_per_source=40, max_anchors=20)
    extra = [product(pid, category="attic > boxes") for pid in ids[:1000]]
    ranker = Ranker(shop_catalog(extra), INDEX, config)
    _CountingTuple.read = 0
    ranker.rank(replace(ctx, history=history), limit=5)
    assert _CountingTuple.read == 40  # the 40 latest, once, for repeat, co-purchase, affinity
