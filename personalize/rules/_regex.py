"""``$regex`` patterns, compiled for RE2: matching takes time linear in the input.

Conditions match patterns against request data a visitor writes (``referral.campaign`` comes
from ``?utm_campaign=``). A backtracking engine lets one request spend seconds on a pattern
such as ``(a+)+$``, holding the interpreter lock all the while; RE2 (``google-re2``) matches
any pattern in one pass over the input, and only the first :data:`MAX_REGEX_INPUT`
characters of a value are matched.

RE2 reads the syntax of Perl, Python and JavaScript patterns, without the features that need
backtracking: backreferences (``\\1``) and lookaround (``(?=``, ``(?!``, ``(?<=``) are
rejected when the pattern is compiled. ``\\d``, ``\\w`` and ``\\b`` are ASCII classes, and
``\\s`` is JavaScript's Unicode whitespace (as in JavaScript; RE2's own is ASCII, so it is
spelled out); ``\\p{L}`` and friends name Unicode classes. ``\\Z`` is spelled ``\\z``.

``$options`` letters map to RE2 as follows: ``i`` case-insensitive, ``m`` ``^``/``$`` at
line breaks, ``s`` ``.`` matches a newline, ``x`` whitespace and ``#`` comments outside
character classes are removed before compiling (RE2 has no verbose mode of its own).
"""

from __future__ import annotations

from typing import Any

import re2

from personalize._models import without_surrogates
from personalize.rules._values import JS_SPACE

__all__ = ["MAX_REGEX_INPUT", "MAX_REGEX_LENGTH", "REGEX_OPTIONS", "Regex"]

#: Longest pattern ``$regex`` accepts (regexes in configuration are bounded).
MAX_REGEX_LENGTH = 1000
#: Characters of a value a pattern is matched against: the first this many.
MAX_REGEX_INPUT = 4096
#: Short values a pattern remembers its answer for (request values repeat: browsers,
#: campaigns); a search through RE2's Python binding costs a few microseconds.
_REMEMBERED_VALUES = 256
_REMEMBERED_CHARS = 64
#: The ``$options`` letters understood.
REGEX_OPTIONS = frozenset("imsx")
#: What RE2 says about a feature it lacks, and what to tell the author.
_HINTS = (
    ("invalid perl operator: (?=", "lookahead is not supported (RE2 runs in linear time)"),
    ("invalid perl operator: (?!", "lookahead is not supported (RE2 runs in linear time)"),
    ("invalid perl operator: (?<", "lookbehind is not supported (RE2 runs in linear time)"),
    ("invalid escape sequence: \\Z", "write \\z (end of text) instead of \\Z"),
)
_BACKREFERENCE = "invalid escape sequence: \\"


class Regex:
    """A compiled ``$regex``: :meth:`matches` searches the start of a value in linear time.

    Args:
        pattern: The pattern.
        options: ``$options`` letters among ``imsx``.
        insensitive: Match regardless of case (``$regexi``), as option ``i``.

    Raises:
        ValueError: The pattern is too long, an option is unknown, or RE2 cannot compile it.
    """

    __slots__ = ("_search", "_seen", "options", "pattern")

    def __init__(self, pattern: str, options: str = "", *, insensitive: bool = False) -> None:
        if len(pattern) > MAX_REGEX_LENGTH:
            raise ValueError(f"regex longer than {MAX_REGEX_LENGTH} characters")
        if set(options) - REGEX_OPTIONS:
            raise ValueError(f"$options {options!r}: use letters among 'imsx'")
        self.pattern = pattern
        self.options = options
        source = _js_spaces(_strip_verbose(pattern) if "x" in options else pattern)
        settings = re2.Options()
        settings.log_errors = False
        settings.never_capture = True
        settings.case_sensitive = not (insensitive or "i" in options)
        settings.dot_nl = "s" in options
        if "m" in options:
            source = "(?m)" + source
        try:
            compiled = re2.compile(source, settings)
        except re2.error as exc:
            raise ValueError(f"invalid regex {pattern!r}: {_reason(exc)}") from None
        self._search = compiled.search
        self._seen: dict[str, bool] = {}

    def matches(self, text: str) -> bool:
        """Whether the pattern occurs in the first :data:`MAX_REGEX_INPUT` characters.

        A lone surrogate (which UTF-8, and so RE2, cannot hold) is matched as U+FFFD.
        """
        if len(text) > _REMEMBERED_CHARS:
            return self._found(text[:MAX_REGEX_INPUT])
        seen = self._seen
        found = seen.get(text)
        if found is None:
            found = self._found(text)
            if len(seen) >= _REMEMBERED_VALUES:
                seen.clear()
            seen[text] = found
        return found

    def _found(self, text: str) -> bool:
        try:
            return self._search(text) is not None
        except UnicodeEncodeError:  # a lone surrogate: RE2's binding encodes to UTF-8
            return self._search(without_surrogates(text)) is not None

    def __repr__(self) -> str:
        suffix = f", options={self.options!r}" if self.options else ""
        return f"Regex({self.pattern!r}{suffix})"


def _reason(exc: Any) -> str:
    raw = exc.args[0] if exc.args else ""
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for prefix, hint in _HINTS:
        if message.startswith(prefix):
            return f"{message}; {hint}"
    if message.startswith(_BACKREFERENCE) and message[len(_BACKREFERENCE) :][:1].isdigit():
        return f"{message}; backreferences are not supported (RE2 runs in linear time)"
    return message


#: JavaScript's ``\s`` (:data:`~personalize.rules._values.JS_SPACE`) as the inside of an
#: RE2 class: RE2's own is ASCII only, without even the vertical tab.
_JS_SPACES = "".join(f"\\x{{{ord(c):X}}}" for c in JS_SPACE)


def _js_spaces(pattern: str) -> str:
    """Spell ``\\s`` and ``\\S`` as JavaScript's whitespace classes.

    ``\\s`` inside a character class becomes the characters themselves; ``\\S`` inside
    one is left to RE2 (ASCII), as a class cannot hold a negated class.
    """
    if "\\s" not in pattern and "\\S" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    class_end = -1  # inside a class: the index after its closing "]"
    while i < n:
        if 0 <= class_end <= i:
            class_end = -1
        char = pattern[i]
        if char == "\\":
            pair = pattern[i : i + 2]
            inside = class_end >= 0
            if pair == "\\s":
                out.append(_JS_SPACES if inside else f"[{_JS_SPACES}]")
            elif pair == "\\S" and not inside:
                out.append(f"[^{_JS_SPACES}]")
            else:
                out.append(pair)
            i += 2
            continue
        if char == "[" and class_end < 0:
            class_end = _class_end(pattern, i)
        out.append(char)
        i += 1
    return "".join(out)


def _strip_verbose(pattern: str) -> str:
    """Drop the whitespace and ``#`` comments of a verbose pattern, as Python's ``re.X`` does.

    Escaped characters and character classes are kept as written.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif char == "[":
            end = _class_end(pattern, i)
            out.append(pattern[i:end])
            i = end
        elif char == "#":
            newline = pattern.find("\n", i)
            i = n if newline < 0 else newline + 1
        else:
            if not char.isspace():
                out.append(char)
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """The index after the ``]`` closing the class opened at ``start`` (or the end)."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":  # a leading ``]`` is a literal
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i + 1
        i += 1
    return len(pattern)
