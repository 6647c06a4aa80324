"""Experiments read ``pz_force`` from the query the resolver parsed, not from the URL again."""

from __future__ import annotations

from personalize import ContextResolver, Request
from personalize.context import parse_url
from personalize.experiments import compile_experiments
from tests.experiments.test_experiment_plan import AB, QA, config


def test_assign_reads_the_given_query_instead_of_the_url() -> None:
    plan = compile_experiments(config({**AB, "enabled": False}, settings=QA))
    request = Request(url="/?pz_force=weights-v2:control")
    query = (("pz_force", "weights-v2:heavy"),)
    assert plan.assign(request, query=query).variants == {"weights-v2": "heavy"}
    assert plan.assign(request, query=()).variants == {}


def test_resolver_puts_the_parsed_query_on_the_context() -> None:
    url = "https://shop.example/?utm_source=x&pz_force=weights-v2:heavy&utm_source=y"
    ctx = ContextResolver().resolve(Request(url=url))
    assert ctx.query == (
        ("utm_source", "x"),
        ("pz_force", "weights-v2:heavy"),
        ("utm_source", "y"),
    )
    assert ctx.query == parse_url(url).pairs


def test_a_malformed_url_still_yields_its_query() -> None:
    parsed = parse_url("http://[::1/x?pz_force=weights-v2:heavy#frag")
    assert parsed.malformed
    assert parsed.host == ""
    assert parsed.pairs == (("pz_force", "weights-v2:heavy"),)
