"""notifier.text_rules: control characters refused in every text field, and rendering that
survives a row stored before the rule (XML documents, mail headers)."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from lxml import etree
from marshmallow import ValidationError

from notifier import accounts, text_rules, zones
from notifier.cap import alert_to_cap
from notifier.config import Settings
from notifier.db import session_scope
from notifier.errors import InvalidInput
from notifier.render_email import message_bytes, render_email
from notifier.schemas import clean_subscriber, load_alert, make_subscriber_schema
from tests.admin_ui.conftest import make_alert
from tests.notifier.test_schemas import SETTINGS, alert_body
from tests.support.peers import CAP_SCHEMA

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)
SQUARE = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35], [-71.05, 42.37],
                                              [-71.07, 42.37], [-71.07, 42.35]]]}
# C0 controls XML 1.0 cannot carry, C1 controls, DEL, a lone surrogate, a non-character.
REFUSED = ["\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\uffff"]


def errors_of(body) -> dict:
    with pytest.raises(InvalidInput) as raised:
        load_alert(body, SETTINGS, None, NOW)
    return raised.value.errors


@pytest.mark.parametrize("char", REFUSED)
def test_it_refuses_control_characters_in_either_kind_of_field(char):
    for multiline in (False, True):
        with pytest.raises(ValueError, match=r"control characters: U\+[0-9A-F]{4} at character 5"):
            text_rules.check(f"Stay{char}indoors", multiline)


def test_multi_line_text_keeps_newlines_and_tabs_and_sends_crlf_as_lf():
    assert text_rules.check("Stay indoors.\r\n\tClose windows.\rNow.", multiline=True) == \
        "Stay indoors.\n\tClose windows.\nNow."


@pytest.mark.parametrize("char", ["\n", "\r", "\r\n", "\u2028", "\u2029"])
def test_single_line_text_refuses_line_breaks(char):
    with pytest.raises(ValueError, match="single line: there is a line break at character 6"):
        text_rules.check(f"Flood{char}Bcc: everyone@example.org")


def test_single_line_text_keeps_a_tab_and_any_letter():
    assert text_rules.check("Inondation\tÉvacuez — 洪水 🌊") == "Inondation\tÉvacuez — 洪水 🌊"


@pytest.mark.parametrize("char", ["\x0b", "\x00", "\ud800"])
def test_the_alert_schema_names_each_multi_line_field(char):
    errors = errors_of(alert_body(messages={"en": "Stay indoors.", "es": f"Quédese{char}adentro."},
                                  instruction=f"Close{char}windows.",
                                  area={**alert_body()["area"], "description": f"Down{char}town"}))
    assert "control characters" in errors["messages"]["es"][0]
    assert "en" not in errors["messages"]
    assert "control characters" in errors["instruction"][0]
    assert any(m.startswith("description must not contain control characters")
               for m in errors["area"])


@pytest.mark.parametrize("field", ["headline", "event", "references"])
@pytest.mark.parametrize("char", ["\n", "\r\n", "\x0b"])
def test_the_alert_schema_refuses_line_breaks_and_controls_in_single_line_fields(field, char):
    value = {"references": f"tocsin,a-1,2026-11-22T06:00:00+00:00{char}x,y,z"}.get(
        field, f"Shelter{char}in place")
    errors = errors_of(alert_body(**{field: value}, msg_type="Update"))
    assert list(errors) == [field]


def test_the_alert_schema_stores_form_line_endings_as_lf():
    data = load_alert(alert_body(messages={"en": "Stay indoors.\r\nClose windows."},
                                 instruction="Go up.\r\nStay up.",
                                 area={**alert_body()["area"], "description": "North\r\nSouth"}),
                      SETTINGS, None, NOW)
    assert data["messages"] == {"en": "Stay indoors.\nClose windows."}
    assert data["instruction"] == "Go up.\nStay up."
    assert data["area"]["description"] == "North\nSouth"


def test_subscriber_names_labels_and_groups_refuse_control_characters_on_api_and_import():
    body = {"name": "Ana\nBcc: x", "phone": "+16175550100",
            "locations": [{"label": "Ho\x0bme", "lat": 42.36, "lon": -71.06}],
            "groups": ["night\x1bshift"]}
    with pytest.raises(ValidationError) as raised:
        make_subscriber_schema(SETTINGS).load(body)
    assert set(raised.value.messages) == {"name", "locations", "groups"}
    assert "single line" in raised.value.messages["name"][0]
    assert "control characters" in raised.value.messages["locations"][0]["label"][0]
    with pytest.raises(ValidationError) as raised:
        clean_subscriber(body, "US", "en")
    assert set(raised.value.messages) == {"name", "locations", "groups"}


def test_zone_names_and_codes_refuse_line_breaks(settings):
    with session_scope(settings.database_url) as session:
        with pytest.raises(InvalidInput) as raised:
            zones.put_zone(session, "beat-3", {"name": "Beat\n3", "geometry": SQUARE}, NOW)
        assert "single line" in raised.value.errors["name"][0]
        result = zones.import_zones(session, {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": SQUARE,
             "properties": {"code": "beat-4\n", "name": "Beat 4"}}]}, NOW)
        assert result["created"] == 0 and list(result["rejected"][0]["errors"]) == ["code"]


def test_user_and_token_names_refuse_control_characters(settings):
    with session_scope(settings.database_url) as session:
        with pytest.raises(InvalidInput) as raised:
            accounts.create_user(session, "da\nna", "dispatcher", "long enough password")
        assert list(raised.value.errors) == ["name"]
        with pytest.raises(InvalidInput) as raised:
            accounts.issue_token(session, "cad\x00link", "dispatcher")
        assert list(raised.value.errors) == ["name"]


def test_a_stored_headline_with_crlf_adds_no_mail_header(env):
    settings = Settings.from_env({**env, "MAIL_FROM": "OEM <alerts@springfield.example>"})
    alert = SimpleNamespace(messages={"en": "Stay indoors."}, status="Actual", confirm=False,
                            headline="Flood\r\nBcc: everyone@example.org\r\nX-Evil: 1",
                            severity="Severe", instruction=None, sent_at=NOW)
    content = render_email(alert, "en", settings, 7, NOW)
    raw = message_bytes(content, settings.mail_from, "ana@example.org")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "Severe alert: Flood Bcc: everyone@example.org X-Evil: 1"


def test_a_stored_alert_with_any_refused_character_still_gives_a_valid_cap_document(settings):
    schema = etree.XMLSchema(etree.parse(str(CAP_SCHEMA)))
    # No database stores a lone surrogate, and PostgreSQL's text no NUL.
    bad = "".join(c for c in REFUSED if c not in ("\ud800", "\x00"))
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, headline=f"Flood{bad}", event=f"Flood{bad}warning",
                           messages={"en": f"Stay\x0bindoors.{bad}"},
                           instruction=f"Go\x0bup.{bad}", sent_at=NOW,
                           area={"description": f"Down\x0btown{bad}", "everyone": True})
        document = etree.fromstring(alert_to_cap(alert, settings))
    assert schema.validate(document), schema.error_log
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert document.findtext("cap:info/cap:description", namespaces=ns).startswith("Stay indoors.")
    assert document.findtext("cap:info/cap:area/cap:areaDesc", namespaces=ns).startswith("Down town")


def test_xml_safe_keeps_what_xml_can_carry():
    text = "Tab\tnewline\nCR\r DEL\x7f NEL\x85 é 洪水 🌊 \ufffd"
    assert text_rules.xml_safe(text) == text
    assert text_rules.xml_safe("a\x0bb\x00c\ud800d\ufffee") == "a b c\ufffdd\ufffde"
