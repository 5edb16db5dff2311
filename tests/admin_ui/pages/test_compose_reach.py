"""The compose page says before sending what the alert reaches and what each channel can do:
reach.json (the preview's numbers), unavailable channels disabled with the reason, sandboxed
ones marked simulated, the language pick-list; and the domain refuses a channel that cannot send."""
from __future__ import annotations

import dataclasses
import json

import pytest
from werkzeug.datastructures import MultiDict

from admin_ui import create_app
from admin_ui.pages import compose
from notifier import alerts, audience
from notifier.db import session_scope
from notifier.models import Location, Subscriber, SubscriberGroup, SubscriberZone, Zone
from notifier.schemas import load_alert
from tests.admin_ui.conftest import NOW, make_alert
from tests.admin_ui.pages.conftest import page_client, sign_in_with_code
from tests.admin_ui.pages.test_alerts import form  # the same form the compose tests post

EAST = {"type": "Polygon", "coordinates": [[[-71.03, 42.35], [-71.01, 42.35], [-71.01, 42.37],
                                             [-71.03, 42.37], [-71.03, 42.35]]]}


@pytest.fixture
def town(settings):
    """Inside SQUARE: an SMS-and-email resident (test group) and a voice one; in zone `east`:
    an email-only resident."""
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="east", name="East", geometry=EAST, keywords=[],
                         min_lat=42.35, min_lon=-71.03, max_lat=42.37, max_lon=-71.01))
        people = [("+16175550001", "a@example.org", ["sms", "email"], ["test"]),
                  ("+16175550002", None, ["voice"], []),
                  (None, "c@example.org", ["email"], [])]
        for i, (phone, email, channels, groups) in enumerate(people):
            sub = Subscriber(name=f"R{i}", phone=phone, email=email, language="en",
                             channels=channels)
            if i < 2:
                sub.locations.append(Location(lat=42.36, lon=-71.06))
            else:
                session.add(sub)
                session.flush()
                session.add(SubscriberZone(subscriber_id=sub.id, zone_code="east"))
            sub.group_links.extend(SubscriberGroup(name=g) for g in groups)
            session.add(sub)


def reach(client, **overrides):
    data = form(client, **overrides)
    return client.post("/alerts/reach.json", data=data, headers={"Accept": "application/json"})


def preview_of(settings, data: dict) -> dict:
    """audience.preview's numbers for the alert the compose form `data` describes."""
    body = compose.body_from_form(MultiDict(data), settings)
    with session_scope(settings.database_url, readonly=True) as session:
        alert = alerts.transient_alert(load_alert(body, settings, {"east"}, NOW))
        return audience.preview(session, alert, settings)


@pytest.mark.parametrize("overrides", [
    {"channels": "sms"},
    {"channels": ["sms", "voice", "email"]},
    {"channels": ["email"], "zones": "east"},
    {"channels": ["sms", "voice", "email"], "status": "Exercise"},
    {"channels": ["voice", "email"], "area_geojson": None, "everyone": "1"},
])
def test_reach_json_gives_the_numbers_of_the_preview(signed_in, town, settings, overrides):
    client = signed_in("dispatcher")
    response = reach(client, **overrides)
    assert response.status_code == 200, response.get_data(as_text=True)
    got = response.get_json()
    expected = preview_of(settings, form(client, **overrides))
    channels = overrides["channels"] if isinstance(overrides["channels"], list) else [overrides["channels"]]
    assert got["recipients"] == expected["recipients"]
    assert got["deliveries"] == {c: expected["deliveries"][c] for c in channels}
    assert got["text"].startswith(f"Would reach {expected['recipients']} resident")


def test_reach_json_counts_per_channel_in_words(signed_in, town):
    client = signed_in("dispatcher")
    got = reach(client, channels=["sms", "voice", "email"], zones="east").get_json()
    assert got["recipients"] == 3
    assert got["deliveries"] == {"sms": 1, "voice": 1, "email": 2}
    assert got["text"] == "Would reach 3 residents: SMS 1, voice 1, email 2"
    one = reach(client, status="Test", channels=["sms", "voice", "email"]).get_json()
    assert one["text"] == "Would reach 1 resident: SMS 1, voice 0, email 1"  # the test group


def test_reach_json_counts_a_half_written_alert(signed_in, town):
    client = signed_in("dispatcher")
    got = reach(client, headline=None, text_0="", text_1="", severity=None, lang_1="es",
                expires_at="not a date").get_json()
    assert got["recipients"] == 1 and got["deliveries"] == {"sms": 1}


@pytest.mark.parametrize("overrides, field, words", [
    ({"area_geojson": "{not json"}, "area", "not valid JSON"),
    ({"area_geojson": None}, "area", "the area is empty"),
    ({"area_geojson": json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]})},
     "area", "The shape's outline has 2 points; it needs at least 4"),
    ({"zones": "nowhere"}, "area", "nowhere"),
    ({"channels": None}, "channels", "Choose at least one channel"),
    ({"status": None}, "status", "Choose the status"),
])
def test_reach_json_explains_what_stops_the_count(signed_in, town, overrides, field, words):
    client = signed_in("dispatcher")
    response = reach(client, **overrides)
    assert response.status_code == 422
    got = response.get_json()
    assert words in " ".join(got["errors"][field])
    assert got["text"].startswith("Not counted yet.") and words in got["text"]


def test_reach_json_needs_the_csrf_token_and_a_dispatcher(signed_in, town):
    client = signed_in("dispatcher")
    no_token = client.post("/alerts/reach.json", data=form(client, csrf_token=None))
    assert no_token.status_code == 400
    auditor = signed_in("auditor")
    assert reach(auditor).status_code == 403
    anonymous = page_client(client.application)
    refused = anonymous.post("/alerts/reach.json", data=form(client))
    assert refused.status_code in (302, 400, 401) and "recipients" not in refused.get_data(as_text=True)


def compose_page(client) -> str:
    return client.get("/alerts/new").get_data(as_text=True)


def channel_choice(html: str, channel: str) -> str:
    return html.split(f'data-testid="channel-choice-{channel}"')[1].split("</div>")[0]


def test_an_unavailable_channel_is_disabled_with_its_reason_and_sandboxed_ones_say_so(signed_in):
    html = compose_page(signed_in("dispatcher"))
    social = channel_choice(html, "social")
    assert 'data-testid="channel-social"' in social and " disabled " in social
    assert 'data-testid="channel-unavailable-social"' in social
    assert "no SOCIAL_URLS are set, so there is nothing to post to" in social
    sms = channel_choice(html, "sms")  # no Twilio credentials in the tests: simulated
    assert " disabled" not in sms and 'data-testid="channel-unavailable-sms"' not in sms
    assert "simulated — nobody receives it" in sms and "TWILIO_ACCOUNT_SID" in sms
    assert "SMTP_HOST" in channel_choice(html, "email")


def test_a_live_channel_has_no_sandbox_label(settings, user):
    live = dataclasses.replace(settings, twilio_account_sid="AC" + "1" * 32,
                               twilio_auth_token="t" * 32, twilio_from_number="+15005550006")
    app = create_app(live)
    app.config["TESTING"] = True
    client = page_client(app)
    sign_in_with_code(client, user("dana", "dispatcher"))
    html = compose_page(client)
    assert 'data-mode="live"' in html.split('data-testid="channel-choice-sms"')[1][:40]
    assert "simulated" not in channel_choice(html, "sms")
    assert "simulated" in channel_choice(html, "email")


def test_the_language_is_a_pick_list_of_supported_languages(signed_in):
    html = compose_page(signed_in("dispatcher"))
    row = html.split('id="lang_0"')[1].split("</select>")[0]
    assert '<option value="en" selected>English (en)</option>' in row
    assert '<option value="es">Español (es)</option>' in row
    assert "Kreyòl Ayisyen (ht)" in row and "Tiếng Việt (vi)" in row
    assert row.index('value="en"') < row.index('value="ar"')  # the default language first
    template = html.split('id="message-row-template"')[1].split("</template>")[0]
    assert 'name="lang___i__"' in template and '<option value="">' in template


def test_a_reused_alert_keeps_a_language_outside_the_list(signed_in, settings):
    with session_scope(settings.database_url) as session:
        alert_id = make_alert(session, state="sent", messages={"en": "Leak.", "es-MX": "Fuga."}).id
    html = signed_in("dispatcher").get(f"/alerts/new?from={alert_id}").get_data(as_text=True)
    row = html.split('id="lang_1"')[1].split("</select>")[0]
    assert 'value="es-MX" selected' in row


def test_the_api_refuses_an_alert_on_a_channel_that_cannot_send(client, auth):
    body = {"headline": "Boil water", "messages": {"en": "Boil tap water."}, "status": "Exercise",
            "severity": "Moderate", "urgency": "Expected", "certainty": "Likely",
            "area": {"everyone": True}, "channels": ["sms", "social"]}
    response = client.post("/api/v1/alerts", json=body, headers=auth("dispatcher"))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["channels"]
    assert errors["channels"] == ["Social cannot send: no SOCIAL_URLS are set, so there is "
                                  "nothing to post to."]
    preview = client.post("/api/v1/alerts/preview", json=body, headers=auth("dispatcher"))
    assert preview.status_code == 422 and "channels" in preview.get_json()["errors"]
    body["channels"] = ["sms"]
    assert client.post("/api/v1/alerts", json=body, headers=auth("dispatcher")).status_code == 201


def test_the_compose_form_refuses_a_forged_unavailable_channel(signed_in):
    client = signed_in("dispatcher")
    response = client.post("/alerts/new", data=form(client, channels=["sms", "social"]))
    assert response.status_code == 422
    assert "Social cannot send" in response.get_data(as_text=True)
