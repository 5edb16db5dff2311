"""Signed delivery tokens: bound to a purpose and a secret, and they expire."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from notifier import tokens

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
KEY = "test-secret-key"


@pytest.mark.parametrize("purpose", [tokens.VOICE, tokens.UNSUBSCRIBE, tokens.ACKNOWLEDGE])
def test_a_token_gives_back_its_delivery_id(purpose):
    token = tokens.make_token(KEY, purpose, 4242, NOW)

    assert tokens.read_token(KEY, purpose, token, NOW + timedelta(minutes=5)) == 4242
    assert all(ch.isalnum() or ch in "-_." for ch in token)  # safe in a path and a query


def test_a_token_for_one_purpose_is_worthless_for_another():
    voice = tokens.make_token(KEY, tokens.VOICE, 1, NOW)

    assert tokens.read_token(KEY, tokens.UNSUBSCRIBE, voice, NOW) is None
    assert tokens.read_token(KEY, tokens.ACKNOWLEDGE, voice, NOW) is None


def test_a_token_signed_with_another_key_or_edited_is_refused():
    token = tokens.make_token(KEY, tokens.UNSUBSCRIBE, 1, NOW)
    payload, rest = token.split(".", 1)
    other = tokens.make_token(KEY, tokens.UNSUBSCRIBE, 2, NOW).split(".", 1)[0]

    assert tokens.read_token("another-key", tokens.UNSUBSCRIBE, token, NOW) is None
    assert tokens.read_token(KEY, tokens.UNSUBSCRIBE, f"{other}.{rest}", NOW) is None
    assert tokens.read_token(KEY, tokens.UNSUBSCRIBE, "", NOW) is None
    assert tokens.read_token(KEY, tokens.UNSUBSCRIBE, "x" * 500, NOW) is None


def test_tokens_expire_after_their_purpose_s_lifetime():
    voice = tokens.make_token(KEY, tokens.VOICE, 1, NOW)
    unsubscribe = tokens.make_token(KEY, tokens.UNSUBSCRIBE, 1, NOW)
    later = NOW + timedelta(days=3)

    assert tokens.read_token(KEY, tokens.VOICE, voice, later) is None
    assert tokens.read_token(KEY, tokens.UNSUBSCRIBE, unsubscribe, later) == 1
    assert tokens.read_token(KEY, tokens.UNSUBSCRIBE, unsubscribe, NOW + timedelta(days=401)) is None


def test_an_unknown_purpose_is_a_programming_error():
    with pytest.raises(ValueError):
        tokens.make_token(KEY, "login", 1, NOW)
