"""The plugin registry: built-ins through the public API, validation, atomic installs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, model_validator

from personalize.errors import ConfigError, PluginError
from personalize.plugins import Plugin, Registry, guarded
from personalize.rules import PluginAction, RuleSet, compile_condition


class _Plugin:
    def __init__(self, name: str, setup: Any) -> None:
        self.name = name
        self._setup = setup

    def setup(self, registry: Registry) -> None:
        self._setup(registry)


def test_builtins_are_registered_like_plugins() -> None:
    registry = Registry.with_builtins()
    assert {"$eq", "$in", "$regex", "$vgt", "$between", "$near"} <= set(registry.operators)
    assert set(registry.actions) == {"boost", "bury", "pin", "filter", "exclude", "set_weights"}
    assert all(spec.builtin for spec in registry.operators.values())
    assert Registry().operators == {}


def test_each_registry_is_its_own() -> None:
    first, second = Registry.with_builtins(), Registry(builtins=True)
    first.install(_Plugin("p", lambda r: r.register_operator("$odd", lambda a, c: a % 2 == 1)))
    assert "$odd" in first.operators
    assert "$odd" not in second.operators


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda r: r.register_operator("odd", lambda a, c: True), "must look like '$name'"),
        (lambda r: r.register_operator("$in", lambda a, c: True), "already registered by builtin"),
        (
            lambda r: r.register_operator("$not", lambda a, c: True),
            "part of the condition language",
        ),
        (lambda r: r.register_operator("$odd", lambda a: True), "fn(actual, arg)"),
        (lambda r: r.register_operator("$odd", 3), "fn(actual, arg)"),
        (lambda r: r.register_operator("$odd", lambda a, c: 1, arg_kind="bytes"), "arg_kind"),
        (lambda r: r.register_fact("geo", lambda f: {}, schema={"geo.x": "number"}), "built-in"),
        (lambda r: r.register_fact("w", lambda f: {}, schema={"v.x": "number"}), "outside"),
        (lambda r: r.register_fact("w", lambda f: {}, schema={"w.x": "decimal"}), "unknown kind"),
        (lambda r: r.register_fact("w", lambda: None, schema={"w.x": "number"}), "provider(facts)"),
        (lambda r: r.register_action("boost", BaseModel, lambda s, i, c: None), "already"),
        (lambda r: r.register_action("zap", dict, lambda s, i, c: None), "pydantic model"),
        (lambda r: r.register_action("zap", BaseModel, lambda s: None), "build(spec"),
        (lambda r: r.register_scorer("fresh", "not callable"), "not callable"),
        (lambda r: 1 / 0, "setup failed: ZeroDivisionError"),
    ],
)
def test_invalid_registrations_name_the_plugin_and_the_problem(setup: Any, message: str) -> None:
    registry = Registry.with_builtins()
    with pytest.raises(PluginError) as info:
        registry.install(_Plugin("acme", setup))
    assert "plugin 'acme'" in str(info.value)
    assert message in str(info.value)


def test_a_failed_install_leaves_nothing_behind() -> None:
    registry = Registry.with_builtins()

    def setup(r: Registry) -> None:
        r.register_operator("$odd", lambda a, c: True)
        r.register_scorer("fresh", lambda *a: 0.0)
        r.register_operator("$in", lambda a, c: True)

    with pytest.raises(PluginError):
        registry.install(_Plugin("acme", setup))
    assert "$odd" not in registry.operators
    assert "fresh" not in registry.scorers
    assert "acme" not in registry.plugins
    registry.install(_Plugin("acme", lambda r: r.register_scorer("fresh", lambda *a: 0.0)))
    assert registry.scorers["fresh"]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_an_install_interrupted_by_a_base_exception_leaves_nothing_behind(
    interruption: type[BaseException],
) -> None:
    # before: only an Exception rolled back, so a Ctrl-C (or sys.exit) inside setup left
    # the plugin's operators registered without the plugin being installed
    registry = Registry.with_builtins()

    def setup(r: Registry) -> None:
        r.register_operator("$odd", lambda a, c: True)
        raise interruption

    with pytest.raises(interruption):
        registry.install(_Plugin("acme", setup))
    assert "$odd" not in registry.operators
    assert "acme" not in registry.plugins
    registry.install(_Plugin("acme", lambda r: r.register_operator("$odd", lambda a, c: True)))
    assert registry.operators["$odd"].plugin == "acme"


async def _async_fn(*args: Any) -> bool:
    return True


async def _async_gen(*args: Any) -> Any:
    yield True


class _AsyncCall:
    async def __call__(self, *args: Any) -> bool:
        return True


@pytest.mark.parametrize("fn", [_async_fn, _async_gen, _AsyncCall()])
@pytest.mark.parametrize(
    "register",
    [
        lambda r, fn: r.register_operator("$later", fn),
        lambda r, fn: r.register_operator("$later", lambda a, c: True, prepare=fn),
        lambda r, fn: r.register_fact("later", fn, schema={"later.x": "number"}),
        lambda r, fn: r.register_action("later", BaseModel, fn),
        lambda r, fn: r.register_scorer("later", fn),
        lambda r, fn: r.register_candidate_source("later", fn),
    ],
)
def test_an_async_plugin_callable_is_refused_when_it_registers(fn: Any, register: Any) -> None:
    # before: accepted; the SDK never awaits, so an async operator was silently false
    # (a coroutine is not True) and an async fact provider's paths were all missing
    registry = Registry.with_builtins()
    with pytest.raises(PluginError, match=r"plugin 'acme': .*async"):
        registry.install(_Plugin("acme", lambda r: register(r, fn)))
    assert "acme" not in registry.plugins


def test_a_plugin_that_installs_another_keeps_owning_what_it_registers_after() -> None:
    # before: the inner install handed ownership back to "builtin", so the outer plugin's
    # later operators counted as built-ins: unguarded, their exceptions escaped the request
    registry = Registry.with_builtins()
    inner = _Plugin("inner", lambda r: r.register_operator("$first", lambda a, c: True))

    def bundle(r: Registry) -> None:
        r.install(inner)
        r.register_operator("$boom", lambda a, c: 1 / 0)

    registry.install(_Plugin("bundle", bundle))
    assert registry.operators["$first"].plugin == "inner"
    assert registry.operators["$boom"].plugin == "bundle"
    seen: list[str] = []
    pred = compile_condition(
        {"x": {"$boom": 1}}, registry=registry, on_error=lambda e, label: seen.append(label)
    )
    assert pred({"x": 1}) is False
    assert seen == ["operator $boom (bundle)"]


def test_a_failed_plugin_takes_the_plugins_it_installed_with_it() -> None:
    registry = Registry.with_builtins()
    inner = _Plugin("inner", lambda r: r.register_operator("$first", lambda a, c: True))

    def bundle(r: Registry) -> None:
        r.install(inner)
        raise RuntimeError("half way")

    with pytest.raises(PluginError, match="half way"):
        registry.install(_Plugin("bundle", bundle))
    assert "$first" not in registry.operators
    assert "inner" not in registry.plugins  # before: listed, with none of its parts
    registry.install(inner)
    assert registry.operators["$first"].plugin == "inner"


def test_plugins_need_a_name_a_setup_and_a_unique_name() -> None:
    registry = Registry.with_builtins()
    with pytest.raises(PluginError, match="name"):
        registry.install(_Plugin("", lambda r: None))
    registry.install(_Plugin("a", lambda r: None))
    with pytest.raises(PluginError, match="installed already"):
        registry.install(_Plugin("a", lambda r: None))
    assert isinstance(_Plugin("b", lambda r: None), Plugin)


def test_plugin_operators_and_facts_are_usable_in_conditions() -> None:
    registry = Registry.with_builtins()

    def setup(r: Registry) -> None:
        r.register_operator(
            "$divisibleBy", lambda a, n: isinstance(a, int) and a % n == 0, arg_kind="number"
        )
        r.register_fact("stock", lambda f: {"level": 3}, schema={"stock.level": "number"})

    registry.install(_Plugin("maths", setup))
    schema = {**registry.fact_schema, "n": "number"}
    pred = compile_condition({"n": {"$divisibleBy": 3}}, schema=schema, registry=registry)
    assert pred({"n": 9})
    assert not pred({"n": 10})
    facts = registry.collect_facts({})
    assert facts == {"stock": {"level": 3}}
    assert compile_condition({"stock.level": {"$gte": 2}}, schema=schema, registry=registry)(facts)


def test_a_raising_fact_provider_is_left_out_and_reported() -> None:
    registry = Registry.with_builtins()
    registry.install(
        _Plugin("bad", lambda r: r.register_fact("w", lambda f: f["nope"], schema={"w.x": "any"}))
    )
    errors: list[str] = []
    assert registry.collect_facts({}, on_error=lambda exc, label: errors.append(label)) == {}
    assert errors == ["fact w"]


def test_a_raising_plugin_operator_is_false_outside_a_rule_set_too() -> None:
    registry = Registry.with_builtins()
    registry.install(_Plugin("p", lambda r: r.register_operator("$boom", lambda a, c: 1 / 0)))
    seen: list[str] = []
    pred = compile_condition(
        {"x": {"$boom": 1}}, registry=registry, on_error=lambda e, label: seen.append(label)
    )
    assert pred({"x": 1}) is False
    assert seen == ["operator $boom (p)"]


def test_a_plugin_operator_answering_with_a_numpy_bool_is_believed() -> None:
    # before: the answer had to be `True` itself, so `np.float64(a) > c` (np.True_) was
    # silently false, with no error to say why
    registry = Registry.with_builtins()
    registry.install(
        _Plugin("np", lambda r: r.register_operator("$over", lambda a, c: np.float64(a) > c))
    )
    seen: list[str] = []
    pred = compile_condition(
        {"x": {"$over": 2}}, registry=registry, on_error=lambda e, label: seen.append(label)
    )
    assert pred({"x": 5}) is True
    assert pred({"x": 1}) is False
    assert seen == []


@pytest.mark.parametrize("answer", [1, "yes", None, [True], np.array([True, False])])
def test_a_plugin_operator_answering_with_no_bool_is_false_and_reported(answer: Any) -> None:
    # before: silently false; now the plugin's mistake reaches the error channel
    registry = Registry.with_builtins()
    registry.install(_Plugin("p", lambda r: r.register_operator("$odd", lambda a, c: answer)))
    seen: list[tuple[str, str]] = []
    pred = compile_condition(
        {"x": {"$odd": 1}},
        registry=registry,
        on_error=lambda e, label: seen.append((type(e).__name__, label)),
    )
    assert pred({"x": 1}) is False
    assert seen == [("TypeError", "operator $odd (p)")]


def test_plugin_actions_build_through_the_registry() -> None:
    class Confetti(BaseModel):
        colour: str

    registry = Registry.with_builtins()
    registry.install(
        _Plugin(
            "party",
            lambda r: r.register_action(
                "confetti",
                Confetti,
                lambda spec, rule_id, c: PluginAction("confetti", rule_id, spec.model_dump()),
            ),
        )
    )
    ruleset = RuleSet.compile(
        {"rules": [{"id": "r", "then": [{"confetti": {"colour": "gold"}}]}]}, registry=registry
    )
    (action,) = ruleset.evaluate({}).actions
    assert action == PluginAction("confetti", "r", {"colour": "gold"})


def test_guarded_returns_the_fallback_and_reports() -> None:
    seen: list[tuple[str, str]] = []
    call = guarded(lambda x: 1 / x, "divide", -1.0)
    assert call(None, 2) == 0.5
    assert call(lambda e, label: seen.append((type(e).__name__, label)), 0) == -1.0
    assert seen == [("ZeroDivisionError", "divide")]


class _Body(BaseModel):
    size: int = 1


class _Picky(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _look(cls, data: Any) -> Any:
        return data["size"]  # KeyError: pydantic passes it through


def _fails(spec: Any, rule_id: str, c: Any) -> Any:
    raise ValueError("confetti needs a size below 10")


def _strict_body(value: Any) -> Any:
    raise KeyError("size")


def _party(setup: Any) -> Registry:
    registry = Registry.with_builtins()
    registry.install(_Plugin("party", setup))
    return registry


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            lambda r: r.register_action("confetti", _Body, _fails),
            "action confetti (party) failed: ValueError: confetti needs a size below 10",
        ),
        (
            lambda r: r.register_action("confetti", _Body, lambda s, i, c: 42),
            "action confetti (party) built int, not an action",
        ),
        (
            lambda r: r.register_action("confetti", _Picky, _fails),
            "action confetti (party) failed: KeyError: 'size'",
        ),
    ],
)
def test_a_plugin_action_that_fails_to_build_is_a_problem_with_the_others(
    setup: Any, message: str
) -> None:
    # before: the ValueError escaped the load; a build returning 42 loaded as an "action"
    config = {
        "rules": [
            {"id": "r", "then": [{"confetti": {}}]},
            {"id": "s", "when": {"geo.contry": "CA"}},
        ]
    }
    with pytest.raises(ConfigError) as caught:
        RuleSet.compile(config, registry=_party(setup))
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("rules[0].then[0].confetti", message),
        ("rules[1].when.geo.contry", "unknown fact"),
    ]


def test_a_plugin_operator_whose_prepare_raises_anything_is_a_problem() -> None:
    # before: the KeyError escaped the load (only ValueError and TypeError were caught)
    registry = _party(
        lambda r: r.register_operator("$odd", lambda a, c: True, prepare=_strict_body)
    )
    with pytest.raises(ConfigError) as caught:
        RuleSet.compile(
            {"rules": [{"id": "r", "when": {"loyalty.points": {"$odd": 1}}}]}, registry=registry
        )
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("rules[0].when.loyalty.points.$odd", "$odd: KeyError: 'size'")
    ]
