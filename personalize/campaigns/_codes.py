"""Coupon codes: one per offer, customer and campaign, that only this merchant can issue.

A code is the HMAC-SHA256 of the offer id, the customer id and the campaign id under a
secret, in base32 (RFC 4648, no padding), cut to a length and written into a template:
``{prefix}-{code:8}`` gives ``COMEBACK10-K7QW2M4A`` when the offer's ``code`` is
``COMEBACK10``. The same inputs always give the same code, so a campaign run twice issues
the same codes; :func:`verify_code` recomputes the digest and compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _quote

__all__ = ["DEFAULT_CODE_FORMAT", "CodeFormat", "CodeIssuer", "issue_code", "verify_code"]

#: The default template: the offer's own code, a dash and 8 base32 characters.
DEFAULT_CODE_FORMAT = "{prefix}-{code:8}"
_FIELD = re.compile(r"\{(prefix|code)(?::(\d+))?\}")
_MAX_LENGTH = 52  # base32 characters of a SHA-256 digest


@dataclass(frozen=True)
class CodeFormat:
    """A code template: literal text with ``{prefix}`` and ``{code:N}`` fields.

    ``{prefix}`` is the offer's ``code`` (its id when it has none); ``{code:N}`` is ``N``
    base32 characters of the digest (8 without ``:N``; at most 52).

    Raises:
        ValueError: The template has no ``{code}`` field, two of them, or a bad length.
    """

    template: str = DEFAULT_CODE_FORMAT
    length: int = field(init=False, default=8)
    _parts: tuple[str, ...] = field(init=False, repr=False, default=())
    _pattern: re.Pattern[str] = field(init=False, repr=False, default=re.compile(""))

    def __post_init__(self) -> None:
        fields = list(_FIELD.finditer(self.template))
        codes = [m for m in fields if m.group(1) == "code"]
        if len(codes) != 1:
            raise ValueError(f"code format {self.template!r}: needs exactly one {{code}} field")
        length = int(codes[0].group(2) or 8)
        if not 4 <= length <= _MAX_LENGTH:
            raise ValueError(f"code format {self.template!r}: {{code:N}} needs 4 <= N <= 52")
        literal = _FIELD.sub("", self.template)
        if "{" in literal or "}" in literal:
            raise ValueError(f"code format {self.template!r}: only {{prefix}} and {{code:N}}")
        parts: list[str] = []  # literal, field, literal, field ... literal
        pattern: list[str] = []
        last = 0
        for m in fields:
            parts += [self.template[last : m.start()], m.group(1)]
            pattern.append(re.escape(self.template[last : m.start()]))
            pattern.append(".*?" if m.group(1) == "prefix" else f"(?P<code>[A-Z2-7]{{{length}}})")
            last = m.end()
        parts.append(self.template[last:])
        pattern.append(re.escape(self.template[last:]))
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "_parts", tuple(parts))
        object.__setattr__(self, "_pattern", re.compile("".join(pattern), re.DOTALL))

    def render(self, prefix: str, digest: str) -> str:
        """The template filled with ``prefix`` and ``digest`` (already cut to length)."""
        values = {"prefix": prefix, "code": digest}
        parts = self._parts
        return "".join(p if i % 2 == 0 else values[p] for i, p in enumerate(parts))

    def around(self, prefix: str) -> tuple[str, str]:
        """The text before and after the ``{code}`` field, with ``prefix`` written in."""
        values = {"prefix": prefix, "code": "\x00"}
        head: list[str] = []
        tail: list[str] = []
        target = head
        for i, part in enumerate(self._parts):
            if i % 2 == 1 and part == "code":
                target = tail
            else:
                target.append(part if i % 2 == 0 else values[part])
        return "".join(head), "".join(tail)

    def digest_of(self, code: str) -> str | None:
        """The digest part of ``code``, or ``None`` when it does not fit the template."""
        match = self._pattern.fullmatch(code)
        return match.group("code") if match else None


def _key(secret: bytes | str) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _message(offer_id: str, customer_id: str, campaign_tail: str) -> bytes:
    """``json.dumps([offer_id, customer_id, campaign_id], ensure_ascii=False)``, encoded.

    A JSON array keeps the three ids apart: ("a-b", "c") and ("a", "b-c") differ.
    ``campaign_tail`` is :func:`_tail` of the campaign id, built once per campaign.
    """
    return f"[{_quote(offer_id)}, {_quote(customer_id)}{campaign_tail}".encode()


def _tail(campaign_id: str) -> str:
    return f", {_quote(campaign_id)}]"


def _digest(secret: bytes | str, offer_id: str, customer_id: str, campaign_id: str) -> str:
    message = _message(offer_id, customer_id, _tail(campaign_id))
    raw = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.b32encode(raw).decode("ascii").rstrip("=")


class CodeIssuer:
    """The codes of one campaign, with the secret, the campaign id and the template bound.

    ``issuer.issue(offer_id, customer_id, prefix)`` equals ``issue_code(offer_id,
    customer_id, campaign_id, secret, prefix=prefix, code_format=code_format)``; the keyed
    hash state and each prefix's text around the code are prepared once, not per code.

    Raises:
        ValueError: The secret is empty.
    """

    def __init__(
        self, secret: bytes | str, campaign_id: str, code_format: CodeFormat | str
    ) -> None:
        if not secret:
            raise ValueError("the campaign secret must not be empty")
        self._format = (
            code_format if isinstance(code_format, CodeFormat) else CodeFormat(code_format)
        )
        self._mac = hmac.new(_key(secret), digestmod=hashlib.sha256)
        self._tail = _tail(campaign_id)
        self._around: dict[str, tuple[str, str]] = {}
        # Base32 turns each 5 bytes into 8 characters: the first N characters of the
        # digest's encoding are those of its first 5 * ceil(N / 8) bytes.
        self._bytes = 5 * -(-self._format.length // 8)

    def issue(self, offer_id: str, customer_id: str, prefix: str) -> str:
        """The code of ``offer_id`` for ``customer_id``, with ``prefix`` for ``{prefix}``."""
        mac = self._mac.copy()
        mac.update(_message(offer_id, customer_id, self._tail))
        digest = base64.b32encode(mac.digest()[: self._bytes])[: self._format.length]
        around = self._around.get(prefix)
        if around is None:
            around = self._around[prefix] = self._format.around(prefix)
        return f"{around[0]}{digest.decode('ascii')}{around[1]}"


def issue_code(
    offer_id: str,
    customer_id: str,
    campaign_id: str,
    secret: bytes | str,
    *,
    prefix: str | None = None,
    code_format: CodeFormat | str = DEFAULT_CODE_FORMAT,
) -> str:
    """The coupon code of one offer for one customer in one campaign.

    Args:
        offer_id: The offer's id.
        customer_id: The customer's id.
        campaign_id: The campaign's id.
        secret: The merchant's secret key; keep it out of the configuration.
        prefix: Written for ``{prefix}``: the offer's ``code`` (default: ``offer_id``).
        code_format: The template (see :class:`CodeFormat`).

    Returns:
        The code; the same arguments always give the same code.

    Raises:
        ValueError: The secret is empty.
    """
    if not secret:
        raise ValueError("the campaign secret must not be empty")
    fmt = code_format if isinstance(code_format, CodeFormat) else CodeFormat(code_format)
    digest = _digest(secret, offer_id, customer_id, campaign_id)[: fmt.length]
    return fmt.render(prefix if prefix is not None else offer_id, digest)


def verify_code(
    code: str,
    offer_id: str,
    customer_id: str,
    campaign_id: str,
    secret: bytes | str,
    *,
    code_format: CodeFormat | str = DEFAULT_CODE_FORMAT,
) -> bool:
    """Whether ``code`` is the one :func:`issue_code` gives for these ids and secret.

    The digest is compared in constant time (:func:`hmac.compare_digest`); the prefix is
    not checked, since it carries no secret.

    Args:
        code: The code a customer entered (compared as given; upper-case it first if
            your checkout does not).
        offer_id: The offer it should be for.
        customer_id: The customer it should be for.
        campaign_id: The campaign it should come from.
        secret: The secret the campaign ran with.
        code_format: The template the campaign ran with.
    """
    if not secret:
        return False
    fmt = code_format if isinstance(code_format, CodeFormat) else CodeFormat(code_format)
    given = fmt.digest_of(code)
    if given is None:
        return False
    expected = _digest(secret, offer_id, customer_id, campaign_id)[: fmt.length]
    return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))
