"""channels.translate against a LibreTranslate stand-in: one request per target, bounded time,
every failure one TranslationUnavailable in plain words."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from channels.translate import LibreTranslate, from_settings
from notifier.errors import TranslationUnavailable
from tests.support.translate_standin import TranslateStandIn, translated, unreachable_url


@pytest.fixture
def standin():
    with TranslateStandIn() as server:
        yield server


def test_each_target_is_one_request_and_no_key_is_an_empty_one(standin):
    answer = LibreTranslate(standin.url + "/")("Stay indoors.", "en", ["es", "zt", "fr"])
    assert answer == {t: translated("Stay indoors.", t) for t in ("es", "zt", "fr")}
    assert sorted(b["target"] for b in standin.bodies()) == ["es", "fr", "zt"]
    assert {b["api_key"] for b in standin.bodies()} == {""}
    assert {r["path"] for r in standin.requests} == {"/translate"}


def test_targets_go_a_few_at_a_time(standin):
    standin.delay = 0.3
    started = time.monotonic()
    LibreTranslate(standin.url, in_flight=4)("Hi", "en", ["es", "fr", "de", "pt"])
    assert time.monotonic() - started < 1.0  # four at once, not 1.2 s one after another


def test_a_slow_server_is_given_up_after_the_request_time(standin):
    standin.delay = 1.0
    with pytest.raises(TranslationUnavailable) as caught:
        LibreTranslate(standin.url, request_seconds=0.2)("Hi", "en", ["es"])
    assert "did not answer within 0.2 s" in caught.value.message


def test_the_whole_request_has_a_deadline(standin):
    standin.delay = 0.4
    with pytest.raises(TranslationUnavailable) as caught:
        LibreTranslate(standin.url, deadline_seconds=0.5, in_flight=1)("Hi", "en",
                                                                       ["es", "fr", "de"])
    assert "within 0.5 s" in caught.value.message


def test_nothing_listening_is_said_plainly():
    url = unreachable_url()
    with pytest.raises(TranslationUnavailable) as caught:
        LibreTranslate(url)("Hi", "en", ["es"])
    assert caught.value.message.startswith(f"the translation server at {url} cannot be reached")


def test_a_password_in_the_url_is_never_in_a_message():
    with pytest.raises(TranslationUnavailable) as caught:
        LibreTranslate(unreachable_url().replace("://", "://user:hunter2@"))("Hi", "en", ["es"])
    assert "hunter2" not in caught.value.message


def test_an_unset_translate_url_is_unavailable():
    with pytest.raises(TranslationUnavailable) as caught:
        from_settings(SimpleNamespace(translate_url=None, translate_api_key=None))
    assert "TRANSLATE_URL" in caught.value.message
