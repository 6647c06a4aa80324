"""The visitor cookie: signed, HttpOnly, expiring, with sessions that time out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize import ConfigError
from personalize.web import Identity, IdentitySettings, identity_cookie, read_identity

NOW = 1_800_000_000.0
SETTINGS = IdentitySettings(secret="s" * 32)


def _cookie_header(identity: Identity, settings: IdentitySettings = SETTINGS) -> str:
    """The Cookie header a browser sends back for the Set-Cookie value."""
    return identity_cookie(identity, settings).split(";", 1)[0]


def test_no_cookie_gives_a_fresh_visitor_and_session() -> None:
    identity = read_identity(None, SETTINGS, now=NOW)
    assert identity.is_new
    assert identity.new_session
    assert identity.visitor_id != identity.session_id
    assert identity.customer_id is None
    assert identity.user_id == identity.visitor_id


def test_a_cookie_round_trips_visitor_session_and_customer() -> None:
    first = read_identity(None, SETTINGS, now=NOW).link_customer("c42")
    again = read_identity(_cookie_header(first), SETTINGS, now=NOW + 60)
    assert (again.visitor_id, again.session_id, again.customer_id) == (
        first.visitor_id,
        first.session_id,
        "c42",
    )
    assert not again.is_new
    assert not again.new_session
    assert again.user_id == "c42"
    assert again.last_seen == NOW + 60


def test_the_cookie_is_found_among_others() -> None:
    first = read_identity(None, SETTINGS, now=NOW)
    header = f"theme=dark; {_cookie_header(first)}; lang=fr"
    assert read_identity(header, SETTINGS, now=NOW).visitor_id == first.visitor_id


def test_the_session_rotates_after_the_idle_timeout_and_the_visitor_stays() -> None:
    first = read_identity(None, SETTINGS, now=NOW)
    within = read_identity(_cookie_header(first), SETTINGS, now=NOW + 29 * 60)
    assert within.session_id == first.session_id
    later = read_identity(_cookie_header(within), SETTINGS, now=NOW + 29 * 60 + 31 * 60)
    assert later.visitor_id == first.visitor_id
    assert later.session_id != first.session_id
    assert later.new_session
    assert not later.is_new


def test_activity_keeps_the_session_alive() -> None:
    identity = read_identity(None, SETTINGS, now=NOW)
    for minute in range(20, 200, 20):
        identity = read_identity(_cookie_header(identity), SETTINGS, now=NOW + minute * 60)
    assert not identity.new_session


def test_a_configured_session_timeout_is_used() -> None:
    short = IdentitySettings(secret="s" * 32, session_timeout=timedelta(minutes=5))
    first = read_identity(None, short, now=NOW)
    assert read_identity(_cookie_header(first, short), short, now=NOW + 6 * 60).new_session


def test_an_expired_cookie_gives_a_fresh_identity() -> None:
    settings = IdentitySettings(secret="s" * 32, max_age=timedelta(days=7))
    first = read_identity(None, settings, now=NOW)
    later = read_identity(_cookie_header(first, settings), settings, now=NOW + 8 * 86400)
    assert later.is_new
    assert later.visitor_id != first.visitor_id


def test_a_tampered_cookie_gives_a_fresh_identity() -> None:
    first = read_identity(None, SETTINGS, now=NOW).link_customer("c1")
    name, value = _cookie_header(first).split("=", 1)
    body, signature = value.split(".")
    forged = identity_cookie(first.link_customer("c2"), SETTINGS).split(";")[0]
    forged_body = forged.split("=", 1)[1].split(".")[0]
    for bad in (f"{forged_body}.{signature}", f"{body}.{signature[:-2]}AA", body, "garbage"):
        identity = read_identity(f"{name}={bad}", SETTINGS, now=NOW)
        assert identity.is_new, bad
        assert identity.customer_id is None


def test_a_cookie_signed_with_another_secret_is_not_believed() -> None:
    other = IdentitySettings(secret="o" * 32)
    first = read_identity(None, other, now=NOW)
    assert read_identity(_cookie_header(first, other), SETTINGS, now=NOW).is_new


def test_a_cookie_under_another_name_is_not_read() -> None:
    other = IdentitySettings(secret="s" * 32, cookie_name="other")
    first = read_identity(None, SETTINGS, now=NOW)
    renamed = "other=" + _cookie_header(first).split("=", 1)[1]
    assert read_identity(renamed, other, now=NOW).is_new


def test_set_cookie_is_http_only_lax_secure_with_name_and_lifetime() -> None:
    settings = IdentitySettings(secret="s" * 32, cookie_name="vid", max_age=timedelta(days=30))
    header = identity_cookie(read_identity(None, settings, now=NOW), settings)
    name, *attributes = [part.strip() for part in header.split(";")]
    assert name.startswith("vid=")
    assert set(attributes) == {"Max-Age=2592000", "Path=/", "HttpOnly", "SameSite=Lax", "Secure"}


def test_secure_can_be_turned_off_for_local_http() -> None:
    settings = IdentitySettings(secret="s" * 32, secure=False)
    assert "Secure" not in identity_cookie(read_identity(None, settings), settings)


def test_a_too_long_customer_id_is_not_linked() -> None:
    identity = read_identity(None, SETTINGS).link_customer("x" * 1000)
    assert identity.customer_id is None


def test_logging_out_unlinks_the_customer() -> None:
    identity = read_identity(None, SETTINGS).link_customer("c42").link_customer(None)
    assert identity.customer_id is None


def test_bad_settings_report_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        IdentitySettings(
            secret="short",
            cookie_name="bad name",
            max_age=timedelta(0),
            session_timeout=timedelta(-1),
            same_site="none",
            secure=False,
        )
    paths = [p.path for p in caught.value.problems]
    assert paths == ["secret", "cookie_name", "max_age", "session_timeout", "same_site"]


@given(header=st.one_of(st.none(), st.text(max_size=300), st.binary(max_size=50)))
def test_garbage_cookie_headers_give_a_fresh_identity(header: object) -> None:
    assert read_identity(header, SETTINGS).is_new  # type: ignore[arg-type]


@given(value=st.text(max_size=200))
def test_garbage_cookie_values_under_our_name_give_a_fresh_identity(value: str) -> None:
    assert read_identity(f"pz_visitor={value}", SETTINGS).is_new
