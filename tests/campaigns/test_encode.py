"""Chunk encoding: the same text as ``json.dumps(row.to_dict())`` and ``row.to_record()``."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from personalize.campaigns import CampaignOffer, CampaignProduct, CampaignRow
from personalize.campaigns._output import encode_rows

texts = st.text(max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
field_names = st.sampled_from(["first_name", "email", "country", "offers", "link", "née"]) | texts
products = st.lists(
    st.builds(
        CampaignProduct,
        product_id=texts,
        title=st.none() | texts,
        score=st.floats(-1e6, 1e6),
        reasons=st.dictionaries(texts, st.floats(-1e3, 1e3), max_size=3),
        rules=st.lists(texts, max_size=2).map(tuple),
    ),
    max_size=3,
).map(tuple)
values = st.lists(st.dictionaries(texts, json_values, max_size=2), min_size=1, max_size=3)


@st.composite
def chunks(draw: st.DrawFn) -> list[CampaignRow]:
    """Rows that share product tuples and offer values, as rows of one decision do."""
    shared_products = draw(st.lists(products, min_size=1, max_size=3))
    shared_values = draw(values)
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        offers = tuple(
            CampaignOffer(
                offer_id=draw(st.sampled_from(["o1", "o2", "ö3"])),
                code=draw(texts),
                value=draw(st.sampled_from(shared_values)),
                reason=draw(st.sampled_from(["because", "eligible: geo"])),
            )
            for _ in range(draw(st.integers(0, 3)))
        )
        rows.append(
            CampaignRow(
                customer_id=draw(texts),
                fields=draw(st.dictionaries(field_names, json_values, max_size=4)),
                offers=offers,
                products=draw(st.sampled_from(shared_products) | products),
                link=draw(st.none() | texts),
            )
        )
    return rows


@given(chunks())
def test_jsonl_text_is_that_of_json_dumps_of_each_row(rows: list[CampaignRow]) -> None:
    expected = "".join(
        json.dumps(r.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows
    )
    assert encode_rows(rows, ".jsonl") == expected


@given(chunks(), st.sampled_from([".csv", ".parquet"]))
def test_records_are_those_of_each_row(rows: list[CampaignRow], kind: str) -> None:
    assert encode_rows(rows, kind) == [r.to_record() for r in rows]


def test_fields_with_keys_json_converts_are_encoded_as_json_does() -> None:
    fields: dict[Any, Any] = {1: "one", "country": "CA"}
    row = CampaignRow(customer_id="c1", fields=fields)
    expected = json.dumps(row.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
    assert encode_rows([row], ".jsonl") == expected
