"""``$regex`` on RE2: linear time on hostile input, ``$options``, rejected patterns, input cap."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize import Personalizer, Request
from personalize.errors import ConfigError
from personalize.rules import compile_condition
from personalize.rules._regex import MAX_REGEX_INPUT, Regex, _strip_verbose

ATTACK = "a" * 24 + "!"


def _campaign(value: str) -> dict[str, Any]:
    return {"referral": {"campaign": value}}


def test_catastrophic_backtracking_pattern_runs_in_linear_time() -> None:
    predicate = compile_condition({"referral.campaign": {"$regex": "(a+)+$"}})
    predicate(_campaign("warm-up"))
    start = time.perf_counter()
    assert predicate(_campaign(ATTACK)) is False
    assert time.perf_counter() - start < 0.5  # a backtracking engine takes seconds


def test_the_attack_through_personalize_is_fast_and_leaves_other_threads_running() -> None:
    config = {"segments": {"attacked": {"referral.campaign": {"$regex": "(a+)+$"}}}}
    p = Personalizer(config, autoload_plugins=False)
    p.personalize(Request(url="https://shop.example/?utm_campaign=warm-up"))
    finished = threading.Event()

    def attacker() -> None:
        for i in range(5):  # each value new, so no remembered answer helps
            p.personalize(Request(url=f"https://shop.example/?utm_campaign={ATTACK}{i}"))
        finished.set()

    thread = threading.Thread(target=attacker)
    start = time.perf_counter()
    thread.start()
    normal = p.personalize(Request(url="https://shop.example/?utm_campaign=aaa"))
    thread.join()
    assert finished.is_set()
    assert time.perf_counter() - start < 2.0  # 5 backtracking attacks take about 9 s
    assert "attacked" in normal.segments


@pytest.mark.parametrize(
    ("pattern", "where"),
    [
        (r"(a)\1", "backreferences are not supported"),
        (r"a(?=b)", "lookahead is not supported"),
        (r"a(?!b)", "lookahead is not supported"),
        (r"(?<=a)b", "lookbehind is not supported"),
        (r"(?<!a)b", "lookbehind is not supported"),
        (r"a\Z", "write \\z"),
        (r"a++", "invalid"),
        (r"(?>a)", "invalid"),
    ],
)
def test_patterns_that_need_backtracking_are_config_errors_with_their_path(
    pattern: str, where: str
) -> None:
    with pytest.raises(ConfigError) as info:
        compile_condition({"referral.campaign": {"$regex": pattern}})
    [problem] = info.value.problems
    assert problem.path == "referral.campaign.$regex"
    assert where in problem.message


def test_every_invalid_pattern_of_a_file_is_reported_at_once() -> None:
    config = {
        "segments": {
            "a": {"referral.campaign": {"$regex": r"(x)\1"}},
            "b": {"referral.medium": {"$regexi": r"x(?=y)"}},
            "c": {"device.browser": {"$notRegex": "(unclosed"}},
        }
    }
    with pytest.raises(ConfigError) as info:
        Personalizer(config, autoload_plugins=False)
    assert sorted(p.path for p in info.value.problems) == [
        "segments.a.referral.campaign.$regex",
        "segments.b.referral.medium.$regexi",
        "segments.c.device.browser.$notRegex",
    ]


def test_an_unsupported_pattern_evaluates_false_when_not_strict() -> None:
    predicate = compile_condition({"name": {"$regex": r"(a)\1"}}, strict=False)
    assert predicate({"name": "aa"}) is False


@pytest.mark.parametrize(
    ("options", "pattern", "text", "expected"),
    [
        ("", "^ios", "iOS", False),
        ("i", "^ios", "iOS", True),
        ("", "^b", "a\nb", False),
        ("m", "^b", "a\nb", True),
        ("m", "a$", "a\nb", True),
        ("", "a.b", "a\nb", False),
        ("s", "a.b", "a\nb", True),
        ("x", "a b  c # a comment", "abc", True),
        ("x", "a[ ]b", "a b", True),
        ("x", r"a\ b", "a b", True),
        ("x", "a b", "a b", False),
        ("ix", "A B", "ab", True),
        ("ims", "^B.C$", "a\nb\nc", True),
    ],
)
def test_options_map_onto_re2(options: str, pattern: str, text: str, expected: bool) -> None:
    predicate = compile_condition({"v": {"$regex": pattern, "$options": options}})
    assert predicate({"v": text}) is expected


def test_regexi_and_notregex_keep_their_meaning() -> None:
    assert compile_condition({"v": {"$regexi": "MOBILE"}})({"v": "android mobile"}) is True
    assert compile_condition({"v": {"$notRegex": "mobile"}})({"v": "desktop"}) is True
    assert compile_condition({"v": {"$notRegexi": "MOBILE"}})({"v": "mobile"}) is False


def test_only_the_first_characters_of_a_value_are_matched() -> None:
    predicate = compile_condition({"v": {"$regex": "needle"}})
    assert predicate({"v": "x" * (MAX_REGEX_INPUT - 6) + "needle"}) is True
    assert predicate({"v": "x" * (MAX_REGEX_INPUT - 5) + "needle"}) is False


def test_a_huge_value_costs_no_more_than_its_first_characters() -> None:
    regex = Regex("(x+x+)+y")
    start = time.perf_counter()
    assert regex.matches("x" * 10_000_000) is False
    assert time.perf_counter() - start < 0.5


def test_unicode_text_and_case_folding() -> None:
    assert Regex("café", "i").matches("CAFÉ au lait")
    assert Regex(r"\p{Greek}+").matches("λόγος")
    assert not Regex(r"^\d+$").matches("١٢٣")  # \d is ASCII, as in JavaScript


# -- differential: RE2 with options agrees with Python's re on the syntax both share

_ATOMS = st.sampled_from(["a", "b", "A", ".", "[ab]", "[^a]", r"\d", "é", "É"])


def _node(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, children).map("".join),
        st.tuples(children, children).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        st.tuples(children, st.sampled_from(["*", "+", "?", "{1,2}"])).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        ),
    )


_PATTERNS = st.tuples(
    st.sampled_from(["", "^"]),
    st.recursive(_ATOMS, _node, max_leaves=6),
    st.sampled_from(["", "$"]),
)
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


@given(
    _PATTERNS,
    st.sets(st.sampled_from("ims")).map("".join),
    st.text(alphabet="abAB1\né", max_size=12),
)
def test_re2_agrees_with_python_re(pattern: tuple[str, str, str], options: str, text: str) -> None:
    start, body, end = pattern
    flags = 0
    for letter in options:
        flags |= _FLAGS[letter]
    # Python's ``$`` also matches before a final newline; RE2's (like JavaScript's) does not.
    python_end = "\\Z" if end and "m" not in options else end
    expected = re.search(start + body + python_end, text, flags) is not None
    assert Regex(start + body + end, options).matches(text) is expected


@given(st.lists(st.sampled_from(["a", "b", " ", "\n", "#c\n", "[ ]", r"\ ", "[#]"]), max_size=8))
def test_verbose_stripping_agrees_with_python_re(parts: list[str]) -> None:
    pattern = "".join(parts)
    try:
        reference = re.compile(pattern, re.VERBOSE).pattern
    except re.error:
        return
    for text in ("ab", "a b", "a#b", " ", "#", ""):
        expected = re.search(reference, text, re.VERBOSE) is not None
        assert Regex(pattern, "x").matches(text) is expected, (pattern, _strip_verbose(pattern))


@given(st.lists(st.text(alphabet="ab!", max_size=80), min_size=1, max_size=300))
def test_remembered_answers_equal_fresh_ones(texts: list[str]) -> None:
    shared = Regex("^(a|b)*!$")
    first = [shared.matches(t) for t in texts]
    again = [shared.matches(t) for t in reversed(texts)][::-1]
    assert first == again == [Regex("^(a|b)*!$").matches(t) for t in texts]


@pytest.mark.parametrize("value", ["vip-\ud800", "\udfffvip-", "vip-" + "x" * 100 + "\udc80"])
def test_a_lone_surrogate_in_the_value_is_matched_as_a_replacement_character(value: str) -> None:
    # RE2's binding encodes its input to UTF-8, which cannot hold a lone surrogate.
    assert Regex("vip-").matches(value) is True
    assert Regex("\ufffd").matches(value) is True
    assert Regex("^nope").matches(value) is False


def test_a_surrogate_in_request_data_does_not_fail_the_rules() -> None:
    config = {
        "segments": {
            "vip": {"referral.campaign": {"$regex": "^SALE\ufffd$"}},
            "sale": {"referral.campaign": {"$regexi": "sale"}},
        },
        "landing": [
            {"id": "vip", "when": {"segments": "vip"}, "page": "/vip/"},
            {"id": "d", "page": "/"},
        ],
    }
    p = Personalizer(config, autoload_plugins=False, store=None, freeze_gc=False)
    result = p.personalize(
        Request(user_id="vip-\ud800", url="https://s.example/?utm_campaign=SALE\udfff")
    )
    assert not result.degraded, result.trace.errors
    assert result.segments == {"vip", "sale"}
    assert result.landing is not None
    assert result.landing.page == "/vip/"


#: JavaScript's \s: WhiteSpace and LineTerminator, Unicode-wide.
JS_SPACES = "\t\n\v\f\r \u00a0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


@pytest.mark.parametrize("space", list(JS_SPACES))
def test_backslash_s_matches_javascripts_whitespace(space: str) -> None:
    text = f"a{space}b"
    assert Regex(r"a\sb").matches(text) is True
    assert Regex(r"a[\s]b").matches(text) is True
    assert Regex(r"a[^\s]b").matches(text) is False
    assert Regex(r"a\Sb").matches(text) is False
    assert Regex(r"^\s+$", "x").matches(space * 3) is True


@pytest.mark.parametrize("other", ["x", "\u200b", "\u0085", "_", "\\"])
def test_backslash_s_does_not_match_what_javascript_does_not(other: str) -> None:
    text = f"a{other}b"
    assert Regex(r"a\sb").matches(text) is False
    assert Regex(r"a\Sb").matches(text) is True
    assert Regex(r"a[\s]b").matches(text) is False
    assert Regex(r"a\\sb").matches("a\\sb") is True  # an escaped backslash, then "s"
