"""The preview page: every channel's text per language, reach by zone, why approval is needed."""
from __future__ import annotations

import dataclasses
import json

import shapely.geometry

from admin_ui import create_app
from notifier import audience
from notifier.db import session_scope
from notifier.models import Alert, Location, Subscriber, SubscriberZone, Zone
from tests.admin_ui.pages.conftest import csrf_token, page_client, sign_in_with_code
from tests.admin_ui.pages.test_alerts import SQUARE, alert_row, compose, residents  # noqa: F401


def square(west, south, size):
    return {"type": "Polygon", "coordinates": [[[west, south], [west + size, south],
                                                [west + size, south + size],
                                                [west, south + size], [west, south]]]}


def add_zone(session, code, geometry):
    west, south, east, north = shapely.geometry.shape(geometry).bounds
    session.add(Zone(code=code, name=code.title(), geometry=geometry,
                     min_lon=west, min_lat=south, max_lon=east, max_lat=north))


def test_the_preview_shows_each_languages_sms_voice_and_email_text(signed_in, residents):
    client = signed_in("dispatcher")
    alert_id = compose(client, channels=["sms", "voice", "email"], status="Exercise",
                       lang_1="ht", text_1="Bouyi dlo <b>robine</b> a.")
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    for channel in ("sms", "voice", "email"):
        assert f'data-testid="preview-{channel}-en"' in html
        assert f'data-testid="preview-{channel}-ht"' in html
    voice_en = html.split('data-testid="preview-voice-en"')[1].split("</figure>")[0]
    assert "This is an exercise message from Tocsin demo." in voice_en
    assert "Boil tap water before drinking." in voice_en and "Polly.Joanna" in voice_en
    assert "press 1" in voice_en
    # Twilio speaks no Haitian Creole: said plainly, and what callers hear instead.
    voice_ht = html.split('data-testid="preview-voice-ht"')[1].split("</figure>")[0]
    assert 'data-testid="preview-voice-unsupported-ht"' in voice_ht
    assert "Warning: Twilio has no voice for ht" in voice_ht and "Bouyi" not in voice_ht
    email_en = html.split('data-testid="preview-email-en"')[1].split("</figure>")[0]
    assert 'data-testid="preview-email-subject-en"' in email_en and "Boil water" in email_en
    assert "Boil tap water before drinking." in email_en
    # The dispatcher's text is shown, never interpreted as markup.
    assert "&lt;b&gt;robine&lt;/b&gt;" in html and "<b>robine</b>" not in html


def test_only_the_alerts_channels_are_shown(signed_in, residents):
    client = signed_in("dispatcher")
    html = client.get(f"/alerts/{compose(client)}/preview").get_data(as_text=True)
    assert 'data-testid="preview-sms-en"' in html
    assert "preview-voice-en" not in html and "preview-email-en" not in html


def two_dispatchers(settings, user, **changes):
    app = create_app(dataclasses.replace(settings, **changes))
    app.config["TESTING"] = True
    author, second = page_client(app), page_client(app)
    sign_in_with_code(author, user("ann", "dispatcher"))
    sign_in_with_code(second, user("bob", "dispatcher"))
    for client in (author, second):
        client.csrf = csrf_token(client.get("/alerts").get_data(as_text=True))
    return author, second


def test_an_area_larger_than_any_zone_needs_a_second_dispatcher(settings, residents, user):
    with session_scope(settings.database_url) as session:
        add_zone(session, "corner", square(-71.07, 42.35, 0.005))  # far smaller than SQUARE
    author, second = two_dispatchers(settings, user)  # threshold 10,000: never reached here
    alert_id = compose(author)
    page = author.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert 'data-testid="approval-reason-area"' in page
    assert 'data-testid="approval-reason-threshold"' not in page
    assert 'data-testid="send-button"' not in page
    refused = author.post(f"/alerts/{alert_id}/send", data={"csrf_token": author.csrf,
                                                             "confirm_word": "SEND"})
    assert refused.status_code == 409 and alert_row(settings, alert_id).state == "draft"
    assert second.post(f"/alerts/{alert_id}/approve",
                       data={"csrf_token": second.csrf}).status_code == 302
    sent = author.post(f"/alerts/{alert_id}/send", data={"csrf_token": author.csrf,
                                                          "confirm_word": "SEND"})
    assert sent.status_code == 302 and alert_row(settings, alert_id).state == "sending"


def test_an_area_within_the_largest_zone_and_a_small_reach_need_no_approval(
        settings, residents, user):
    with session_scope(settings.database_url) as session:
        add_zone(session, "city", square(-71.2, 42.2, 0.5))
    author, _second = two_dispatchers(settings, user)
    page = author.get(f"/alerts/{compose(author)}/preview").get_data(as_text=True)
    assert 'data-testid="approval-needed"' not in page and 'data-testid="send-button"' in page


def test_a_reach_above_the_threshold_says_so_as_the_reason(settings, residents, user):
    author, _second = two_dispatchers(settings, user, approval_threshold=1)
    page = author.get(f"/alerts/{compose(author)}/preview").get_data(as_text=True)
    assert 'data-testid="approval-reason-threshold"' in page
    assert "it reaches 2 residents, more than 1" in page
    assert 'data-testid="approval-reason-area"' not in page  # no zones at all


def test_the_preview_result_tells_whether_the_area_is_larger_than_any_zone(settings):
    with session_scope(settings.database_url) as session:
        add_zone(session, "corner", square(-71.07, 42.35, 0.005))
    with session_scope(settings.database_url, readonly=True) as session:
        big = Alert(status="Actual", headline="x", messages={"en": "x"}, channels=["sms"],
                    area={"geojson": SQUARE})
        small = Alert(status="Actual", headline="x", messages={"en": "x"}, channels=["sms"],
                      area={"geojson": square(-71.07, 42.35, 0.001)})
        assert audience.preview(session, big, settings)["larger_than_any_zone"] is True
        assert audience.preview(session, small, settings)["larger_than_any_zone"] is False


def test_the_preview_counts_the_residents_each_named_zone_reaches(signed_in, settings):
    with session_scope(settings.database_url) as session:
        add_zone(session, "north", square(-71.0, 42.5, 0.1))
        add_zone(session, "south", square(-71.0, 42.0, 0.1))
        follower = Subscriber(name="F", phone="+16175550001", language="en", channels=["sms"])
        inside = Subscriber(name="I", phone="+16175550002", language="en", channels=["sms"])
        inside.locations.append(Location(lat=42.55, lon=-70.95))
        south = Subscriber(name="S", phone="+16175550003", language="en", channels=["sms"])
        south.locations.append(Location(lat=42.05, lon=-70.95))
        session.add_all([follower, inside, south])
        session.flush()
        session.add(SubscriberZone(subscriber_id=follower.id, zone_code="north"))
    client = signed_in("dispatcher")
    alert_id = compose(client, area_geojson="", zones=["north", "south"])
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert 'data-testid="preview-zone-north">2<' in html
    assert 'data-testid="preview-zone-south">1<' in html
    assert 'data-testid="preview-recipients">3<' in html


def test_the_api_preview_keeps_its_keys_and_adds_the_zone_flag(client, auth):
    body = {"status": "Exercise", "msg_type": "Alert", "headline": "x", "event": "x",
            "category": "Safety", "severity": "Minor", "urgency": "Expected",
            "certainty": "Likely", "messages": {"en": "x"}, "channels": ["sms"],
            "area": {"geojson": SQUARE}}
    response = client.post("/api/v1/alerts/preview", data=json.dumps(body),
                           content_type="application/json", headers=auth("dispatcher"))
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert {"recipients", "deliveries", "languages", "sms", "warnings", "reasons",
            "area_km2"} <= set(data)
    assert data["larger_than_any_zone"] is False  # there are no zones to compare with
