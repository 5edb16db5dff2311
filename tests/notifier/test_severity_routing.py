"""SEVERITY_CHANNELS (DESIGN §12): its parsing, and the rule that fills or checks an alert's
channels by its severity, as the API, the pages and follow-ups meet it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifier.config import Settings
from notifier.errors import ConfigError, InvalidInput
from notifier.schemas import load_alert

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
BASE = {"DATABASE_URL": "sqlite://", "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SECRET_KEY": "test-secret-key-long-enough-for-the-minimum"}
# Email and SMS record (no credentials), voice too; social posts nowhere (no SOCIAL_URLS).
SETTINGS = Settings.from_env(BASE)


def body(**changes) -> dict:
    out = {"headline": "Main St closed", "messages": {"en": "Main St is closed."},
           "severity": "Minor", "urgency": "Expected", "certainty": "Observed",
           "status": "Actual", "area": {"everyone": True}}
    out.update(changes)
    return {k: v for k, v in out.items() if v is not ...}


def test_the_default_gives_every_severity_but_unknown_its_channels():
    assert SETTINGS.severity_channels == {
        "Minor": ("email", "social"), "Moderate": ("sms", "email", "social"),
        "Severe": ("sms", "voice", "email", "social"),
        "Extreme": ("sms", "voice", "email", "social")}


def test_an_agency_sets_its_own_and_none_turns_the_routing_off():
    own = Settings.from_env({**BASE, "SEVERITY_CHANNELS": " minor = email ; Extreme=SMS,voice "})
    assert own.severity_channels == {"Minor": ("email",), "Extreme": ("sms", "voice")}
    assert Settings.from_env({**BASE, "SEVERITY_CHANNELS": "none"}).severity_channels == {}


@pytest.mark.parametrize("raw, words", [
    ("Minor=email;Minor=sms", "Minor is given twice"),
    ("Mild=email", "must read Severity=channel"),
    ("Minor", "must read Severity=channel"),
    ("Minor=pager", "pager is not a channel"),
    ("Minor=", "no channel is not a channel"),
])
def test_a_bad_value_names_the_variable_and_what_is_wrong(raw, words):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, "SEVERITY_CHANNELS": raw})
    assert "SEVERITY_CHANNELS" in str(caught.value) and words in str(caught.value)


@pytest.mark.parametrize("severity, channels", [
    ("Minor", ["email"]),  # social implied, but nothing to post to here
    ("Moderate", ["sms", "email"]),
    ("Severe", ["sms", "voice", "email"]),
    ("Extreme", ["sms", "voice", "email"]),
])
def test_an_alert_without_channels_gets_its_severity_s(severity, channels):
    data = load_alert(body(severity=severity), SETTINGS, set(), NOW)
    assert data["channels"] == channels and "channels_override" not in data


def test_an_unknown_severity_has_none_so_the_alert_must_name_them():
    with pytest.raises(InvalidInput) as caught:
        load_alert(body(severity="Unknown"), SETTINGS, set(), NOW)
    assert "SEVERITY_CHANNELS gives none for Unknown" in caught.value.errors["channels"][0]
    data = load_alert(body(severity="Unknown", channels=["sms"]), SETTINGS, set(), NOW)
    assert data["channels"] == ["sms"]


def test_other_channels_need_a_reason_which_is_kept_for_the_audit():
    with pytest.raises(InvalidInput) as caught:
        load_alert(body(severity="Severe", channels=["email"]), SETTINGS, set(), NOW)
    [message] = caught.value.errors["channels_reason"]
    assert "differ from those a Severe alert goes out on (sms, voice, email)" in message
    with pytest.raises(InvalidInput):  # blank is no reason
        load_alert(body(severity="Severe", channels=["email"], channels_reason="  "),
                   SETTINGS, set(), NOW)
    data = load_alert(body(severity="Severe", channels=["email"],
                           channels_reason="Phones are down across the county"), SETTINGS, set(), NOW)
    assert data["channels"] == ["email"]
    assert data["channels_override"] == {"channels": ["email"], "default": ["sms", "voice", "email"],
                                         "reason": "Phones are down across the county"}


def test_the_same_channels_in_another_order_are_no_override_and_need_no_reason():
    data = load_alert(body(severity="Moderate", channels=["email", "sms"]), SETTINGS, set(), NOW)
    assert data["channels"] == ["email", "sms"] and "channels_override" not in data


def test_a_reason_over_500_characters_is_refused():
    with pytest.raises(InvalidInput) as caught:
        load_alert(body(channels=["sms"], channels_reason="x" * 501), SETTINGS, set(), NOW)
    assert "shorten it to at most 500" in caught.value.errors["channels_reason"][0]


def test_with_the_routing_off_channels_are_required_as_before():
    off = Settings.from_env({**BASE, "SEVERITY_CHANNELS": "none"})
    with pytest.raises(InvalidInput) as caught:
        load_alert(body(severity="Extreme"), off, set(), NOW)
    assert caught.value.errors["channels"] == ["Choose at least one channel."]
    assert load_alert(body(channels=["voice"]), off, set(), NOW)["channels"] == ["voice"]
