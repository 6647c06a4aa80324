from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize.campaigns import CodeFormat, issue_code, verify_code
from personalize.campaigns._codes import CodeIssuer

ids = st.text(min_size=1, max_size=40)
secrets = st.text(min_size=1, max_size=40)


@given(ids, ids, ids, secrets)
def test_a_code_is_deterministic_and_verifies(
    offer: str, customer: str, campaign: str, secret: str
) -> None:
    code = issue_code(offer, customer, campaign, secret, prefix="SAVE10")
    assert code == issue_code(offer, customer, campaign, secret, prefix="SAVE10")
    assert code.startswith("SAVE10-")
    assert len(code) == len("SAVE10-") + 8
    assert verify_code(code, offer, customer, campaign, secret)


@given(ids, ids, ids, secrets, st.sampled_from(["offer", "customer", "campaign", "secret"]))
def test_a_code_does_not_verify_for_other_ids_or_secret(
    offer: str, customer: str, campaign: str, secret: str, changed: str
) -> None:
    code = issue_code(offer, customer, campaign, secret)
    args = {"offer": offer, "customer": customer, "campaign": campaign, "secret": secret}
    args[changed] = args[changed] + "x"
    assert not verify_code(code, args["offer"], args["customer"], args["campaign"], args["secret"])


@given(ids, ids, ids, secrets, st.integers(min_value=0, max_value=7))
def test_a_tampered_code_does_not_verify(
    offer: str, customer: str, campaign: str, secret: str, position: int
) -> None:
    code = issue_code(offer, customer, campaign, secret, prefix="P")
    digits = list(code)
    i = len(digits) - 8 + position
    digits[i] = "A" if digits[i] != "A" else "B"
    assert not verify_code("".join(digits), offer, customer, campaign, secret)


def test_ids_are_kept_apart_in_the_digest() -> None:
    assert issue_code("a-b", "c", "k", "s") != issue_code("a", "b-c", "k", "s")


def test_a_custom_format_is_rendered_and_verified() -> None:
    fmt = "X{code:12}-{prefix}"
    code = issue_code("o1", "c1", "w48", b"key", prefix="SALE", code_format=fmt)
    assert code.startswith("X")
    assert code.endswith("-SALE")
    assert len(code) == 1 + 12 + 5
    assert verify_code(code, "o1", "c1", "w48", b"key", code_format=fmt)
    assert not verify_code(code, "o1", "c1", "w48", b"key")  # other template


@pytest.mark.parametrize("template", ["{prefix}", "{code}{code}", "{code:3}", "{code:8}{other}"])
def test_a_bad_format_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match="code format"):
        CodeFormat(template)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        issue_code("o", "c", "k", "")
    assert not verify_code("P-AAAAAAAA", "o", "c", "k", "")


def _reference(offer: str, customer: str, campaign: str, secret: str, length: int) -> str:
    """The code scheme as documented: HMAC-SHA256 of the JSON array, base32, cut."""
    import base64
    import hashlib
    import hmac
    import json

    message = json.dumps([offer, customer, campaign], ensure_ascii=False).encode()
    raw = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(raw).decode().rstrip("=")[:length]


@given(ids, ids, ids, secrets, st.integers(4, 52), st.sampled_from(["", "-", "{prefix}/"]))
def test_a_campaigns_issuer_gives_the_documented_codes_of_issue_code(
    offer: str, customer: str, campaign: str, secret: str, length: int, before: str
) -> None:
    template = f"{before}{{code:{length}}}.{{prefix}}"
    issuer = CodeIssuer(secret, campaign, template)
    code = issuer.issue(offer, customer, "P")
    digest = _reference(offer, customer, campaign, secret, length)
    assert code == f"{before.replace('{prefix}', 'P')}{digest}.P"
    assert code == issue_code(offer, customer, campaign, secret, prefix="P", code_format=template)
    assert issuer.issue(offer, customer, "P") == code  # the prefix's text is reused as is
    assert verify_code(code, offer, customer, campaign, secret, code_format=template)


def test_an_issuer_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        CodeIssuer("", "week48", "{code}")
