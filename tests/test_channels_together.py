"""SMS, voice and email together, through the API, real RQ workers, the Twilio stand-in and a
real SMTP server: one delivery per resident per channel they have and prefer, each in their
language; confirmations by key press and by link; the unsubscribe link end to end."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from lxml import etree, html as lxml_html

from admin_ui import create_app
from notifier import accounts
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import utcnow
from notifier.subscriptions import opt_out
from tests.support.fixtures import approve_as_second_person
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_signing import signed_post
from tests.workers.helpers import use_env
from workers.guard import TocsinSimpleWorker
from workers.queues import QUEUES, redis_connection

TEXTS = {"en": "Flood warning: move to higher ground now.",
         "es": "Aviso de inundación: suba a un lugar alto ahora.",
         "fr": "Alerte inondation : gagnez un endroit en hauteur maintenant."}
HOME = [{"label": "home", "lat": 42.36, "lon": -71.06}]
RESIDENTS = {  # name: (phone, email, language, channels)
    "Ana": ("+16172531000", "ana@example.org", "es", ["sms", "voice", "email"]),
    "Bo": ("+16172531001", None, "en", ["voice"]),
    "Cy": (None, "cy@example.org", "fr", ["email"]),
    "Di": ("+16172531003", "di@example.org", "en", ["sms", "email"]),  # opted out of email
}
ALERT = {"headline": "Flood warning", "event": "Flood Warning", "messages": TEXTS,
         "category": "Met", "severity": "Severe", "urgency": "Immediate",
         "certainty": "Observed", "status": "Actual", "msg_type": "Alert",
         "area": {"description": "Town", "everyone": True},
         "channels": ["sms", "voice", "email"], "confirm": True}


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def world(twilio_env, smtp, monkeypatch):
    env = use_env(monkeypatch, {**twilio_env, **smtp.env(), "VOICE_PER_SECOND": "50",
                                "AGENCY_NAME": "Springfield OEM"})
    settings = Settings.from_env(env)
    client = create_app(settings).test_client()
    with session_scope(settings.database_url) as session:
        headers = {"Authorization": "Bearer " + accounts.create_token(session, "cad", "dispatcher")}
    for name, (phone, email, language, channels) in RESIDENTS.items():
        body = {"name": name, "language": language, "channels": channels, "locations": HOME}
        body.update({k: v for k, v in (("phone", phone), ("email", email)) if v})
        response = client.post("/api/v1/subscribers", headers=headers, json=body)
        assert response.status_code == 201, response.get_json()
    with session_scope(settings.database_url) as session:
        opt_out(session, "di@example.org", "email", "api", None, utcnow())
    return settings, client, headers


def send(client, headers, settings) -> int:
    created = client.post("/api/v1/alerts", headers=headers, json=ALERT)
    assert created.status_code == 201, created.get_json()
    alert_id = created.get_json()["id"]
    approve_as_second_person(client, settings.database_url, alert_id)  # an alert to everyone
    assert client.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 202
    TocsinSimpleWorker(list(QUEUES), connection=redis_connection(settings)).work(burst=True)
    return alert_id


def deliveries(client, headers, alert_id) -> dict:
    items = client.get(f"/api/v1/alerts/{alert_id}/deliveries?per_page=100",
                       headers=headers).get_json()["items"]
    return {(d["channel"], d["address"]): d for d in items}


def test_sms_voice_and_email_reach_each_resident_on_the_channels_they_chose(
        world, twilio_standin, smtp):
    settings, client, headers = world
    alert_id = send(client, headers, settings)

    rows = deliveries(client, headers, alert_id)
    assert {key: d["status"] for key, d in rows.items()} == {
        ("sms", "+16172531000"): "sent", ("voice", "+16172531000"): "sent",
        ("email", "ana@example.org"): "sent", ("voice", "+16172531001"): "sent",
        ("email", "cy@example.org"): "sent", ("sms", "+16172531003"): "sent",
        ("email", "di@example.org"): "skipped"}

    texts = {r.form["To"]: r.form["Body"] for r in twilio_standin.requests
             if r.path.endswith("/Messages.json")}
    assert TEXTS["es"] in texts["+16172531000"] and TEXTS["en"] in texts["+16172531003"]
    calls = {r.form["To"]: r.form for r in twilio_standin.requests if r.path.endswith("/Calls.json")}
    assert set(calls) == {"+16172531000", "+16172531001"}
    assert all(form["MachineDetection"] == "DetectMessageEnd" for form in calls.values())

    mails = {m.rcpt_tos[0]: m.message for m in smtp.messages}
    assert set(mails) == {"ana@example.org", "cy@example.org"}  # Di opted out of email
    assert mails["ana@example.org"]["Content-Language"] == "es"
    assert TEXTS["es"] in mails["ana@example.org"].get_body(("plain",)).get_content()
    assert mails["cy@example.org"]["Content-Language"] == "fr"
    assert mails["cy@example.org"]["Subject"].startswith("Alerte grave")

    # Ana answers the call: Spanish TwiML; she presses 1.
    url = urlsplit(calls["+16172531000"]["Url"])
    assert f"{url.scheme}://{url.netloc}" == settings.public_url
    assert not url.query.removeprefix("d=").isdigit()  # a signed token, not the bare id
    path = f"{url.path}?{url.query}"
    root = etree.fromstring(signed_post(client, path, {"CallSid": rows[
        ("voice", "+16172531000")]["provider_id"], "AnsweredBy": "human"}, settings).data)
    assert root.find("Say").get("language") == "es-US"
    assert root.findall("Say")[1].text == TEXTS["es"]
    signed_post(client, path, {"Digits": "1"}, settings)

    # Cy confirms with the link in her email.
    page = lxml_html.document_fromstring(mails["cy@example.org"].get_body(("html",)).get_content())
    [ack] = [a.get("href") for a in page.iter("a") if "/email/ack/" in a.get("href")]
    assert client.post(urlsplit(ack).path).status_code == 200

    rows = deliveries(client, headers, alert_id)
    assert rows[("voice", "+16172531000")]["acknowledged_at"] is not None
    assert rows[("email", "cy@example.org")]["acknowledged_at"] is not None
    stats = client.get(f"/api/v1/alerts/{alert_id}", headers=headers).get_json()["stats"]
    assert stats["acknowledged"] == 2


def test_the_unsubscribe_link_stops_the_next_alert_s_email_and_only_email(
        world, twilio_standin, smtp):
    settings, client, headers = world
    send(client, headers, settings)
    [mail] = [m.message for m in smtp.messages if m.rcpt_tos == ["ana@example.org"]]
    https = re.search(r"<(https://[^>]+)>", mail["List-Unsubscribe"]).group(1)
    path = urlsplit(https).path

    assert client.get(path).status_code == 200  # a link scanner: nothing happens
    second = send(client, headers, settings)
    assert ("email", "ana@example.org") in {
        k for k, d in deliveries(client, headers, second).items() if d["status"] == "sent"}

    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    smtp_before = len(smtp.messages)
    third = send(client, headers, settings)

    rows = deliveries(client, headers, third)
    assert rows[("email", "ana@example.org")]["status"] == "skipped"
    assert rows[("sms", "+16172531000")]["status"] == "sent"
    assert rows[("voice", "+16172531000")]["status"] == "sent"
    assert [m.rcpt_tos for m in smtp.messages[smtp_before:]] == [["cy@example.org"]]
