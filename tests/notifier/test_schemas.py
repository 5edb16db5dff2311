"""notifier.schemas: the subscriber and alert bodies of DESIGN §4, errors field by field."""
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from notifier.config import Settings
from notifier.errors import InvalidInput
from notifier.schemas import (CancelSchema, clean_subscriber, language_tag, load_alert,
                              make_alert_schema, make_subscriber_schema)

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)
# Wave 1 bodies name their channels: the severity routing has its own tests.
SETTINGS = Settings(database_url="sqlite://", redis_url="redis://", secret_key="k", severity_channels={})
AREA = {"description": "Downtown", "circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 800}]}


def alert_body(**changes):
    body = {"headline": "Shelter in place", "messages": {"en": "Stay indoors.", "es": "Quédese adentro."},
            "severity": "Severe", "urgency": "Immediate", "certainty": "Observed",
            "status": "Actual", "area": AREA, "channels": ["sms", "email"]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.mark.parametrize("raw, tag", [
    ("es", "es"), ("ES", "es"), ("es_MX", "es-MX"), ("es-mx", "es-MX"), ("zh-hant-tw", "zh-Hant-TW"),
    ("es-419", "es-419"), ("vi", "vi"), ("ht", "ht"),
])
def test_language_tags_are_normalised(raw, tag):
    assert language_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "xx", "und", "en-ZZ", "en--US", "english", 12])
def test_unknown_language_tags_are_refused(raw):
    with pytest.raises(ValueError):
        language_tag(raw)


def test_a_full_subscriber_body_loads_clean():
    data = make_subscriber_schema(SETTINGS).load({
        "name": " Ana ", "phone": "(617) 555-0100", "email": " Ana@Example.ORG ", "language": "es_mx",
        "channels": ["email", "sms"], "locations": [{"label": "home", "lat": 42.36, "lon": -71.06}],
        "zones": ["beat-3"], "groups": ["test"]})
    assert data == {"name": "Ana", "phone": "+16175550100", "email": "ana@example.org",
                    "language": "es-MX", "channels": ["email", "sms"],
                    "locations": [{"label": "home", "lat": 42.36, "lon": -71.06}],
                    "zones": ["beat-3"], "groups": ["test"]}


def test_language_defaults_to_the_settings_and_partial_loads_leave_it_out():
    assert make_subscriber_schema(SETTINGS).load({"phone": "+16175550100"})["language"] == "en"
    assert make_subscriber_schema(SETTINGS, partial=True).load({"name": "x"}) == {"name": "x"}


@pytest.mark.parametrize("body, field, words", [
    ({"phone": "+1 200 555 0100"}, "phone", "not in use"),
    ({"phone": 6175550100}, "phone", "string"),
    ({"email": "ana@"}, "email", "email"),
    ({"language": "xx"}, "language", "Choose a language from the list"),
    ({"language": None}, "language", "null"),
    ({"channels": ["sms", "sms"]}, "channels", "twice"),
    ({"channels": ["fax"]}, "channels", "one of"),
    ({"channels": []}, "channels", "at least one"),
    ({"locations": [{"lat": 91, "lon": 0}]}, "locations", "between -90 and 90"),
    ({"locations": [{"lat": 0, "lon": -180.5}]}, "locations", "between -180 and 180"),
    ({"locations": [{"lat": "nan", "lon": 0}]}, "locations", "between"),
    ({"locations": [{"lat": 1}]}, "locations", "Missing"),
    ({"locations": [{"lat": 1, "lon": 2, "alt": 3}]}, "locations", "Unknown"),
    ({"zones": ["a", "a"]}, "zones", "twice"),
    ({"groups": [""]}, "groups", "non-empty"),
    ({"nickname": "x"}, "nickname", "Unknown field"),
])
def test_bad_subscriber_fields_name_the_field(body, field, words):
    for load in (make_subscriber_schema(SETTINGS).load,
                 lambda d: clean_subscriber(d, "US", "en")):
        with pytest.raises(ValidationError) as caught:
            load(body)
        assert set(caught.value.messages) == {field}
        assert words.lower() in str(caught.value.messages[field]).lower()


def test_the_fast_cleaner_and_the_schema_agree():
    body = {"name": "B", "phone": "٦١٧٥٥٥٠١٠٠", "email": "B@X.ORG", "channels": ["voice"],
            "locations": [{"lat": "1.5", "lon": "2"}], "zones": None}
    assert make_subscriber_schema(SETTINGS).load(body) == clean_subscriber(body, "US", "en")


def test_a_full_alert_body_loads_with_defaults():
    data = load_alert(alert_body(expires_at="2026-11-22T07:00:00-05:00"), SETTINGS, set(), NOW)
    assert data["event"] == "Shelter in place"
    assert data["category"] == "Safety" and data["msg_type"] == "Alert"
    assert data["confirm"] is False and data["references"] is None
    assert data["area"] == AREA
    assert data["expires_at"] == datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    assert list(data["messages"]) == ["en", "es"]


def test_status_has_no_default():
    with pytest.raises(InvalidInput) as caught:
        load_alert(alert_body(status=...), SETTINGS, set(), NOW)
    assert "status" in caught.value.errors


@pytest.mark.parametrize("field, value", [
    ("category", "Weather"), ("severity", "severe"), ("urgency", "Now"),
    ("certainty", "Sure"), ("status", "Live"), ("status", "System"), ("status", "Draft"),
    ("msg_type", "Ack"), ("channels", []), ("channels", ["sms", "fax"]),
    ("channels", ["sms", "sms"]), ("headline", ""), ("headline", "x" * 201),
    ("messages", {}), ("messages", {"en": "  "}), ("messages", {"xx": "hi"}),
    ("messages", {"en": "a", "EN": "b"}), ("messages", {f"l{i}": "x" for i in range(21)}),
    ("messages", "Stay indoors"), ("expires_at", "2026-11-22T05:00:00Z"),
    ("expires_at", "2026-11-23T05:00:00"), ("confirm", "maybe"), ("area", "downtown"),
    ("references", "not-a-triple"), ("surprise", 1),
])
def test_bad_alert_fields_name_the_field(field, value):
    with pytest.raises(InvalidInput) as caught:
        load_alert(alert_body(**{field: value}), SETTINGS, set(), NOW)
    assert field in caught.value.errors


@pytest.mark.parametrize("field", ["headline", "messages", "severity", "urgency", "certainty",
                                   "area", "channels"])
def test_required_alert_fields(field):
    with pytest.raises(InvalidInput) as caught:
        load_alert(alert_body(**{field: ...}), SETTINGS, set(), NOW)
    assert field in caught.value.errors


def test_an_update_must_reference_what_it_updates():
    with pytest.raises(InvalidInput) as caught:
        load_alert(alert_body(msg_type="Update"), SETTINGS, set(), NOW)
    assert "references" in caught.value.errors
    ok = load_alert(alert_body(msg_type="Update", references="a.org,id-1,2026-11-22T06:00:00+00:00"),
                    SETTINGS, set(), NOW)
    assert ok["msg_type"] == "Update"


def test_area_and_field_errors_come_back_together():
    body = alert_body(severity="Bad", area={"zones": ["beat-9"]})
    with pytest.raises(InvalidInput) as caught:
        load_alert(body, SETTINGS, {"beat-1"}, NOW)
    assert set(caught.value.errors) == {"severity", "area"}
    assert any("beat-9" in m for m in caught.value.errors["area"])


def test_an_empty_area_is_refused():
    with pytest.raises(InvalidInput) as caught:
        load_alert(alert_body(area={}), SETTINGS, set(), NOW)
    assert "area" in caught.value.errors


def test_a_non_object_body_is_refused():
    with pytest.raises(InvalidInput):
        load_alert(["not", "an", "object"], SETTINGS, set(), NOW)


def test_expiry_is_checked_against_the_time_given():
    schema = make_alert_schema(SETTINGS, now=NOW - timedelta(days=1))
    assert schema.load(alert_body(expires_at="2026-11-22T05:00:00Z"))["expires_at"] < NOW


def test_the_cancel_body_defaults_to_a_cancel():
    assert CancelSchema().load({}) == {"message": None, "msg_type": "Cancel",
                                       "accept_machine_translation": False}
    assert CancelSchema().load({"message": {"en": "All clear"}, "msg_type": "Update"})["msg_type"] == "Update"
    with pytest.raises(ValidationError):
        CancelSchema().load({"msg_type": "Alert"})


def test_an_sms_over_1600_characters_is_refused_naming_the_language_and_the_limit():
    long = "Leave the river district now by Route 9. " * 40  # 1,640 characters
    with pytest.raises(InvalidInput) as caught:
        load_alert(alert_body(messages={"en": "Short and clear.", "es": long}), SETTINGS, set(), NOW)
    [error] = caught.value.errors["messages"]
    assert error.startswith("The es text makes an SMS of 1,6") and "at most 1,600" in error


def test_an_sms_of_more_than_10_segments_is_refused_though_under_1600_characters():
    # One non-GSM character (’) makes it UCS-2: 67 characters a segment, 12 segments here.
    text = "Évacuez maintenant : l’eau monte vite, prenez la route 9. " * 13
    assert len(text) < 1600
    with pytest.raises(InvalidInput) as caught:
        load_alert(alert_body(messages={"fr": text}), SETTINGS, set(), NOW)
    [error] = caught.value.errors["messages"]
    assert "The fr text makes an SMS of 12 segments" in error and "at most 10" in error


def test_a_long_text_is_fine_when_the_alert_sends_no_sms():
    long = "Leave the river district now by Route 9. " * 40
    data = load_alert(alert_body(messages={"en": long}, channels=["email"]), SETTINGS, set(), NOW)
    assert data["messages"]["en"] == long.strip()
