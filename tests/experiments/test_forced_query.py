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


def test_an_encoded_force_parameter_forces_as_the_resolver_reads_it() -> None:
    # parse_url decodes "pz%5Fforce" to "pz_force", so a Personalizer (which hands the
    # resolver's query over) forced the variant, while assign() on the bare request
    # skipped parsing: the URL did not contain the literal "pz_force".
    plan = compile_experiments(config({**AB, "enabled": False}, settings=QA))
    request = Request(url="/?pz%5Fforce=weights-v2:heavy")
    via_resolver = plan.assign(request, query=ContextResolver().resolve(request).query)
    assert via_resolver.variants == {"weights-v2": "heavy"}
    assert plan.assign(request).variants == via_resolver.variants
