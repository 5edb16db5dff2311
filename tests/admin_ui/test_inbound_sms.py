"""`/webhooks/twilio/sms` through the real app, signed like Twilio: whole conversations, replays,
forgeries, and STOP/START/21610/YES against alerts sent by in-process workers."""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin_ui import create_app
from notifier import accounts
from notifier.db import session_scope
from notifier.models import AuditEvent, Consent, InboundMessage, OptOut, Subscriber, Zone
from tests.support.fixtures import TWILIO_FROM_NUMBER, approve_as_second_person
from tests.support.twilio_signing import sign, signed_post
from workers.guard import TocsinSimpleWorker
from workers.queues import QUEUES, redis_connection

PATH = "/webhooks/twilio/sms"
ANA, BEN = "+16172531000", "+16172531001"
_sids = itertools.count(1)


@pytest.fixture
def client(twilio_settings):
    return create_app(twilio_settings).test_client()


def post(client, settings, body, frm=ANA, sid=None):
    params = {"MessageSid": sid or f"SM{next(_sids):032x}", "AccountSid": settings.twilio_account_sid,
              "From": frm, "To": TWILIO_FROM_NUMBER, "Body": body, "NumSegments": "1"}
    return signed_post(client, PATH, params, settings)


def reply_of(response) -> str | None:
    """The text of the TwiML <Message>, or None for an empty <Response/>."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text if messages else None


def count(settings, model) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(func.count()).select_from(model))


CONVERSATIONS = {
    "english then spanish, stop and back": [
        ("START", "Tocsin demo: You are subscribed to emergency alerts. Msg frequency varies."),
        ("  Help! ", "Reply STOP to opt out"),
        ("ESPANOL", "A partir de ahora recibirá las alertas en español."),
        ("ayuda", "Alertas de emergencia."),
        ("stop.", "Se canceló su suscripción"),
        ("HELP", None), ("¿Hay refugio?", None), ("STOP", None),
        ("alta", "Está suscrito a las alertas de emergencia."),
    ],
    "zones": [
        ("JOIN beat-3", "You will receive alerts for Beat 3."),
        ("Harbor", "You will receive alerts for Harbor Area."),
        ("join 99999", 'We could not find the area "99999"'),
        ("UNSUBSCRIBE", "You are unsubscribed"),
    ],
    "languages in their own script": [
        ("中文", "今后您将收到中文警报。"), ("TIẾNG VIỆT", "tiếng Việt"), ("한국어", "한국어로"),
        ("РУССКИЙ", "на русском языке"), ("العربية", "باللغة العربية"), ("Kreyòl", "an kreyòl"),
        ("Português", "em português"), ("Français", "en français"), ("tagalog", "sa Tagalog"),
        ("English", "in English"), ("停止", "您已退订"),
    ],
    "questions go to the inbox": [
        ("Is the shelter open?", "We received your message. For emergencies call 911."),
        ("Hello??", None),
        ("Opt Out", "You are unsubscribed"),
    ],
}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_a_resident_does_everything_by_text(client, twilio_settings, name):
    with session_scope(twilio_settings.database_url) as session:
        session.add(Zone(code="beat-3", name="Beat 3", keywords=["BEAT3"]))
        session.add(Zone(code="harbor", name="Harbor Area", keywords=[]))
    for sent, expected in CONVERSATIONS[name]:
        got = reply_of(post(client, twilio_settings, sent))
        if expected is None:
            assert got is None, (sent, got)
        else:
            assert got is not None and expected in got, (sent, got)
        pass_time(twilio_settings, minutes=3)  # a person types slower than the rate limit


def pass_time(settings, minutes: int) -> None:
    """Move every recorded text `minutes` into the past, as if the resident had paused."""
    with session_scope(settings.database_url) as session:
        for message in session.scalars(select(InboundMessage)):
            message.at -= timedelta(minutes=minutes)


def test_replies_to_one_number_stop_after_five_in_ten_minutes(client, twilio_settings):
    replies = [reply_of(post(client, twilio_settings, "HELP")) for _ in range(7)]
    assert [r is not None for r in replies] == [True] * 5 + [False] * 2
    assert count(twilio_settings, InboundMessage) == 7  # every text is still recorded
    assert reply_of(post(client, twilio_settings, "HELP", frm=BEN)) is not None  # per number
    pass_time(twilio_settings, minutes=11)
    assert reply_of(post(client, twilio_settings, "HELP")) is not None


def test_a_repeated_message_sid_gets_an_empty_response_and_changes_nothing(client, twilio_settings):
    assert "subscribed" in reply_of(post(client, twilio_settings, "START", sid="SMretry"))
    again = post(client, twilio_settings, "STOP", sid="SMretry")
    assert reply_of(again) is None
    assert count(twilio_settings, InboundMessage) == 1
    assert count(twilio_settings, OptOut) == 0


@pytest.mark.parametrize("headers", [
    {}, {"X-Twilio-Signature": "forged"},
    "signed for another url", "signed with another token",
])
def test_an_unsigned_or_forged_text_is_403_and_nothing_is_recorded(client, twilio_settings, headers):
    params = {"MessageSid": "SMforged", "From": ANA, "To": TWILIO_FROM_NUMBER, "Body": "STOP"}
    if headers == "signed for another url":
        headers = {"X-Twilio-Signature": sign("https://evil.example/webhooks/twilio/sms", params,
                                              twilio_settings.twilio_auth_token)}
    elif headers == "signed with another token":
        headers = {"X-Twilio-Signature": sign(twilio_settings.public_url + PATH, params, "0" * 32)}
    response = client.post(PATH, data=params, headers=headers)
    assert response.status_code == 403
    for model in (InboundMessage, OptOut, Subscriber, AuditEvent):
        assert count(twilio_settings, model) == 0


# --- against real alerts: RQ workers in-process, the Twilio stand-in over HTTP -----------------

ALERT = {"headline": "Boil water", "event": "Boil Water Advisory",
         "messages": {"en": "Boil tap water before drinking.", "es": "Hierva el agua del grifo."},
         "category": "Health", "severity": "Moderate", "urgency": "Expected",
         "certainty": "Likely", "status": "Actual", "msg_type": "Alert",
         "area": {"description": "Town", "everyone": True}, "channels": ["sms"]}


@pytest.fixture
def live(twilio_env, twilio_settings, twilio_standin, monkeypatch, client):
    """send_alert(**overrides) → (alert id, numbers the stand-in was asked to text)."""
    for name, value in twilio_env.items():  # the jobs read their settings from the environment
        monkeypatch.setenv(name, value)
    with session_scope(twilio_settings.database_url) as session:
        headers = {"Authorization": "Bearer " + accounts.create_token(session, "cad", "dispatcher")}

    def send_alert(fail=None, **overrides):
        twilio_standin.reset()
        if fail:
            twilio_standin.fail(fail, status=400, code=21610)
        created = client.post("/api/v1/alerts", headers=headers, json={**ALERT, **overrides})
        assert created.status_code == 201, created.get_json()
        alert_id = created.get_json()["id"]
        approve_as_second_person(client, twilio_settings.database_url, alert_id)  # to everyone
        assert client.post(f"/api/v1/alerts/{alert_id}/send", headers=headers).status_code == 202
        TocsinSimpleWorker(list(QUEUES), connection=redis_connection(twilio_settings)).work(burst=True)
        texted = sorted(r.form["To"] for r in twilio_standin.requests
                        if r.path.endswith("/Messages.json"))
        return alert_id, texted

    def stats(alert_id):
        return client.get(f"/api/v1/alerts/{alert_id}", headers=headers).get_json()["stats"]

    send_alert.stats = stats
    return send_alert


def test_after_stop_an_alert_skips_the_number_and_start_restores_it(client, twilio_settings, live):
    for number in (ANA, BEN):
        assert "subscribed" in reply_of(post(client, twilio_settings, "START", frm=number))
    assert "unsubscribed" in reply_of(post(client, twilio_settings, "STOP", frm=BEN))

    alert_id, texted = live()
    assert texted == [ANA]  # nothing at all reached Ben
    assert live.stats(alert_id)["channels"]["sms"]["skipped"] == 1

    assert "subscribed" in reply_of(post(client, twilio_settings, "START", frm=BEN))
    _, texted = live()
    assert texted == [ANA, BEN]


def test_twilio_21610_on_a_send_opts_the_number_out_for_later_alerts(client, twilio_settings, live):
    for number in (ANA, BEN):
        post(client, twilio_settings, "START", frm=number)
    alert_id, texted = live(fail=BEN)  # Twilio: "Attempt to send to unsubscribed recipient"
    assert texted == [ANA, BEN]
    assert live.stats(alert_id)["channels"]["sms"]["failed"] == 1
    with session_scope(twilio_settings.database_url) as session:
        ledger = session.get(OptOut, (BEN, "sms"))
        assert ledger is not None and ledger.source == "carrier"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "subscriber.opt_out")).one()
        assert event.actor == "carrier"

    alert_id, texted = live(fail=BEN)
    assert texted == [ANA]  # the stand-in was not even asked
    assert live.stats(alert_id)["channels"]["sms"]["skipped"] == 1


def test_yes_after_a_confirm_alert_counts_as_acknowledged(client, twilio_settings, twilio_standin,
                                                          live):
    for number in (ANA, BEN):
        post(client, twilio_settings, "START", frm=number)
    alert_id, texted = live(confirm=True)
    assert texted == [ANA, BEN]
    sent = {r.form["To"]: r.form["Body"] for r in twilio_standin.requests}
    assert "Reply YES to confirm." in sent[ANA]

    assert "your confirmation was received" in reply_of(post(client, twilio_settings, "Yes!"))
    assert live.stats(alert_id)["acknowledged"] == 1
    # An acknowledgement is no new consent: the only consents are the two STARTs.
    assert count(twilio_settings, Consent) == 2
    assert "your confirmation was received" in reply_of(post(client, twilio_settings, "1", frm=BEN))
    assert live.stats(alert_id)["acknowledged"] == 2
